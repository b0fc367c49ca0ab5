import Foundation
import KramaaJSON
import KramaaPrimitives

/// The node's relayers, one thread per parent chain (docs/ANCHORING.md). Each runs ``Relayer``
/// against the node's own JSON-RPC: progress comes from the parent's contract, a failure is
/// logged and retried with backoff (the node keeps serving), an unfunded key sends nothing.
public final class AnchorRelayers: @unchecked Sendable {
    /// What one relayer last saw (kramaa_anchorStatus).
    struct State {
        var status: JSONObject = [:]
        var lastError: String?
        /// The latest anchored checkpoint's parent block and transaction.
        var anchoredIn: (number: UInt64, block: UInt64, transaction: JSON)?
    }

    public let configuration: AnchorConfiguration
    private let lock = NSLock()
    private var states: [String: State] = [:]
    private var stopping = false
    private let log: @Sendable (String) -> Void
    /// Longest wait between retries after a failure, in seconds.
    public var maxBackoff: Double = 16

    public init(configuration: AnchorConfiguration, log: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        self.log = log
    }

    /// Starts one relayer thread per parent, reading this chain at `nodeURL`.
    public func start(nodeURL: String) throws {
        let kramaa = try NodeClient(nodeURL)
        for parent in configuration.parents {
            var client = try NodeClient(parent.rpc)
            client.timeout = 10
            let relayer = Relayer(kramaa: kramaa, parent: ContractClient(node: client), contract: parent.contract, key: parent.key,
                                  every: parent.every, confirmations: parent.confirmations)
            lock.withLock { states[parent.label] = State() }
            let thread = Thread { [self] in run(relayer, label: parent.label) }
            thread.name = "kramaa-anchor-\(parent.label)"
            thread.start()
        }
    }

    public func stop() { lock.withLock { stopping = true } }

    private var stopped: Bool { lock.withLock { stopping } }

    /// Sleeps `seconds` unless stopping meanwhile.
    private func pause(_ seconds: Double) {
        let end = Date().addingTimeInterval(seconds)
        while !stopped && Date() < end { Thread.sleep(forTimeInterval: 0.1) }
    }

    private func update(_ label: String, _ change: (inout State) -> Void) { lock.withLock { change(&states[label, default: State()]) } }

    private func run(_ relayer: Relayer, label: String) {
        var backoff = 0.5
        while !stopped {
            do {
                let status = try relayer.status()
                // Published together: the latest anchored checkpoint and where the parent holds it.
                let latest = Relayer.quantity(status["latestAnchored"])
                let known = lock.withLock { states[label]?.anchoredIn }
                let at = known?.number == latest ? known : try relayer.anchoredIn(latest).map { (latest, $0.block, $0.transaction) }
                update(label) { $0.status = status; $0.anchoredIn = at }
                if let balance = status["parentBalance"]?.stringValue, balance == "0" {
                    throw ClientError("the relayer's account \(status["parentAccount"]?.stringValue ?? "?") holds nothing on parent \(label): fund it to pay for checkpoints")
                }
                if let anchored = try relayer.step() {
                    log("anchor \(label): " + String(decoding: JSON.object(anchored).serialized(), as: UTF8.self))
                    update(label) { $0.lastError = nil }
                } else {
                    update(label) { $0.lastError = nil }
                    pause(1)
                }
                backoff = 0.5
            } catch {
                let reason = "\(error)"
                let repeated = lock.withLock { states[label]?.lastError == reason }
                update(label) { $0.lastError = reason }
                if !repeated { log("anchor \(label): \(reason); retrying (every \(Int(maxBackoff)) s at most) while the node keeps serving") }
                pause(backoff)
                backoff = min(backoff * 2, maxBackoff)
            }
        }
    }

    /// kramaa_anchorStatus: per parent, its label, contract, latest anchored block and the
    /// parent block and transaction of it, the head, backlog, parent balance, last error.
    public func status() -> JSON {
        let snapshot = lock.withLock { states }
        return .array(configuration.parents.map { parent in
            let state = snapshot[parent.label] ?? State()
            var out = state.status
            out["label"] = .string(parent.label)
            out["rpc"] = .string(parent.rpc)
            out["contract"] = .string(parent.contract.checksummed)
            out["every"] = .number(JSONNumber(parent.every))
            out["confirmations"] = .number(JSONNumber(parent.confirmations))
            out["parentAccount"] = .string(parent.key.publicKey.address.checksummed)
            if let at = state.anchoredIn, JSON.number(JSONNumber(at.number)) == out["latestAnchored"] {
                out["parentBlock"] = .number(JSONNumber(at.block))
                out["parentTransaction"] = at.transaction
            }
            out["lastError"] = state.lastError.map(JSON.string) ?? .null
            return .object(out)
        })
    }
}
