import KramaaGS1

/// Builds the pre-hash string of one event tree (GS1 CBV 2.0 "EPCIS Event Hash ID"):
/// `eventType=<type>`, then the standard fields in the canonical property order (values of one
/// field sorted), then everything else (ilmd, the typed-reference lists, user extensions) sorted.
///
/// Mirrors the reference implementation's rules exactly, including its quirks: a field that
/// keeps children the order does not name (an extension inside `readPoint` whose namespace does
/// not end in `/`, say) is written once more in the trailing part with those children.
struct EPCISPreHashBuilder {
    /// Event-level members that never take part in the hash.
    static let ignoredEventFields: Set<String> = ["recordTime", "eventID", "type", "errorDeclaration", "@context"]

    /// Further event-level members to leave out (the reference implementation's `ignoreFields` extension).
    var ignoredFields: Set<String> = []

    /// Normalises the identifiers the event names (shared by the events of one document).
    var links = CanonicalDigitalLink.Memo()

    /// The pre-hash string of `event` (`eventType` is the event's type name).
    func preHash(eventType: String, children: [EPCISHashNode]) -> String {
        var children = children
        if !ignoredFields.isEmpty { children.removeAll { ignoredFields.contains($0.name) } }
        var out = "eventType=" + eventType
        out.reserveCapacity(512)
        ordered(&children, EPCISPropertyOrder.event, into: &out)
        children.removeAll { Self.ignoredEventFields.contains($0.name) }
        generic(children, into: &out)
        return out
    }

    /// Writes the children named by `order`, field by field, each field's strings sorted; removes
    /// every child that has nothing left to write. Extensions directly inside a standard field
    /// (not the event itself) follow that field's standard children.
    private func ordered(_ children: inout [EPCISHashNode], _ order: [EPCISPropertyOrder], into out: inout String) {
        let extensions = gatherUserExtensions(&children)
        var values: [String] = []
        for field in order {
            values.removeAll(keepingCapacity: true)
            var index = 0
            while index < children.count {
                guard children[index].name == field.name, !children[index].isTypedReference else {
                    index += 1
                    continue
                }
                let text = childString(&children[index], field.children)
                if !text.isEmpty { values.append(text) }
                if children[index].children.isEmpty { children.remove(at: index) } else { index += 1 }
            }
            if values.count > 1 { values.sort(by: Self.precedes) }
            for value in values { out += value }
        }
        if !extensions.isEmpty { generic(extensions, into: &out) }
    }

    /// `name=value` (value canonical) followed by the ordered children, or "" when both are empty.
    private func childString(_ child: inout EPCISHashNode, _ order: [EPCISPropertyOrder]?) -> String {
        var grandChildren = ""
        if let order { ordered(&child.children, order, into: &grandChildren) }
        let value = EPCISHashValue.trimmed(child.text)
        var text = ""
        if !value.isEmpty {
            text = Self.isTimeField(child.name) ? EPCISHashValue.timestamp(value) : EPCISHashValue.canonical(value, links: links)
        }
        guard !text.isEmpty || !grandChildren.isEmpty else { return "" }
        return text.isEmpty ? child.name + grandChildren : child.name + "=" + text + grandChildren
    }

    /// Extensions (`{…/}name`) directly inside a standard field with more than one child.
    private func gatherUserExtensions(_ children: inout [EPCISHashNode]) -> [EPCISHashNode] {
        guard children.count > 1 else { return [] }
        for child in children where child.name.containsCodePoints("eventTime") || child.name.containsCodePoints("action") { return [] }
        var extensions: [EPCISHashNode] = []
        children.removeAll { child in
            guard !child.isTypedReference, Self.isUserExtensionName(child.name) else { return false }
            extensions.append(child)
            return true
        }
        return extensions
    }

    /// Writes `children` and their descendants, each `name[=value]`, siblings sorted (except
    /// beside a raw bizTransaction, source or destination, whose order is kept).
    private func generic(_ children: [EPCISHashNode], into out: inout String) {
        if children.count == 1 {
            out += entry(children[0])
            return
        }
        var values = children.map(entry)
        if children.count > 1, !children.contains(where: { !$0.isTypedReference && EPCISHashNode.typedReferenceNames.contains($0.name) }) {
            values.sort(by: Self.precedes)
        }
        for value in values { out += value }
    }

    private func entry(_ child: EPCISHashNode) -> String {
        if child.isTypedReference {
            var text = ""
            if let type = child.referenceType { text = "type=" + EPCISHashValue.canonical(EPCISHashValue.trimmed(type), links: links) }
            let value = EPCISHashValue.trimmed(child.text)
            text += value.isEmpty ? child.name : child.name + "=" + EPCISHashValue.canonical(value, links: links)
            return text
        }
        let value = EPCISHashValue.trimmed(child.text)
        var text = value.isEmpty ? child.name : child.name + "=" + EPCISHashValue.canonical(value, links: links)
        if !child.children.isEmpty { generic(child.children, into: &text) }
        return text
    }

    /// Names holding `time` (not `offset`, any case) carry timestamps.
    static func isTimeField(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.containsCodePoints("time") && !lower.containsCodePoints("offset")
    }

    /// `{https://example.com/ns/}field`: an extension whose namespace ends in `/`.
    static func isUserExtensionName(_ name: String) -> Bool {
        name.containsCodePoints("{") && name.containsCodePoints("/}")
    }

    /// Code-point order, as the reference sorts strings.
    static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }
}
