import ArgumentParser
import Foundation
import KramaaChain
import KramaaJSON
import KramaaMQTT
import KramaaMQTTClient
import KramaaPlatform
import KramaaPrimitives

/// `kramaa device bridge`: reads a device's serial output (firmware built with KramaaFirmware,
/// docs/FIRMWARE.md) and forwards its frames to a node once each is checked: device
/// transactions to `eth_sendRawTransaction`, signed readings to the readings oracle
/// (`POST /api/v1/devices/{device}/readings`), MQTT CONNECT and PUBLISH packets as they are to
/// the node's MQTT server. A frame that is malformed or whose signature does not verify is
/// refused (a line on standard error) and nothing of it is sent.
struct DeviceBridgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridge",
        abstract: "Forward a device's serial frames (KramaaFirmware) to a node, each checked first.",
        discussion: """
            --serial - reads standard input (e.g. `qemu-system-arm … -serial stdio | kramaa device bridge --serial -`);
            a path reads a file, a FIFO or a pty until it ends. Prints one JSON line per forwarded frame; lines that
            are not frames are the device's log and go to standard error. Exits 1 when any frame was refused or failed.
            """)

    @Option(help: "The serial output to read: a path (file, FIFO, pty) or - for standard input.")
    var serial: String
    @Option(name: .customLong("mqtt"), help: "The node's MQTT server for mqtt-connect/mqtt-publish frames.")
    var mqtt = "mqtt://127.0.0.1:1883"
    @Option(name: .customLong("receipt-timeout"), help: "Seconds to wait for each transaction's receipt.")
    var receiptTimeout: Double = 30
    @OptionGroup var actor: Actor
    @OptionGroup var connection: PlatformConnection

    func run() throws {
        let input: FileHandle
        if serial == "-" { input = .standardInput } else {
            guard let handle = FileHandle(forReadingAtPath: serial) else { throw ValidationError("--serial \(serial): cannot open it for reading") }
            input = handle
        }
        let endpoint: MQTTEndpoint
        do { endpoint = try MQTTEndpoint(parsing: mqtt) } catch { throw ValidationError("--mqtt: \(error)") }
        var bridge = Bridge(connection: connection, actor: actor, mqtt: endpoint, receiptTimeout: receiptTimeout, chainId: try connection.node.chainId())
        var lines = SerialLines(input)
        while let line = lines.next() { bridge.handle(line) }
        log("bridge: \(bridge.forwarded) frames forwarded, \(bridge.refused) refused, \(bridge.failed) failed")
        if bridge.refused + bridge.failed > 0 { throw ExitCode(1) }
    }
}

/// The frames of one serial session and where they go.
private struct Bridge {
    let connection: PlatformConnection
    let actor: Actor
    let mqtt: MQTTEndpoint
    let receiptTimeout: Double
    let chainId: UInt64
    var identity: PublicKey?
    var pendingConnect: [UInt8]?
    var forwarded = 0, refused = 0, failed = 0, lineNumber = 0

    init(connection: PlatformConnection, actor: Actor, mqtt: MQTTEndpoint, receiptTimeout: Double, chainId: UInt64) {
        self.connection = connection
        self.actor = actor
        self.mqtt = mqtt
        self.receiptTimeout = receiptTimeout
        self.chainId = chainId
    }

    mutating func handle(_ line: String) {
        lineNumber += 1
        guard DeviceFrame.isFrame(line) else { return log("device: \(line)") }
        let frame: DeviceFrame
        do { frame = try DeviceFrame.parse(line, identity: identity, chainId: chainId, now: UInt64(Date().timeIntervalSince1970)) } catch {
            refused += 1
            return log("refused (line \(lineNumber)): \(error)")
        }
        do {
            let answer = try forward(frame)
            forwarded += 1
            print(String(decoding: JSON.object(answer).serialized(), as: UTF8.self))
        } catch {
            failed += 1
            log("failed (line \(lineNumber)): \(error)")
        }
    }

