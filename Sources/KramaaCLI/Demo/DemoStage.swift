import Foundation
import KramaaAgent
import KramaaAPI
import KramaaContracts
import KramaaDeviceMessaging
import KramaaJSON
import KramaaMessaging
import KramaaMQTTClient
import KramaaPlatform
import KramaaPrimitives

/// An organisation in a demo: its name, its id on chain and its admin's account (a dev account,
/// whose key the node also holds, so platform writes go through the REST API `from` it).
struct DemoParty {
    let name: String
    let id: UInt64
    let admin: Secp256k1.PrivateKey
    var account: Address { admin.publicKey.address }
}

/// A device in a demo: its key (written to a 0600 key file, with the state its agent keeps beside it).
struct DemoDevice {
    let name: String
    let key: SigningKey
    let keyFile: String
    let party: DemoParty
    var address: Address { key.publicKey.address }
}

/// A demo stopped: what failed, in words.
struct DemoFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Where a scenario plays: the node's REST API and JSON-RPC, the MQTT server its devices'
/// agents connect to, the dev accounts that act for the organisations, and the narration.
/// Every write waits for its block and is narrated with its transaction.
final class DemoStage: @unchecked Sendable {
    let rpcURL: String
    let mqttURL: String
    let node: NodeClient
    let contracts: ContractClient
    let chainId: UInt64
    let narrator: DemoNarrator
    let directory: URL
    /// Dev accounts' keys (the devnet's, publicly known).
    let dev: DevAccounts
    /// Makes names unique on a devnet shared by several runs.
    let runLabel: String
    private var agents: [(task: Task<Void, Never>, messenger: DeviceMessenger)] = []

    init(rpcURL: String, mqttURL: String, directory: URL, narrator: DemoNarrator, devAccounts: Int) throws {
        self.rpcURL = rpcURL
        self.mqttURL = mqttURL
        self.directory = directory
        self.narrator = narrator
        node = try NodeClient(rpcURL)
        contracts = ContractClient(node: node)
        chainId = try RPCHex.decodeQuantity(try node.call("eth_chainId").stringValue ?? "")
        dev = DevAccounts.derived(count: devAccounts)
        runLabel = String(UInt64(Date().timeIntervalSince1970 * 1000) % 1_000_000, radix: 36)
    }

    // MARK: Platform writes (REST)

    /// Calls `/api/v1{path}`; a problem answer becomes the error, with its detail.
    @discardableResult
    func rest(_ method: String, _ path: String, _ body: JSONObject? = nil) throws -> JSON {
        let (status, bytes) = try node.request(method, path: "/api/v1" + path, body: body.map { JSON.object($0).serialized() })
        guard let answer = try? JSON.parse(bytes) else { throw DemoFailure("\(method) \(path): HTTP \(status) without JSON") }
        guard (200..<300).contains(status) else {
            throw DemoFailure("\(answer["title"]?.stringValue ?? "HTTP \(status)"): \(answer["detail"]?.stringValue ?? answer.description)")
        }
        return answer
    }

    /// Registers an organisation whose admin is dev account `account`.
    func organization(_ name: String, account: Int) throws -> DemoParty {
        let admin = dev.keys[account]
        let answer = try rest("POST", "/organizations", ["name": .string("\(name) (\(runLabel))"), "from": .string(admin.publicKey.address.description)])
        guard let id = answer["id"]?.numberValue.flatMap({ UInt64($0.description) }) else { throw DemoFailure("no organisation id in \(answer)") }
        let party = DemoParty(name: name, id: id, admin: admin)
        narrator.say(name, "registers organisation \(id), admin \(party.account.checksummed)", receipt: answer, ["organization": .number(JSONNumber(id))])
        return party
    }

