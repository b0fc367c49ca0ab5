import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Why bytes could not be read as an EPCIS 2.0 XML document.
public enum EPCISXMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The XML parser stopped (line, column and its message).
    case malformedXML(line: Int, column: Int, message: String)
    /// The document has no `EventList` element (EPCISBody/EventList, or the query results' resultsBody/EventList).
    case noEventList

    public var description: String {
        switch self {
        case .malformedXML(let line, let column, let message):
            "the document is not well-formed XML (line \(line), column \(column)): \(message)"
        case .noEventList:
            "the XML document has no EventList element: an EPCISDocument needs EPCISBody/EventList, an EPCISQueryDocument EPCISBody/QueryResults/resultsBody/EventList"
        }
    }
}

/// An EPCIS 2.0 (or 1.x) XML document read into hash events, for the EPCIS event hash.
///
/// Elements become ``EPCISHashNode``s named `{namespace}local` (or the bare local name), attributes
/// become children, `<extension>`/`<baseExtension>` wrappers are dropped, GS1/CBV CURIE values
/// (`gs1:…`, `cbv:…`) are expanded, and each bizTransaction, source and destination becomes a typed
/// reference, so that an event gives the pre-hash of its JSON-LD rendering.
public struct EPCISXMLDocument: Sendable {
    /// The events of the EventList, in document order.
    public var events: [EPCISHashEvent]
    /// Event members the document asks to leave out of the hash: the reference implementation's
    /// document-level `{https://repository-x.example.com/}ignoreFields` list (not part of CBV 2.0).
    public var ignoredFields: Set<String>

    /// The element naming the fields to ignore (reference implementation extension).
    public static let ignoreFieldsElement = "{https://repository-x.example.com/}ignoreFields"

    public init(bytes: [UInt8]) throws(EPCISXMLError) {
        let builder = XMLTreeBuilder()
        let parser = XMLParser(data: Data(bytes))
        parser.shouldProcessNamespaces = true
        parser.shouldReportNamespacePrefixes = true
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            throw .malformedXML(
                line: parser.lineNumber, column: parser.columnNumber,
                message: builder.failure ?? parser.parserError.map { "\($0.localizedDescription)" } ?? "no root element")
        }
        ignoredFields = Set(root.children.filter { $0.name == Self.ignoreFieldsElement }.flatMap { $0.children.map(\.name) })
        guard let eventList = Self.find("EventList", in: root) else { throw .noEventList }
        events = eventList.children.map { EPCISHashEvent(type: $0.name, children: $0.children.map(Self.expandingPrefixes)) }
    }

    /// The pre-hash string of every event, in document order.
    public var eventPreHashes: [String] { events.map { EPCISEventHash.preHash(of: $0, ignoring: ignoredFields) } }

    /// The EPCIS Event Hash ID of every event, in document order.
    public var eventHashIDs: [String] { events.map { EPCISEventHash.hashID(of: $0, ignoring: ignoredFields) } }

    private static func find(_ name: String, in node: EPCISHashNode) -> EPCISHashNode? {
        for child in node.children {
            if child.name == name { return child }
            if let found = find(name, in: child) { return found }
        }
        return nil
    }

    private static let valuePrefixes: [(prefix: String, namespace: String)] = [
        ("gs1:", "https://gs1.org/voc/"), ("cbv:", "https://ref.gs1.org/cbv/"),
    ]

    /// `gs1:…` and `cbv:…` values as full URIs, throughout.
    private static func expandingPrefixes(_ node: EPCISHashNode) -> EPCISHashNode {
        var node = node
        for (prefix, namespace) in valuePrefixes where node.text.hasPrefix(prefix) {
            node.text = node.text.replacing(prefix, with: namespace)
        }
        if let type = node.referenceType {
            for (prefix, namespace) in valuePrefixes where type.hasPrefix(prefix) {
                node.referenceType = type.replacing(prefix, with: namespace)
            }
        }
        node.children = node.children.map(expandingPrefixes)
        return node
    }
}

/// Builds the element tree from parser callbacks.
private final class XMLTreeBuilder: NSObject, XMLParserDelegate {
    private struct Open {
        var node: EPCISHashNode
        var sawChild = false
        /// `<extension>` / `<baseExtension>`: its children belong to the parent.
        var isWrapper = false
    }

    private var stack: [Open] = []
    private var namespaces: [String: [String]] = [:]
    var root: EPCISHashNode?
    var failure: String?

    func parser(_ parser: XMLParser, didStartMappingPrefix prefix: String, toURI namespaceURI: String) {
        namespaces[prefix, default: []].append(namespaceURI)
    }

    func parser(_ parser: XMLParser, didEndMappingPrefix prefix: String) {
        namespaces[prefix]?.removeLast()
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if !stack.isEmpty { stack[stack.count - 1].sawChild = true }
        let isWrapper = (qualifiedName == "extension" || qualifiedName == "baseExtension") && attributes.isEmpty
        var node = EPCISHashNode(name: Self.name(elementName, namespaceURI))
        for (key, value) in attributes.sorted(by: { $0.key < $1.key }) where !key.hasPrefix("xmlns") {
            node.children.append(EPCISHashNode(name: attributeName(key), text: value))
        }
        stack.append(Open(node: node, isWrapper: isWrapper))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !stack.isEmpty, !stack[stack.count - 1].sawChild else { return }
        stack[stack.count - 1].node.text += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        self.parser(parser, foundCharacters: String(decoding: CDATABlock, as: UTF8.self))
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        guard let open = stack.popLast() else { return }
        var node = open.node
        node.text = EPCISHashValue.trimmed(node.text)
        if EPCISHashNode.typedReferenceNames.contains(node.name), namespaceURI?.isEmpty ?? true {
            node = .typedReference(node.name, type: node.children.first { $0.name == "type" }?.text, value: node.text)
        }
        guard !stack.isEmpty else {
            root = node
            return
        }
        if open.isWrapper {
            stack[stack.count - 1].node.children += node.children
        } else {
            stack[stack.count - 1].node.children.append(node)
        }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) {
        failure = "\(parseError.localizedDescription)"
    }

    private static func name(_ local: String, _ namespace: String?) -> String {
        guard let namespace, !namespace.isEmpty else { return local }
        return "{" + namespace + "}" + local
    }

    /// `prefix:local` attributes as `{namespace}local`; unprefixed ones keep their name.
    private func attributeName(_ key: String) -> String {
        guard let colon = key.firstIndex(of: ":") else { return key }
        let prefix = String(key[..<colon])
        guard let namespace = namespaces[prefix]?.last else { return key }
        return "{" + namespace + "}" + key[key.index(after: colon)...]
    }
}
