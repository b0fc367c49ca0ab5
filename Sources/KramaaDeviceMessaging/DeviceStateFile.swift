import Foundation
import KramaaJSON
import KramaaMessaging
import KramaaPrimitives

/// What a device remembers between runs, in a small 0600 JSON file beside its key
/// (`device.json` → `device.json.state`):
///
/// ```json
/// {"sequence": 1718000000123, "replayFloor": null,
///  "senders": [{"sender": "0x…", "sequence": 7, "timestamp": 1718000000000}]}
/// ```
///
/// - `sequence`: the last sequence number this device signed. The next is one more, and never
///   less than the current Unix time in milliseconds, so that a lost or restored state file does
///   not make the device's new envelopes look like replays to its peers.
/// - `senders` and `replayFloor`: the ``ReplayGuard`` of this device's inbox, so an envelope
///   accepted once is refused after a restart too.
///
/// Every change is a read-modify-write under an exclusive lock (`….state.lock`), so a sender
/// and a listener of the same device (two processes) never lose each other's updates, and the
/// file is replaced atomically.
public struct DeviceStateFile: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The state file beside a key file.
    public init(besideKey keyPath: String) { self.init(path: keyPath + ".state") }

    struct State {
        var sequence: UInt64 = 0
        var replay = ReplayGuard()
    }

    /// Reserves the next sequence number (written before it is used).
    public func nextSequence(now: UInt64) throws(DeviceMessagingError) -> UInt64 {
        try update { state in
            state.sequence = max(state.sequence + 1, now)
            return state.sequence
        }
    }

    /// Admits `origin` to the inbox's replay guard (remembered on disk) or throws, changing nothing.
    public func admit(_ origin: EnvelopeOrigin, now: UInt64) throws(DeviceMessagingError) {
        try update { state throws(DeviceMessagingError) in
            do throws(ReplayError) { try state.replay.admit(origin, now: now) } catch { throw .replay(error) }
        }
    }

    /// The last sequence number signed (0 when none).
    public func lastSequence() throws(DeviceMessagingError) -> UInt64 {
        try update { $0.sequence }
    }

    private func update<T>(_ body: (inout State) throws(DeviceMessagingError) -> T) throws(DeviceMessagingError) -> T {
        try Self.update(path: path) { content throws(DeviceMessagingError) in
            var state = try load(content)
            let result = try body(&state)
            content = Self.encode(state)
            return result
        }
    }

    /// A read-modify-write of the private (0600) file `path` under an exclusive lock
    /// (`PATH.lock`): `body` gets its content (nil when it does not exist yet) and may change
    /// it; the file is then replaced atomically (not when `body` throws). How this state file
    /// changes, and the agent's voucher file beside it.
    public static func update<T>(path: String, _ body: (inout [UInt8]?) throws(DeviceMessagingError) -> T) throws(DeviceMessagingError) -> T {
        let lockPath = path + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .stateFile(path: lockPath, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw .stateFile(path: lockPath, reason: "cannot lock: \(String(cString: strerror(errno)))") }
        defer { flock(fd, LOCK_UN) }
        var content: [UInt8]?
        do { content = try PrivateFile.readSecret(path: path) } catch { throw .stateFile(path: path, reason: "\(error)") }
        let result = try body(&content)
        if let content {
            do { try PrivateFile.replace(path: path, content: content) } catch { throw .stateFile(path: path, reason: "cannot write: \(error)") }
        }
        return result
    }

    private func load(_ content: [UInt8]?) throws(DeviceMessagingError) -> State {
        guard let content else { return State() }
        do { return try Self.decode(content) } catch {
            throw .stateFile(path: path, reason: "\(error.description); fix or remove it (a new one starts from the current time)")
        }
    }

    static func encode(_ state: State) -> [UInt8] {
        let senders = state.replay.entries.sorted { $0.sender.lowercased < $1.sender.lowercased }.map { e -> JSON in
            ["sender": .string(e.sender.lowercased), "sequence": .number(JSONNumber(e.sequence)), "timestamp": .number(JSONNumber(e.timestamp))]
        }
        let out: JSON = ["sequence": .number(JSONNumber(state.sequence)),
                         "replayFloor": state.replay.floor.map { .number(JSONNumber($0)) } ?? .null,
                         "senders": .array(senders)]
        return out.serialized() + [0x0a]
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    static func decode(_ content: [UInt8]) throws(Malformed) -> State {
        guard let json = try? JSON.parse(content), json.objectValue != nil else { throw Malformed(description: "not a JSON object") }
        guard let sequence = json["sequence"]?.numberValue?.uint64 else { throw Malformed(description: "no unsigned integer \"sequence\"") }
        var entries: [ReplayGuard.Entry] = []
        for item in json["senders"]?.arrayValue ?? [] {
            guard let text = item["sender"]?.stringValue, let sender = try? Address(hex: text),
                  let seq = item["sequence"]?.numberValue?.uint64, let ts = item["timestamp"]?.numberValue?.uint64 else {
                throw Malformed(description: "a \"senders\" entry is not {sender, sequence, timestamp}")
            }
            entries.append(ReplayGuard.Entry(sender: sender, sequence: seq, timestamp: ts))
        }
        let floor = json["replayFloor"]?.numberValue?.uint64
        return State(sequence: sequence, replay: ReplayGuard(restoring: entries, floor: floor))
    }
}