    /// Makes a key of `type` for a device and registers it under `party`.
    func device(_ name: String, of party: DemoParty, type: KeyType, model: String) throws -> DemoDevice {
        let key = SigningKey(generating: type)
        let file = directory.appendingPathComponent("\(name.replacingOccurrences(of: " ", with: "-"))-\(key.publicKey.address).json").path
        try KeyFile(key).write(to: file, overwrite: false)
        let answer = try rest("POST", "/devices", ["organization": .number(JSONNumber(party.id)), "keyType": .string(key.publicKey.type.rawValue),
                                                   "publicKey": .data(key.publicKey.bytes), "model": .string(model),
                                                   "from": .string(party.account.description)])
        let device = DemoDevice(name: name, key: key, keyFile: file, party: party)
        narrator.say(party.name, "registers the \(name) \(device.address.checksummed) (\(type.rawValue) key)", receipt: answer,
                     ["device": .string(device.address.checksummed), "name": .string(name)])
        return device
    }

    /// Sets `device`'s spending policy (docs/DEVICE-POLICIES.md): the calls it may make, the
    /// native coin it may spend per period, fees paid by its organisation.
    func policy(_ device: DemoDevice, calls: [(Address, String)], nativePerPeriod: UInt256 = .zero, period: UInt64 = 0,
                feesSponsored: Bool = true) throws {
        let rules: [JSON] = calls.map { ["target": .string($0.0.description), "selector": .string($0.1)] }
        let answer = try rest("PUT", "/devices/\(device.address)/policy", [
            "nativePerPeriod": .string(nativePerPeriod.description), "period": .number(JSONNumber(period)), "validUntil": 0,
            "feesSponsored": .bool(feesSponsored), "calls": .array(rules), "tokens": [], "from": .string(device.party.account.description)])
        let allowed = calls.map { "\($0.1) on \(String($0.0.checksummed.prefix(10)))…" }.joined(separator: ", ")
        narrator.say(device.party.name, "sets the \(device.name)'s policy: may call \(allowed); \(nativePerPeriod) wei per period"
                     + (feesSponsored ? "; fees sponsored" : ""), receipt: answer)
    }

    /// Lets `from`'s devices publish to `to`'s devices (an on-chain grant by `to`'s admin).
    func allowMessages(from: DemoParty, to: DemoParty) throws {
        let answer = try rest("PUT", "/organizations/\(to.id)/messaging/\(from.id)", ["rights": ["publish"], "from": .string(to.account.description)])
        narrator.say(to.name, "lets \(from.name)'s devices send messages to its devices", receipt: answer)
    }

    // MARK: Contracts (JSON-RPC)

    /// Deploys `contract` from `party`'s admin account.
    func deploy(_ contract: CompiledContract, _ arguments: [ABIValue], by party: DemoParty, value: UInt256 = .zero, _ what: String) throws -> Address {
        let receipt = try contracts.deploy(contract.deployment(arguments), key: party.admin, value: value)
        guard let text = receipt["contractAddress"]?.stringValue, let address = try? Address(hex: text) else {
            throw DemoFailure("the deployment of \(contract.rawValue) has no contract address: \(receipt)")
        }
        narrator.say(party.name, "deploys \(what) (\(contract.rawValue)) at \(address.checksummed)", receipt: receipt,
                     ["contract": .string(contract.rawValue), "address": .string(address.checksummed)])
        return address
    }

    /// Sends a transaction as `signer` and narrates it.
    @discardableResult
    func send(_ actor: String, _ what: String, to: Address, _ data: [UInt8], signer: ContractClient.Signer, value: UInt256 = .zero,
              _ fields: JSONObject = [:]) throws -> JSON {
        let receipt = try contracts.send(to, data, signer: signer, value: value)
        narrator.say(actor, what, receipt: receipt, fields)
        return receipt
    }

    /// Runs `attempt`, which must be refused; narrates the refusal with its reason.
    /// A refusal that does not come is the demo failing.
    func expectRefusal(_ actor: String, _ what: String, mustMention: String, _ attempt: () throws -> Void) throws {
        do {
            try attempt()
        } catch {
            let reason = "\(error)"
            guard reason.contains(mustMention) else { throw DemoFailure("\(what): refused for another reason than expected (\(mustMention)): \(reason)") }
            return narrator.refused(actor, what, reason: reason)
        }
        throw DemoFailure("\(what) was accepted: it must be refused")
    }

