import Foundation
import KramaaConsensus
import KramaaPrimitives

/// The consensus safety state on disk (`consensus.rlp`), saved before anything it covers is
/// sent: so on the path of every vote.
///
/// The file holds two slots of equal size; a save overwrites the slot not holding the latest
/// state and syncs its data (`fdatasync`), nothing else. A slot is `KRMSAFE1`, a big-endian
/// 64-bit sequence number, a 32-bit length, the Keccak-256 of those 12 bytes and the state's
/// RLP, then that RLP. Loading takes the valid slot with the higher sequence, so a crash during
/// a save leaves the state of the last completed save: a torn slot fails its hash, and the other
/// slot is untouched. Saving through a temporary file, `fsync`, `rename` and a directory
/// `fsync` (as before 2026-12-07, and still when the file is made or must grow) cost about
/// 190 µs of CPU per save in the validator benchmark, and its latency sat before every vote.
///
/// A file of the earlier format (the bare RLP) loads, and the next save rewrites it in slots.
///
/// The driver saves the state before anything it covers is sent. Saving first waits for
/// `beforeSaving` (the node's blocks written behind consensus): so nothing is signed at a
/// height before the block under it is stored here, and a restarted validator's stored head
/// is never more than one height below its safety state.
final class SafetyStore: SafetyStorage {
    let path: URL
    let beforeSaving: () throws -> Void
    static let magic = Array("KRMSAFE1".utf8)
    static let headerSize = 8 + 8 + 4 + 32
    static let minimumSlotSize = 64 * 1024

    private var fd: Int32 = -1
    private var slotSize = 0
    /// The sequence number of the latest state on disk (0: none yet).
    private var sequence: UInt64 = 0

    init(path: URL, beforeSaving: @escaping () throws -> Void) {
        self.path = path
        self.beforeSaving = beforeSaving
    }

    deinit { if fd >= 0 { close(fd) } }

    func load() throws -> SafetyState? {
        guard let data = FileManager.default.contents(atPath: path.path) else { return nil }
        let bytes = [UInt8](data)
        do {
            // The earlier format is one RLP list; a slotted file starts with a slot's magic or,
            // when only its second slot was written yet, zeros.
            if let first = bytes.first, first >= 0xC0 { return try SafetyState(rlp: bytes) }
            let slot = bytes.count / 2
            guard bytes.count % 2 == 0, slot >= Self.headerSize else { throw SlotError.badSize(bytes.count) }
            let latest = [Self.record(in: bytes[0..<slot]), Self.record(in: bytes[slot...])]
                .compactMap { $0 }.max { $0.sequence < $1.sequence }
            guard let latest else { throw SlotError.noValidSlot }
            let state = try SafetyState(rlp: Array(latest.payload))
            if open(existing: slot) { sequence = latest.sequence }
            return state
        } catch {
            throw ValidatorError.corruptSafetyState(path: path.path, reason: "\(error)")
        }
    }

    /// Replaces the stored state; returns once it is on disk.
    func save(_ state: SafetyState) throws {
        try beforeSaving()
        let payload = state.encoded
        let next = sequence + 1
        let record = Self.record(sequence: next, payload: payload)
        if fd >= 0, record.count <= slotSize {
            let offset = off_t(Int(next % 2) * slotSize)
            let written = record.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, offset) }
            guard written == record.count, fdatasync(fd) == 0 else {
                throw ValidatorError.io("write \(path.path): \(String(cString: strerror(errno)))")
            }
        } else {
            try rebuild(with: record, sequence: next)
        }
        sequence = next
    }

    /// Writes a new file of two slots large enough for `record` (in the slot its sequence
    /// picks), replacing the old one atomically (``PrivateFile/replace(path:content:)``).
    private func rebuild(with record: [UInt8], sequence: UInt64) throws {
        var size = Self.minimumSlotSize
        while size < 2 * record.count { size *= 2 }
        var file = [UInt8](repeating: 0, count: 2 * size)
        let offset = Int(sequence % 2) * size
        file.replaceSubrange(offset..<(offset + record.count), with: record)
        do { try PrivateFile.replace(path: path.path, content: file) } catch { throw ValidatorError.io("\(error)") }
        guard open(existing: size) else { throw ValidatorError.io("reopen \(path.path): \(String(cString: strerror(errno)))") }
    }

    /// Opens the slotted file for saves in place; false when it cannot be opened for writing
    /// (saves then rebuild it).
    private func open(existing slot: Int) -> Bool {
        if fd >= 0 { close(fd) }
        fd = Foundation.open(path.path, O_RDWR | O_CLOEXEC)
        slotSize = fd >= 0 ? slot : 0
        return fd >= 0
    }

    static func record(sequence: UInt64, payload: [UInt8]) -> [UInt8] {
        var head = [UInt8]()
        head.reserveCapacity(headerSize + payload.count)
        withUnsafeBytes(of: sequence.bigEndian) { head.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(payload.count).bigEndian) { head.append(contentsOf: $0) }
        let check = checksum(head, payload)
        return magic + head + check.bytes + payload
    }

    /// The record in one slot, or nil when the slot holds none that is whole.
    static func record(in slot: ArraySlice<UInt8>) -> (sequence: UInt64, payload: ArraySlice<UInt8>)? {
        let s = slot.startIndex
        guard slot.count >= headerSize, slot[s..<(s + 8)].elementsEqual(magic) else { return nil }
        let numbers = Array(slot[(s + 8)..<(s + 20)])
        let sequence = numbers[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let length = Int(numbers[8..<12].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard length <= slot.count - headerSize else { return nil }
        let payload = slot[(s + headerSize)..<(s + headerSize + length)]
        guard checksum(numbers, payload).bytes.elementsEqual(slot[(s + 20)..<(s + 52)]) else { return nil }
        return (sequence, payload)
    }

    private static func checksum(_ numbers: [UInt8], _ payload: some Collection<UInt8>) -> Bytes32 {
        var hasher = Keccak256()
        hasher.update(numbers)
        hasher.update(payload)
        return hasher.finalize()
    }

    enum SlotError: Error, CustomStringConvertible {
        case badSize(Int)
        case noValidSlot

        var description: String {
            switch self {
            case .badSize(let size): "a slotted file of \(size) bytes (two equal slots expected)"
            case .noValidSlot: "neither slot holds a whole state"
            }
        }
    }
}
