import KramaaJSON

extension EPCISHashNode {
    /// The prefixes every EPCIS 2.0 JSON-LD document may use, whatever its `@context` says.
    static let wellKnownPrefixes: [String: String] = [
        "gs1": "https://gs1.org/voc/",
        "cbv": "https://ref.gs1.org/cbv/",
        "epcis": "https://ref.gs1.org/epcis/",
        "cbvmda": "urn:epcglobal:cbv:mda:",
    ]

    /// The members of a JSON-LD event as hash nodes (the event's own name is its `type`).
    ///
    /// Member names with a context prefix become `{namespace}local`; values that are bare CBV terms
    /// (`shipping`) or GS1/CBV CURIEs (`cbv:BizStep-shipping`) become Web URIs; lists are renamed to
    /// the XML shape (`epcList` → `epc`, `quantityList` → `quantityElement`, …).
    static func eventChildren(of event: EPCISEvent) -> [EPCISHashNode] {
        guard case .object(let object) = event.json else { return [] }
        var reader = JSONReader(prefixes: prefixes(of: event.contextJSON), vocabulary: vocabularyValues(of: event))
        var root = EPCISHashNode(name: event.type.name, children: reader.children(of: object))
        root.correctStructure()
        return root.children
    }

    /// Prefix → namespace from the `@context` objects (URL contexts add nothing beyond the well-known ones).
    static func prefixes(of context: JSON?) -> [String: String] {
        var prefixes = wellKnownPrefixes
        func add(_ context: JSON) {
            switch context {
            case .object(let definitions):
                for (term, definition) in definitions {
                    if case .string(let iri) = definition { prefixes[term] = iri }
                }
            case .array(let list): list.forEach(add)
            default: break
            }
        }
        if let context { add(context) }
        return prefixes
    }

    /// The Web URIs of the event's CBV-typed values: a bare string elsewhere in the event that names
    /// exactly one of them (`…/BizStep-shipping` for `shipping`) is read as that URI, as JSON-LD expansion does.
    static func vocabularyValues(of event: EPCISEvent) -> [String] {
        var values: [String] = []
        func add(_ value: String?) {
            guard let value, value.hasPrefix("https://ref.gs1.org/cbv") || value.hasPrefix("https://gs1.org/voc")
                || value.hasPrefix("https://ref.gs1.org/voc"), !values.contains(value)
            else { return }
            values.append(value)
        }
        add(event.bizStep)
        add(event.disposition)
        event.persistentDispositionSet.forEach(add)
        event.persistentDispositionUnset.forEach(add)
        for reference in event.bizTransactionList + event.sourceList + event.destinationList { add(reference.type) }
        for element in event.sensorElementList {
            for report in element.reports {
                add(report.type)
                add(report.exception)
                add(report.component)
            }
        }
        add(event.errorDeclaration?.reason)
        return values
    }

    /// Fixes the differences between the JSON and XML shapes of an event, bottom-up.
    mutating func correctStructure() {
        var lists: [(name: String, members: [EPCISHashNode])] = []
        var childEPCs: [EPCISHashNode] = []
        var kept: [EPCISHashNode] = []
        kept.reserveCapacity(children.count)
        for child in children {
            if child.name.hasSuffix("List") {
                var member = child
                member.name = String(child.name.dropLast(4))
                if let index = lists.firstIndex(where: { $0.name == child.name }) {
                    lists[index].members.append(member)
                } else {
                    lists.append((child.name, [member]))
                }
            } else if child.name == "childEPCs" {
                childEPCs.append(EPCISHashNode(name: "epc", text: child.text))
            } else {
                kept.append(child)
            }
        }
        for list in lists { kept.append(EPCISHashNode(name: list.name, children: list.members)) }
        if !childEPCs.isEmpty { kept.append(EPCISHashNode(name: "childEPCs", children: childEPCs)) }
        for index in kept.indices { kept[index].correctStructure() }
        children = kept
        correctNode()
    }

    private mutating func correctNode() {
        switch name {
        case "readPoint", "bizLocation":
            if children.isEmpty, !text.isEmpty { self = EPCISHashNode(name: name, children: [EPCISHashNode(name: "id", text: text)]) }
        case "bizTransaction", "source", "destination":
            guard !isTypedReference, let valueIndex = children.firstIndex(where: { $0.name == name }) else { return }
            let type = children.first { $0.name == "type" }?.text
            self = .typedReference(name, type: type, value: children[valueIndex].text)
        case "inputEPC", "outputEPC":
            name = "epc"
        case "inputQuantity", "outputQuantity", "childQuantity":
            name = "quantityElement"
        case "quantity" where !children.isEmpty:
            name = "quantityElement"
        default:
            break
        }
    }
}

/// Reads JSON values into hash nodes with one event's prefixes and CBV values.
private struct JSONReader {
    let prefixes: [String: String]
    let vocabulary: [String]

    /// Members that never take part in the hash, at any depth.
    static let ignoredMembers: Set<String> = ["#text", "rdfs:comment", "comment"]

    mutating func children(of object: JSONObject) -> [EPCISHashNode] {
        var nodes: [EPCISHashNode] = []
        nodes.reserveCapacity(object.count)
        for (key, value) in object {
            if Self.ignoredMembers.contains(key) || key.hasPrefix("@xmlns") { continue }
            let name = expandedName(key)
            if case .array(let items) = value {
                for item in items {
                    let (text, children) = read(item)
                    nodes.append(EPCISHashNode(name: name, text: text, children: children))
                }
            } else {
                let (text, children) = read(value)
                nodes.append(EPCISHashNode(name: name, text: text, children: children))
            }
        }
        return nodes
    }

    mutating func read(_ value: JSON) -> (String, [EPCISHashNode]) {
        switch value {
        case .object(let object):
            var text = ""
            if case .string(let inner)? = object["#text"] { text = inner }
            return (text, children(of: object))
        case .array(let items):
            return ("", items.map { item in
                let (text, children) = read(item)
                return EPCISHashNode(name: "", text: text, children: children)
            })
        case .string(let string): return (expandedValue(string), [])
        case .number(let number): return (number.text, [])
        case .bool(let flag): return (flag ? "true" : "false", [])
        case .null: return ("None", [])
        }
    }

    /// `prefix:local` → `{namespace}local` when the prefix is defined.
    func expandedName(_ key: String) -> String {
        guard let colon = key.utf8.firstIndex(of: UInt8(ascii: ":")),
              let namespace = prefixes[String(key[..<colon])]
        else { return key }
        return "{" + namespace + "}" + key[key.index(after: colon)...]
    }

    /// A bare CBV term → its Web URI; a GS1/CBV CURIE → the full URI; anything else as written.
    func expandedValue(_ value: String) -> String {
        if !vocabulary.isEmpty {
            var match: String?
            var matches = 0
            for candidate in vocabulary where candidate.utf8.count > value.utf8.count && candidate.hasSuffix(value) {
                let before = candidate.utf8[candidate.utf8.index(candidate.utf8.endIndex, offsetBy: -value.utf8.count - 1)]
                if before == UInt8(ascii: "-") || before == UInt8(ascii: "/") {
                    match = candidate
                    matches += 1
                }
            }
            if matches == 1, let match { return match }
        }
        guard let colon = value.utf8.firstIndex(of: UInt8(ascii: ":")),
              let namespace = prefixes[String(value[..<colon])],
              namespace.hasPrefix("https://ref.gs1.org") || namespace.hasPrefix("https://gs1.org")
        else { return value }
        return namespace + value[value.index(after: colon)...]
    }
}