    /// `eth_call`.
    func read(_ contract: Address, _ signature: String, _ arguments: [ABIValue] = []) throws -> [UInt8] {
        try contracts.read(contract, ABI.selector(signature) + ABI.encode(arguments))
    }

    func word(_ contract: Address, _ signature: String, _ arguments: [ABIValue] = []) throws -> UInt256 {
        let out = try read(contract, signature, arguments)
        guard out.count >= 32 else { throw DemoFailure("\(signature) answered \(out.count) bytes") }
        return try UInt256(bigEndianBytes: out[0..<32])
    }

    func balance(_ account: Address, at block: UInt64? = nil) throws -> UInt256 {
        let tag: JSON = block.map { .string(RPCHex.encodeQuantity($0)) } ?? "latest"
        return try UInt256(hex: try node.call("eth_getBalance", [.string(account.checksummed), tag]).stringValue ?? "0x0")
    }

    /// What `account` received in the block of `receipt` (it sent nothing in that block).
    func received(_ account: Address, in receipt: JSON) throws -> UInt256 {
        guard let block = DemoNarrator.blockNumber(receipt), block > 0 else { throw DemoFailure("a receipt without its block: \(receipt)") }
        return try balance(account, at: block) &- balance(account, at: block - 1)
    }

    /// Funds `to` from `party`'s admin account.
    func fund(_ to: Address, _ amount: UInt256, from party: DemoParty, _ what: String) throws {
        try send(party.name, what, to: to, [], signer: .account(party.admin), value: amount)
    }

