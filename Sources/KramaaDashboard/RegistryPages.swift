import KramaaChain
import KramaaEPCIS
import KramaaEPCISIndex
import KramaaEVM
import KramaaJSON
import KramaaNode
import KramaaPlatform
import KramaaPrimitives

/// Pages read from the registries' events: a device with its keys and status history, an
/// organisation's members with their roles, an asset's custody and status changes, one EPCIS event.
extension Dashboard {
    /// The registry's logs about `subject` (an indexed topic in `position`), oldest first.
    func logs(_ contract: Address, topic: Bytes32, subject: Bytes32? = nil, position: Int = 1) -> [LocatedLog] {
        var topics: [[Bytes32]?] = [[topic]]
        if let subject {
            while topics.count < position { topics.append(nil) }
            topics.append([subject])
        }
        return (try? node.logs(LogFilter(fromBlock: 0, toBlock: node.latest.number, addresses: [contract], topics: topics), limit: 1_000)) ?? []
    }

    func blockLink(_ n: UInt64) -> HTML { "<a href=\"/dashboard/blocks/\(n)\">\(n)</a>" }

    /// The last 32-byte word of log data as a number (0 when there is none).
    static func word(_ data: [UInt8]) -> UInt256 {
        data.count >= 32 ? ((try? UInt256(bigEndianBytes: Array(data.suffix(32)))) ?? .zero) : .zero
    }

    /// `/dashboard/devices/{address}`: what the device registry knows of a device, and its history.
    func devicePage(_ id: String) -> Page {
        guard let address = try? Address(hex: id) else { return .error(status: 400, title: "Not a device", message: "\(id) is not an address.") }
        guard let device = try? DeviceClient(reader).device(address), device.registeredAtBlock != 0 else {
            return .error(status: 404, title: "Device not found", message: "No device \(id) is registered on this chain.")
        }
        let subject = Bytes32(UInt256(address))
        var history: [(UInt64, HTML)] = []
        for log in logs(DeviceRegistry.address, topic: DeviceRegistry.Event.registered, subject: subject) {
            history.append((log.blockNumber, "registered by organisation \(organizationLink(device.organization, name: assets.organizationName(device.organization)))"))
        }
        for log in logs(DeviceRegistry.address, topic: DeviceRegistry.Event.statusChanged, subject: subject) {
            let code = Self.word(log.log.data).low64
            history.append((log.blockNumber, "status \(DeviceStatus(rawValue: code).map { "\($0)" } ?? "\(code)")"))
        }
        for log in logs(DeviceRegistry.address, topic: DeviceRegistry.Event.keyRotated, subject: subject) where log.log.topics.count >= 4 {
            history.append((log.blockNumber, "key rotated to \(addressLink(Address(word: UInt256(log.log.topics[3]))))"))
        }
        for log in logs(DeviceRegistry.address, topic: DeviceRegistry.Event.agreementKeySet, subject: subject) {
            history.append((log.blockNumber, "key-agreement key set"))
        }
        for log in logs(DeviceRegistry.address, topic: DeviceRegistry.Event.agreementKeyRevoked, subject: subject) {
            history.append((log.blockNumber, "key-agreement key revoked"))
        }
        let rows = history.sorted { $0.0 < $1.0 }.map { "<tr><td>\(blockLink($0.0))</td><td>\($0.1)</td></tr>" as HTML }
        let key = try? DeviceClient(reader).activeSigningKey(of: address)
        let main: HTML = """
            <h1>Device \(device.model)</h1>
            <dl><dt>Address</dt><dd class="mono">\(address.checksummed)</dd>
            <dt>Organisation</dt><dd>\(organizationLink(device.organization, name: assets.organizationName(device.organization)))</dd>
            <dt>Status</dt><dd>\(device.status.map { "\($0)" } ?? "code \(device.statusCode)")</dd>
            <dt>Signing key</dt><dd class="mono">\(key.map { "\($0.type.rawValue) \($0.address.checksummed)" } ?? "none valid")</dd>
            <dt>Firmware</dt><dd class="mono">\(device.firmwareHash)</dd><dt>Registered in block</dt><dd>\(blockLink(device.registeredAtBlock))</dd>
            \(messagingActivity(address))</dl>
            <h2>History</h2><div class="scroll"><table><thead><tr><th scope="col">Block</th><th scope="col">What</th></tr></thead><tbody>\(rows)</tbody></table></div>
            """
        return Page(title: "Device \(address.checksummed)", main: main)
    }

    /// The device's connections and messages on this node's MQTT server (each node serves its
    /// own clients, so another node may have seen it more recently).
    func messagingActivity(_ device: Address) -> HTML {
        guard let deviceActivity else { return "<dt>Messaging</dt><dd>This node runs no MQTT server.</dd>" }
        let since = Self.time(deviceActivitySince)
        guard let seen = deviceActivity(device) else {
            return "<dt>Last seen</dt><dd>not connected to this node's MQTT server since \(since)</dd>"
        }
        let last = [seen.lastConnected, seen.lastMessage].compactMap { $0 }.max()
        return """
            <dt>Last seen</dt><dd>\(last.map(Self.time) ?? "never")</dd>
            <dt>Messages</dt><dd>\(seen.messages) published in \(seen.connections) connection\(seen.connections == 1 ? "" : "s") to this node since \(since)\(seen.lastMessage.map { ", the latest at \(Self.time($0))" } ?? "")</dd>
            """
    }

