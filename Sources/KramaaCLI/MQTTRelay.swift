import Foundation
import KramaaMQTT
import KramaaMQTTClient
#if canImport(Glibc)
import Glibc
#endif

/// Sends a device's own MQTT packets, byte for byte, to a broker: its CONNECT (CONNACK must
/// accept it), its PUBLISH (QoS 1: the PUBACK's reason must be a success) and a DISCONNECT.
/// The bridge relays what the firmware made; it makes no packet of its own but the DISCONNECT.
enum MQTTRelay {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Returns the reason code of the PUBLISH's acknowledgement (0 for QoS 0).
    @discardableResult
    static func publish(connect: [UInt8], publish: [UInt8], to endpoint: MQTTEndpoint) throws -> UInt8 {
        guard !endpoint.tls else { throw Failure(description: "the bridge relays over plain TCP only; give --mqtt mqtt://host:port") }
        let socket = try TCPSocket(host: endpoint.host, port: endpoint.port)
        defer { socket.close() }
        try socket.send(connect)
        let connack = try socket.receivePacket()
        guard connack.type == .connack else { throw Failure(description: "the broker answered \(connack.type) to CONNECT") }
        let ack = try MQTTConnAck(body: connack.body, version: .v5)
        guard ack.reasonCode == 0 else {
            throw Failure(description: "the broker refused the device's CONNECT: reason 0x\(String(ack.reasonCode, radix: 16))\(ack.properties.string(.reasonString).map { " (\($0))" } ?? "")")
        }
        try socket.send(publish)
        let qos = publish[0] >> 1 & 0x03
        var reason: UInt8 = 0
        if qos > 0 {
            let answer = try socket.receivePacket()
            guard answer.type == (qos == 1 ? .puback : .pubrec) else { throw Failure(description: "the broker answered \(answer.type) to PUBLISH") }
            let ack = try MQTTAck(frame: answer, version: .v5)
            guard ack.reasonCode < 0x80 else {
                throw Failure(description: "the broker refused the PUBLISH: reason 0x\(String(ack.reasonCode, radix: 16))\(ack.properties.string(.reasonString).map { " (\($0))" } ?? "")")
            }
            reason = ack.reasonCode
            if qos == 2 {
                try socket.send(MQTTAck(.pubrel, packetIdentifier: ack.packetIdentifier).frame(version: .v5).encoded)
                _ = try socket.receivePacket()
            }
        }
        try socket.send([0xe0, 0x00])
        return reason
    }
}

/// A blocking TCP connection with a receive timeout (10 s).
private final class TCPSocket {
    let fd: Int32
    var buffer: [UInt8] = []

    init(host: String, port: Int) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw MQTTRelay.Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { throw MQTTRelay.Failure(description: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw MQTTRelay.Failure(description: "cannot connect to the MQTT server \(host):\(port) (errno \(code))")
        }
    }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw MQTTRelay.Failure(description: "the MQTT connection closed while sending") }
            sent += n
        }
    }

    func receivePacket() throws -> MQTTFrame {
        while true {
            if let (frame, size) = try MQTTFrame.next(in: buffer) {
                buffer.removeFirst(size)
                return frame
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw MQTTRelay.Failure(description: "the MQTT server closed the connection (or did not answer within 10 s)") }
            buffer += chunk[0..<n]
        }
    }

    func close() { Glibc.close(fd) }
}