    /// Polls `condition` until it holds; throws after `timeout` seconds naming `what`.
    func waitUntil(_ what: String, timeout: Double = 60, _ condition: () throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try !condition() {
            guard Date() < deadline else { throw DemoFailure("timed out after \(Int(timeout)) s waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    // MARK: Assets and provenance

    /// Mints an asset of `party` (its admin is a manufacturer); returns its token id.
    func mint(_ epc: String, by party: DemoParty, _ what: String) throws -> UInt256 {
        let answer = try rest("POST", "/assets", ["organization": .number(JSONNumber(party.id)), "epc": .string(epc), "from": .string(party.account.description)])
        guard let text = answer["tokenId"]?.stringValue, let id = try? UInt256(hex: text) else { throw DemoFailure("no token id in \(answer)") }
        narrator.say(party.name, "mints \(what) \(epc) (asset \(id))", receipt: answer, ["tokenId": .string(id.description), "epc": .string(epc)])
        return id
    }

    /// Records a GS1 EPCIS 2.0 ObjectEvent (`bizStep` on `epc`) for `party`, sent by its admin
    /// account to the provenance contract (docs/EPCIS.md): a receiving gives the sender custody.
    @discardableResult
    func capture(_ bizStep: String, disposition: String, epc: String, at location: String, by party: DemoParty, _ what: String) throws -> JSON {
        let time = ISO8601DateFormatter().string(from: Date())
        let event: JSON = ["type": "ObjectEvent", "eventTime": .string(time), "eventTimeZoneOffset": "+00:00", "epcList": [.string(epc)],
                           "action": "OBSERVE", "bizStep": .string(bizStep), "disposition": .string(disposition),
                           "readPoint": ["id": .string(location)], "bizLocation": ["id": .string(location)]]
        let document: JSON = ["@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument",
                              "schemaVersion": "2.0", "creationDate": .string(time), "epcisBody": ["eventList": [event]]]
        let data = ABI.selector(ProvenanceRegistry.Method.capture.signature) + ABI.encode([.uint(UInt256(party.id)), .bytes(document.serialized())])
        return try send(party.name, what, to: ProvenanceRegistry.address, data, signer: .account(party.admin), ["bizStep": .string(bizStep)])
    }

    // MARK: Files

    /// Makes and registers an agreement key (HPKE) for `device`, so files and messages can be
    /// sealed to it; returns it with its 0600 key file.
    func agreementKey(for device: DemoDevice) throws -> (key: AgreementPrivateKey, file: String) {
        let key = AgreementPrivateKey(generating: .x25519)
        let file = directory.appendingPathComponent("agreement-\(device.address)-\(key.publicKey.keyHash.description.prefix(10)).json").path
        try AgreementKeyFiles.write(key, to: file, force: false)
        let answer = try rest("POST", "/devices/\(device.address)/agreement-key", [
            "keyType": .string(key.type.name), "publicKey": .data(key.publicKey.bytes),
            "possessionProof": .data(AgreementKeyProof.prove(key, device: device.address, chainId: chainId)),
            "authorization": .data(AgreementKeyProof.authorize(key.publicKey, device: device.address, chainId: chainId, with: device.key)),
            "from": .string(device.party.account.description)])
        narrator.say(device.party.name, "registers an agreement key (x25519) for the \(device.name)", receipt: answer)
        return (key, file)
    }

    /// Makes the first validators storage nodes (docs/FILES.md), one per party, so files pinned
    /// in the registry are allocated and replicated across them; a validator that already is
    /// one (an earlier run on this devnet) is kept. Waits until they are live (their first
    /// heartbeat follows the registration at once).
    func storageNodes(for parties: [DemoParty]) async throws {
        guard let validators = try node.call("kramaa_validators").arrayValue?.compactMap({ $0.stringValue.flatMap { try? Address(hex: $0) } }),
              validators.count >= parties.count else { throw DemoFailure("the devnet has fewer validators than parties to store files") }
        let nodes = Array(validators.prefix(parties.count))
        for (party, validator) in zip(parties, nodes) where (try? rest("GET", "/storage-nodes/\(validator)"))?["organization"]?.numberValue == nil {
            let answer = try rest("POST", "/storage-nodes", ["organization": .number(JSONNumber(party.id)), "node": .string(validator.description),
                                                            "capacity": .number(JSONNumber(1 << 30)), "from": .string(party.account.description)])
            narrator.say(party.name, "registers validator \(validator.checksummed) as its storage node (1 GiB)", receipt: answer)
        }
        try await waitUntil("the storage nodes' first heartbeats", timeout: 60) {
            try nodes.allSatisfy { try rest("GET", "/storage-nodes/\($0)")["live"]?.boolValue == true }
        }
    }

    /// Encrypts `content` for `readers`' agreement keys, imports it and pins it to `asset`
    /// (readable by whoever holds the asset), as `kramaa file add --private` does; returns the CID.
    func addPrivateFile(_ content: [UInt8], readers: [DemoDevice], asset: UInt256, by party: DemoParty, _ what: String) throws -> String {
        let path = directory.appendingPathComponent("file-\(UUID().uuidString).json").path
        guard FileManager.default.createFile(atPath: path, contents: Data(content), attributes: [.posixPermissions: 0o600]) else {
            throw DemoFailure("cannot write \(path)")
        }
        defer { unlink(path) }
        let add = try FileAdd.parse([path, "--private", "--asset", Hex.encode(asset.bigEndianBytes), "--from", party.account.description, "--rpc", rpcURL,
                                     "--min-replicas", "2"]
                                    + readers.flatMap { ["--for", $0.address.description] })
        guard let cid = try add.importPrivate() else { throw DemoFailure("the private file was not imported") }
        narrator.say(party.name, "\(what): \(cid.string)", ["cid": .string(cid.string)])
        return cid.string
    }

    /// Fetches a private file (every block verified) and decrypts it with the agreement key in `keyFile`.
    func readPrivateFile(_ cid: String, key keyFile: String, as reader: String) throws -> [UInt8] {
        let out = directory.appendingPathComponent("read-\(UUID().uuidString)").path
        defer { unlink(out) }
        try FileGet.parse([cid, "--key", keyFile, "--out", out, "--rpc", rpcURL]).run()
        guard let data = FileManager.default.contents(atPath: out) else { throw DemoFailure("\(reader) read nothing of \(cid)") }
        return Array(data)
    }

    /// Whether the file registry's policy lets `account` read `cid` now.
    func mayRead(_ cid: String, _ account: Address) throws -> Bool {
        try rest("GET", "/files/\(cid)/readers/\(account)")["mayRead"]?.boolValue ?? false
    }

    // MARK: Agents

    /// Starts `device`'s agent in this process with `config` (docs/AGENT.md); its transactions are
    /// device transactions paid by `sponsor`, its log narrated under the device's name.
    func startAgent(_ device: DemoDevice, _ config: JSON, sponsor: DemoParty?) async throws {
        let configuration: AgentConfiguration
        do { configuration = try AgentConfiguration(parsing: config.serialized()) } catch { throw DemoFailure("the \(device.name)'s agent: \(error)") }
        let endpoint: MQTTEndpoint
        do { endpoint = try MQTTEndpoint(parsing: mqttURL) } catch { throw DemoFailure("--mqtt: \(error)") }
        let state = DeviceStateFile(besideKey: device.keyFile)
        let messenger = DeviceMessenger(configuration: .init(endpoint: endpoint, key: device.key, device: device.address, chainId: chainId, state: state),
                                        directory: try RESTDeviceDirectory(url: rpcURL))
        do { try await messenger.connect() } catch { throw DemoFailure("the \(device.name) cannot connect to \(mqttURL): \(error)") }
        let signer = try ContractClient.Signer(device.key, sponsor: sponsor?.admin)
        let narrator = self.narrator, name = device.name
        let runtime = AgentRuntime(config: configuration, key: device.key, messenger: messenger,
                                   chain: ChainSender(client: contracts, signer: signer), state: state, vouchers: VoucherFile(besideKey: device.keyFile),
                                   log: { event, fields in DemoAgentLog.narrate(narrator, name, event, fields) })
        agents.append((Task { await runtime.run(for: nil) }, messenger))
    }

    /// Waits until each of `devices`' agents has subscribed to its inbox, and each of `watching`'s
    /// polls the chain for its event rules.
    func waitForAgents(_ devices: [DemoDevice], watching: [DemoDevice] = []) async throws {
        func ready(_ event: String) -> Set<String> {
            Set(narrator.steps.filter { $0["agent"]?.stringValue == event }.compactMap { $0["actor"]?.stringValue })
        }
        try await waitUntil("the agents of \(devices.map(\.name).joined(separator: ", ")) to listen", timeout: 30) {
            let listening = ready("listening"), polling = ready("watching")
            return devices.allSatisfy { listening.contains($0.name) } && watching.allSatisfy { polling.contains($0.name) }
        }
    }

    /// Waits until `devices`' agents have narrated `count` included actions between them (their
    /// receipts come back a moment after the chain shows the change).
    func waitForActions(_ count: Int, by devices: [DemoDevice]) async throws {
        let names = Set(devices.map(\.name))
        try await waitUntil("\(count) actions of \(devices.map(\.name).joined(separator: ", "))", timeout: 30) {
            narrator.steps.filter { $0["agent"]?.stringValue == "action" && names.contains($0["actor"]?.stringValue ?? "") }.count >= count
        }
    }

    /// Waits for `device`'s agent to log `event` after narrated step `index`; returns that step.
    @discardableResult
    func waitForAgent(_ device: DemoDevice, _ event: String, after index: Int, _ what: String, timeout: Double = 30) async throws -> JSONObject {
        var found: JSONObject?
        try await waitUntil(what, timeout: timeout) {
            found = narrator.steps[index...].first { $0["actor"]?.stringValue == device.name && $0["agent"]?.stringValue == event }
            return found != nil
        }
        return found!
    }

    /// Sends one message as `device` over its own short connection (beside its agent's).
    func sendOnce(from device: DemoDevice, _ payload: [UInt8], contentType: String, to recipient: DemoDevice) async throws {
        let messenger = DeviceMessenger(configuration: .init(endpoint: try MQTTEndpoint(parsing: mqttURL), key: device.key, device: device.address,
                                                             chainId: chainId, state: DeviceStateFile(besideKey: device.keyFile)),
                                        directory: try RESTDeviceDirectory(url: rpcURL), clientIdentifier: "demo-\(device.address)-once")
        try await messenger.connect()
        let sent = try await messenger.send(payload, contentType: contentType, to: recipient.address)
        await messenger.close()
        narrator.say(device.name, "sends a message (\(contentType)) to the \(recipient.name)", ["envelope": .string(sent.envelopeHash.description)])
    }

    /// Stops every agent this stage started.
    func stopAgents() async {
        for agent in agents {
            agent.task.cancel()
            await agent.messenger.close()
        }
        agents.removeAll()
    }
}

/// An agent's log lines as narrated steps.
enum DemoAgentLog {
    static func narrate(_ narrator: DemoNarrator, _ device: String, _ event: String, _ fields: JSONObject) {
        // Lines of included transactions carry their hash and block; an `event` line names the
        // transaction that emitted what the agent saw (not one of the agent's own).
        let receipt: JSON? = fields["transactionHash"] == nil || event == "event" ? nil : JSON.object(fields)
        var tagged = fields
        tagged["agent"] = .string(event)
        if event == "event" { tagged["transactionHash"] = nil; tagged["emittedBy"] = fields["transactionHash"] }
        switch event {
        case "watching": narrator.say(device, "agent watching the chain for \(fields["events"]?.arrayValue?.compactMap(\.stringValue).map { $0.split(separator: " ").last.map(String.init) ?? $0 }.joined(separator: ", ") ?? "events")", tagged)
        case "event": narrator.say(device, "sees an event of \(fields["contract"]?.stringValue ?? "") in block \(fields["block"]?.description ?? "?")", tagged)
        case "voucher": narrator.say(device, "signs a voucher for \(fields["cumulative"]?.stringValue ?? "") wei in total on channel \(fields["channel"]?.stringValue ?? ""), sent to \(fields["to"]?.stringValue ?? "")", tagged)
        case "accepted": narrator.say(device, "accepts a voucher for \(fields["cumulative"]?.stringValue ?? "") wei in total, signature checked", tagged)
        case "listening": narrator.say(device, "agent listening on \(fields["inbox"]?.stringValue ?? "its inbox")", tagged)
        case "reading": narrator.say(device, "signs reading \(fields["kind"]?.stringValue ?? "") = \(fields["value"]?.stringValue ?? "")", tagged)
        case "submitted": narrator.say(device, "submits its reading \(fields["kind"]?.stringValue ?? "") = \(fields["value"]?.stringValue ?? "") on chain", receipt: receipt, tagged)
        case "sent": narrator.say(device, "sends \(fields["contentType"]?.stringValue ?? "a message") to \(fields["to"]?.stringValue ?? "")", tagged)
        case "observed": narrator.say(device, "receives \(fields["device"]?.stringValue ?? "")'s signed reading \(fields["value"]?.stringValue ?? ""), signature checked", tagged)
        case "action": narrator.say(device, "rule '\(fields["rule"]?.stringValue ?? "")': \(fields["call"]?.stringValue ?? "")", receipt: receipt, tagged)
        case "refused": narrator.refused(device, "refuses a message", reason: fields["error"]?.stringValue ?? "", tagged)
        case "action-failed": narrator.refused(device, "rule '\(fields["rule"]?.stringValue ?? "")': \(fields["call"]?.stringValue ?? "")",
                                               reason: fields["error"]?.stringValue ?? "", tagged)
        default: narrator.say(device, "\(event): \(JSON.object(fields))", tagged)
        }
    }
}