    /// An organisation's members with their roles now, from the role changes the registry logged.
    func members(of org: UInt64) -> HTML {
        var latest: [Address: UInt64] = [:]
        for log in logs(OrganizationRegistry.address, topic: OrganizationRegistry.Event.rolesChanged, subject: Bytes32(UInt256(org))) where log.log.topics.count >= 3 {
            latest[Address(word: UInt256(log.log.topics[2]))] = Self.word(log.log.data).low64
        }
        let rows = latest.filter { $0.value != 0 }.sorted { $0.key.checksummed < $1.key.checksummed }.map { member, bits -> HTML in
            let names = OrganizationRoles.named.filter { bits & $0.1.rawValue != 0 }.map(\.0).joined(separator: ", ")
            return "<tr><td>\(addressLink(member))</td><td>\(names.isEmpty ? "roles \(bits)" : names)</td></tr>"
        }
        guard !rows.isEmpty else { return "<p>No members with roles.</p>" }
        return "<div class=\"scroll\"><table><caption class=\"sr\">Members and their roles</caption><thead><tr><th scope=\"col\">Member</th><th scope=\"col\">Roles</th></tr></thead><tbody>\(rows)</tbody></table></div>"
    }

    /// An asset's custody, ownership and status changes, oldest first, as steps of its own.
    func custodySteps(_ token: UInt256) -> HTML {
        let subject = Bytes32(token)
        var steps: [(UInt64, HTML)] = []
        for log in logs(AssetRegistry.address, topic: AssetRegistry.Event.custodyChanged, subject: subject) where log.log.topics.count >= 2 {
            let to = log.log.topics.count >= 4 ? addressLink(Address(word: UInt256(log.log.topics[3]))) : "?"
            steps.append((log.blockNumber, "custody to \(to)"))
        }
        for log in logs(AssetRegistry.address, topic: AssetRegistry.Event.transfer, subject: subject, position: 3) where log.log.topics.count >= 4 {
            let from = Address(word: UInt256(log.log.topics[1])), to = Address(word: UInt256(log.log.topics[2]))
            steps.append((log.blockNumber, from == .zero ? "minted to \(addressLink(to))" : "ownership from \(addressLink(from)) to \(addressLink(to))"))
        }
        for log in logs(AssetRegistry.address, topic: AssetRegistry.Event.statusChanged, subject: subject) {
            let code = Self.word(log.log.data).low64
            steps.append((log.blockNumber, "status \(AssetStatus(rawValue: code).map { "\($0)" } ?? "\(code)")"))
        }
        guard !steps.isEmpty else { return .empty }
        let rows = steps.sorted { $0.0 < $1.0 }.map { "<tr><td>\(blockLink($0.0))</td><td>\($0.1)</td></tr>" as HTML }
        return "<h2>Custody and ownership</h2><div class=\"scroll\"><table><thead><tr><th scope=\"col\">Block</th><th scope=\"col\">Change</th></tr></thead><tbody>\(rows)</tbody></table></div>"
    }

    /// `/dashboard/events/{hash}`: one EPCIS event from the index, with its document as captured.
    func eventPage(_ id: String) -> Page {
        guard let hash = try? Bytes32(hex: id) else { return .error(status: 400, title: "Not an event hash", message: "\(id) is not 0x and 64 hex digits.") }
        guard let index, let entry = (try? index.entry(hash: hash)) ?? nil else {
            return .error(status: 404, title: "Event not found", message: "No EPCIS event \(id) is in this node's index.")
        }
        let ev = entry.event
        let main: HTML = """
            <h1>\(ev.type)\(ev.bizStep.map { " · \(Self.cbvName($0))" } ?? "")</h1>
            <dl><dt>Event hash</dt><dd class="mono">\(entry.hash)</dd><dt>When</dt><dd>\(ev.eventTime)</dd>
            <dt>What</dt><dd class="mono">\((ev.epcList + ev.childEPCs).joined(separator: ", "))\(ev.parentID.map { " in \($0)" } ?? "")</dd>
            <dt>Where</dt><dd class="mono">\(ev.bizLocation ?? ev.readPoint ?? "–")</dd>
            <dt>Who</dt><dd>\(organizationLink(entry.organization, name: assets.organizationName(entry.organization))), recorded by \(addressLink(entry.recorder))</dd>
            <dt>Proof</dt><dd><span class="tag">finalised</span> in block \(blockLink(entry.blockNumber)), transaction <a class="mono" href="/dashboard/tx/\(entry.transactionHash)">\(Self.short(entry.transactionHash))</a></dd></dl>
            <h2>As captured</h2><pre class="mono scroll">\(String(decoding: ev.json.serialized(), as: UTF8.self))</pre>
            """
        return Page(title: "EPCIS event", main: main)
    }
}
