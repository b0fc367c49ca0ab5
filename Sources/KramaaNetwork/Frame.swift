import KramaaPrimitives
import NIOCore

/// One message on the wire: `length (4 bytes, big-endian) ‖ type (1 byte) ‖ payload`, where
/// `length` counts the type byte and the payload (so it is at least 1).
public struct Frame: Sendable, Equatable {
    public var type: UInt8
    public var payload: [UInt8]

    public init(type: UInt8, payload: [UInt8]) {
        self.type = type
        self.payload = payload
    }

    /// Bytes on the wire.
    public var encodedSize: Int { 5 + payload.count }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt32(1 + payload.count), endianness: .big)
        buffer.writeInteger(type)
        buffer.writeBytes(payload)
    }

    public var encoded: [UInt8] {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(encodedSize)
        encode(into: &buffer)
        return Array(buffer.readableBytesView)
    }
}

/// Message types. 0x01 ... 0xEF are the application's (the chain reserves 1 ... 6, see
/// ``MessageType``); 0xF0 ... 0xFF are the network's own; 0x00 is never used.
public enum MessageType {
    /// A transaction (gossip).
    public static let transaction: UInt8 = 1
    /// A block proposal (gossip).
    public static let proposal: UInt8 = 2
    /// A consensus vote (gossip).
    public static let vote: UInt8 = 3
    /// A request for blocks (direct).
    public static let blockRequest: UInt8 = 4
    /// Blocks answering a request (direct).
    public static let blockResponse: UInt8 = 5
    /// A node's chain status: head, height (direct, on connect).
    public static let status: UInt8 = 6

    /// The chain's reserved types, the default set a network accepts.
    public static let chain: Set<UInt8> = [transaction, proposal, vote, blockRequest, blockResponse, status]
    /// Types an application may use.
    public static let applicationRange: ClosedRange<UInt8> = 0x01...0xEF

    // The network's own.
    static let hello: UInt8 = 0xF0
    static let ping: UInt8 = 0xF1
    static let pong: UInt8 = 0xF2
    static let disconnect: UInt8 = 0xF3
}

/// Why a frame stream is invalid; the peer that sent it is dropped.
public enum FrameError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptyFrame
    case frameTooLarge(length: Int, limit: Int)

    public var description: String {
        switch self {
        case .emptyFrame: "frame of length 0 (no type byte)"
        case .frameTooLarge(let length, let limit): "frame of \(length) bytes exceeds the limit of \(limit)"
        }
    }
}

/// Splits a byte stream into frames. A length of 0 or over `maxFrameBytes` (type + payload) is
/// an error as soon as the 4 length bytes are in: nothing of an oversized frame is buffered.
struct FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = Frame
    let maxFrameBytes: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try Self.next(from: &buffer, maxFrameBytes: maxFrameBytes) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }

    /// The next whole frame in `buffer` (consumed), nil if more bytes are needed.
    static func next(from buffer: inout ByteBuffer, maxFrameBytes: Int) throws(FrameError) -> Frame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else { return nil }
        guard length > 0 else { throw .emptyFrame }
        guard Int(length) <= maxFrameBytes else { throw .frameTooLarge(length: Int(length), limit: maxFrameBytes) }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        let type: UInt8 = buffer.readInteger()!
        let payload = buffer.readBytes(length: Int(length) - 1)!
        return Frame(type: type, payload: payload)
    }
}

struct FrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = Frame

    func encode(data: Frame, out: inout ByteBuffer) throws {
        data.encode(into: &out)
    }
}

/// The first frame each side sends after TLS: protocol version (2 bytes), chain id (8), listen
/// port (2), all big-endian; 12 bytes. Later versions may append fields, which older ones ignore.
struct Hello: Sendable, Equatable {
    var protocolVersion: UInt16
    var chainId: UInt64
    var listenPort: UInt16

    var payload: [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(protocolVersion, endianness: .big)
        buffer.writeInteger(chainId, endianness: .big)
        buffer.writeInteger(listenPort, endianness: .big)
        return Array(buffer.readableBytesView)
    }

    var frame: Frame { Frame(type: MessageType.hello, payload: payload) }

    init(protocolVersion: UInt16, chainId: UInt64, listenPort: UInt16) {
        self.protocolVersion = protocolVersion
        self.chainId = chainId
        self.listenPort = listenPort
    }

    init?(payload: [UInt8]) {
        var buffer = ByteBuffer(bytes: payload)
        guard let version = buffer.readInteger(endianness: .big, as: UInt16.self),
              let chainId = buffer.readInteger(endianness: .big, as: UInt64.self),
              let port = buffer.readInteger(endianness: .big, as: UInt16.self) else { return nil }
        self.init(protocolVersion: version, chainId: chainId, listenPort: port)
    }
}
