import KramaaNetwork
import KramaaPrimitives

/// A block and the CID (binary form) it is named by.
public struct ExchangeBlock: Equatable, Sendable {
    public var cid: [UInt8]
    public var data: [UInt8]

    public init(cid: [UInt8], data: [UInt8]) {
        self.cid = cid
        self.data = data
    }
}

/// What nodes say to each other to move blocks (docs/FILES.md, "Block exchange"), one message
/// per peer-network frame, its body RLP:
///
/// | type | message | body |
/// |---|---|---|
/// | 0x20 | want: send me these blocks | `[cid, …]` |
/// | 0x21 | blocks: here they are | `[[cid, data], …]` |
/// | 0x22 | don't have: I hold none of these | `[cid, …]` |
///
/// CIDs travel in binary form; a receiver checks every block against its CID before it keeps
/// it. A want lists at most ``maximumWants`` CIDs; a blocks message holds at most
/// ``maximumBlocksBytes`` of data (one block larger than that travels alone).
public enum ExchangeMessage: Equatable, Sendable {
    case want([[UInt8]])
    case blocks([ExchangeBlock])
    case dontHave([[UInt8]])

    public static let maximumWants = 1_024
    public static let maximumBlocksBytes = 4 * 1024 * 1024

    public var type: UInt8 {
        switch self {
        case .want: MessageType.fileWant
        case .blocks: MessageType.fileBlocks
        case .dontHave: MessageType.fileDontHave
        }
    }

    public var payload: [UInt8] {
        var w = RLPWriter()
        w.appendList { list in
            switch self {
            case .want(let cids), .dontHave(let cids):
                for cid in cids { list.append(bytes: cid) }
            case .blocks(let blocks):
                for block in blocks {
                    list.appendList { pair in
                        pair.append(bytes: block.cid)
                        pair.append(bytes: block.data)
                    }
                }
            }
        }
        return w.bytes
    }

    /// Reads a message of `type`; a peer that sends what does not parse is misbehaving.
    public init(type: UInt8, payload: [UInt8]) throws(ExchangeError) {
        do {
            var outer = RLPReader(payload)
            var list = try outer.readList()
            try outer.finish()
            switch type {
            case MessageType.fileWant, MessageType.fileDontHave:
                var cids: [[UInt8]] = []
                while !list.isAtEnd {
                    cids.append(Array(try list.readBytes()))
                    guard cids.count <= Self.maximumWants else { throw ExchangeError.malformed("more than \(Self.maximumWants) CIDs in one message") }
                }
                self = type == MessageType.fileWant ? .want(cids) : .dontHave(cids)
            case MessageType.fileBlocks:
                var blocks: [ExchangeBlock] = []
                while !list.isAtEnd {
                    var pair = try list.readList()
                    blocks.append(ExchangeBlock(cid: Array(try pair.readBytes()), data: Array(try pair.readBytes())))
                    try pair.finish()
                }
                self = .blocks(blocks)
            default:
                throw ExchangeError.malformed("message type 0x\(String(type, radix: 16)) is not the block exchange's")
            }
        } catch let error as ExchangeError {
            throw error
        } catch {
            throw .malformed("\(error)")
        }
    }
}

/// Why a block-exchange message or fetch failed.
public enum ExchangeError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)

    public var description: String {
        switch self {
        case .malformed(let why): "malformed block-exchange message: \(why)"
        }
    }
}

extension MessageType {
    /// Block exchange between nodes' file stores (docs/FILES.md).
    public static let fileWant: UInt8 = 0x20
    public static let fileBlocks: UInt8 = 0x21
    public static let fileDontHave: UInt8 = 0x22
}
