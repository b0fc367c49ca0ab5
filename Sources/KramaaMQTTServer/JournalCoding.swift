import KramaaBroker
import KramaaMQTT

/// The byte form of journal changes (MQTT's own data representations: strings, binary data,
/// variable byte integers and a property block for a message's properties), one tag byte per
/// change kind. Version 1.
enum JournalCoding {
    static func encode(_ change: JournalChange, into w: inout MQTTWriter) {
        switch change {
        case .session(let id, let principal, let expiry, let at):
            w.byte(1); w.string(id); principalTo(&w, principal); w.uint32(expiry); optionalUInt64(&w, at)
        case .sessionRemoved(let id):
            w.byte(2); w.string(id)
        case .subscribed(let id, let sub):
            w.byte(3); w.string(id); subscriptionTo(&w, sub)
        case .unsubscribed(let id, let key):
            w.byte(4); w.string(id); w.string(key)
        case .queued(let id, let d):
            w.byte(5); w.string(id); uint64(&w, d.sequence); messageTo(&w, d.message)
            w.variableInteger(d.subscriptionIdentifiers.count)
            for i in d.subscriptionIdentifiers { w.variableInteger(i) }
        case .sent(let id, let sequence, let packet):
            w.byte(6); w.string(id); uint64(&w, sequence); w.uint16(packet)
        case .released(let id, let sequence):
            w.byte(7); w.string(id); uint64(&w, sequence)
        case .completed(let id, let sequence):
            w.byte(8); w.string(id); uint64(&w, sequence)
        case .incomingQoS2(let id, let packet, let pending):
            w.byte(9); w.string(id); w.uint16(packet); w.byte(pending ? 1 : 0)
        case .retained(let topic, let message):
            w.byte(10); w.string(topic)
            if let message { w.byte(1); messageTo(&w, message) } else { w.byte(0) }
        }
    }

    static func decode(_ r: inout MQTTReader) throws(MQTTDecodingError) -> JournalChange {
        switch try r.byte() {
        case 1: return .session(clientID: try r.string(), principal: try principal(&r), expiryInterval: try r.uint32(), disconnectedAt: try optionalUInt64(&r))
        case 2: return .sessionRemoved(clientID: try r.string())
        case 3: return .subscribed(clientID: try r.string(), try subscription(&r))
        case 4: return .unsubscribed(clientID: try r.string(), key: try r.string())
        case 5:
            let id = try r.string(), sequence = try uint64(&r), message = try message(&r)
            var identifiers: [Int] = []
            for _ in 0..<(try r.variableInteger()) { identifiers.append(try r.variableInteger()) }
            return .queued(clientID: id, PersistedDelivery(sequence: sequence, message: message, subscriptionIdentifiers: identifiers))
        case 6: return .sent(clientID: try r.string(), sequence: try uint64(&r), packetIdentifier: try r.uint16())
        case 7: return .released(clientID: try r.string(), sequence: try uint64(&r))
        case 8: return .completed(clientID: try r.string(), sequence: try uint64(&r))
        case 9: return .incomingQoS2(clientID: try r.string(), packetIdentifier: try r.uint16(), pending: try r.byte() == 1)
        case 10:
            let topic = try r.string()
            return .retained(topic: topic, try r.byte() == 1 ? try message(&r) : nil)
        case let tag: throw .malformed("journal change kind \(tag)")
        }
    }

    static func uint64(_ w: inout MQTTWriter, _ v: UInt64) {
        w.uint32(UInt32(v >> 32)); w.uint32(UInt32(truncatingIfNeeded: v))
    }

    static func uint64(_ r: inout MQTTReader) throws(MQTTDecodingError) -> UInt64 {
        UInt64(try r.uint32()) << 32 | UInt64(try r.uint32())
    }

    private static func optionalUInt64(_ w: inout MQTTWriter, _ v: UInt64?) {
        if let v { w.byte(1); uint64(&w, v) } else { w.byte(0) }
    }

    private static func optionalUInt64(_ r: inout MQTTReader) throws(MQTTDecodingError) -> UInt64? {
        try r.byte() == 1 ? try uint64(&r) : nil
    }

    private static func principalTo(_ w: inout MQTTWriter, _ p: Principal) { w.string(p.name); w.string(p.mountPoint); w.string(p.group) }
    private static func principal(_ r: inout MQTTReader) throws(MQTTDecodingError) -> Principal {
        Principal(name: try r.string(), mountPoint: try r.string(), group: try r.string())
    }

    private static func subscriptionTo(_ w: inout MQTTWriter, _ s: Subscription) {
        w.string(s.filter)
        w.string(s.shareGroup ?? "")
        w.byte(s.qos | (s.noLocal ? 0x04 : 0) | (s.retainAsPublished ? 0x08 : 0) | s.retainHandling << 4)
        w.variableInteger(s.identifier ?? 0)
    }

    private static func subscription(_ r: inout MQTTReader) throws(MQTTDecodingError) -> Subscription {
        let filter = try r.string(), group = try r.string(), options = try r.byte(), id = try r.variableInteger()
        return Subscription(filter: filter, shareGroup: group.isEmpty ? nil : group, qos: options & 0x03, noLocal: options & 0x04 != 0,
                            retainAsPublished: options & 0x08 != 0, retainHandling: options >> 4 & 0x03, identifier: id == 0 ? nil : id)
    }

    static func messageTo(_ w: inout MQTTWriter, _ m: BrokerMessage) {
        w.string(m.topic)
        w.byte(m.qos | (m.retain ? 0x04 : 0))
        optionalUInt64(&w, m.expiresAt)
        w.string(m.origin ?? "")
        m.properties.write(to: &w)
        w.variableInteger(m.payload.count)
        w.append(m.payload)
    }

    static func message(_ r: inout MQTTReader) throws(MQTTDecodingError) -> BrokerMessage {
        let topic = try r.string(), flags = try r.byte(), expires = try optionalUInt64(&r), origin = try r.string()
        let properties = try MQTTProperties(reading: &r)
        let payload = try r.bytes(try r.variableInteger())
        return BrokerMessage(topic: topic, payload: payload, qos: flags & 0x03, retain: flags & 0x04 != 0,
                             properties: properties, expiresAt: expires, origin: origin.isEmpty ? nil : origin)
    }
}