    mutating func forward(_ frame: DeviceFrame) throws -> JSONObject {
        switch frame {
        case .identity(let key):
            identity = key
            return ["frame": "identity", "device": .string(key.address.checksummed), "keyType": .string(key.type.rawValue),
                    "publicKey": .data(key.bytes)]
        case .reading(let reading, _, let signature):
            var body: JSONObject = ["kind": .string(reading.kind.description), "value": .string(reading.signedDecimal),
                                    "observedAt": .number(JSONNumber(reading.observedAt)), "sequence": .number(JSONNumber(reading.sequence)),
                                    "signature": .data(signature)]
            if let from = try actor.address() { body["from"] = .string(from.description) }
            let client = try connection.node.client()
            let (status, bytes) = try client.request("POST", path: "/api/v1/devices/\(reading.device)/readings", body: JSON.object(body).serialized(),
                                                     contentType: "application/json", headers: [])
            let answer = try? JSON.parse(bytes)
            guard (200..<300).contains(status) else {
                throw BridgeRefusal("the node refused the reading (HTTP \(status)): \(answer?["detail"]?.stringValue ?? answer?.description ?? "")")
            }
            return ["frame": "reading", "device": .string(reading.device.checksummed), "sequence": .number(JSONNumber(reading.sequence)),
                    "value": .string(reading.signedDecimal), "answer": answer ?? .null]
        case .transaction(let tx, let raw):
            let client = try connection.node.client()
            let hash = try client.call("eth_sendRawTransaction", [.string(Hex.encode(raw))])
            let receipt = try waitForReceipt(client, hash)
            let status = receipt["status"]?.stringValue ?? ""
            guard status == "0x1" else {
                let used = receipt["gasUsed"]?.stringValue ?? "?"
                throw BridgeRefusal("transaction \(hash.stringValue ?? "") was included but failed (status \(status), gas used \(used) of its limit \(tx.gasLimit)): "
                                    + replayedReason(tx, receipt, client))
            }
            return ["frame": "tx", "hash": hash, "blockNumber": receipt["blockNumber"] ?? .null, "to": .string(tx.to?.checksummed ?? ""),
                    "from": receipt["from"] ?? .null, "status": .string(status)]
        case .mqttConnect(let raw, let token):
            pendingConnect = raw
            return ["frame": "mqtt-connect", "device": .string(token.device.checksummed), "expiresAt": .number(JSONNumber(token.expiresAt)),
                    "held": true]
        case .mqttPublish(let raw, let topic, let envelope):
            guard let connect = pendingConnect else { throw BridgeRefusal("mqtt-publish before the device's mqtt-connect: no session to publish in") }
            let reason = try MQTTRelay.publish(connect: connect, publish: raw, to: mqtt)
            let sealed: Bool
            if case .sealed = envelope { sealed = true } else { sealed = false }
            return ["frame": "mqtt-publish", "topic": .string(topic), "sequence": .number(JSONNumber(envelope.origin.sequence)),
                    "reasonCode": .number(JSONNumber(UInt64(reason))), "sealed": .bool(sealed),
                    "envelopeHash": .string(envelope.envelopeHash.description)]
        }
    }

    /// Why a failed transaction failed, as far as the node tells: the same call replayed with
    /// eth_call on the state before its block (other transactions of the block are not replayed).
    func replayedReason(_ tx: Transaction, _ receipt: JSON, _ client: NodeClient) -> String {
        guard let block = receipt["blockNumber"]?.stringValue.flatMap({ UInt64($0.dropFirst(2), radix: 16) }), block > 0 else { return "no block to replay it on" }
        var call: JSONObject = ["data": .string(Hex.encode(tx.data)), "gas": .string("0x" + String(tx.gasLimit, radix: 16)),
                                "value": .string(tx.value.hexQuantity)]
        if let from = receipt["from"] { call["from"] = from }
        if let to = tx.to { call["to"] = .string(to.description) }
        do {
            _ = try client.call("eth_call", [.object(call), .string("0x" + String(block - 1, radix: 16))])
            return "the same call succeeds on the state before its block, so an earlier transaction of that block changed what it depends on"
        } catch {
            return "replayed on the state before its block: \(error)"
        }
    }

    func waitForReceipt(_ client: NodeClient, _ hash: JSON) throws -> JSON {
        let deadline = Date().addingTimeInterval(receiptTimeout)
        while Date() < deadline {
            let receipt = try client.call("eth_getTransactionReceipt", [hash])
            if receipt != .null { return receipt }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw BridgeRefusal("transaction \(hash.stringValue ?? "") not included within \(receiptTimeout) s")
    }
}

/// Lines of the serial output, as the bytes arrive (a pty or pipe delivers them in pieces).
private struct SerialLines {
    let input: FileHandle
    var buffer: [UInt8] = []
    var ended = false

    init(_ input: FileHandle) { self.input = input }

    mutating func next() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0a) {
                var line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                if line.last == 0x0d { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            if ended {
                guard !buffer.isEmpty else { return nil }
                defer { buffer = [] }
                return String(decoding: buffer, as: UTF8.self)
            }
            let chunk = (try? input.read(upToCount: 4096)) ?? nil
            if let chunk, !chunk.isEmpty { buffer += chunk } else { ended = true }
        }
    }
}

private func log(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
