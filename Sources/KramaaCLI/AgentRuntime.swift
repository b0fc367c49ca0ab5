import Foundation
import KramaaAgent
import KramaaDeviceMessaging
import KramaaJSON
import KramaaPlatform
import KramaaPrimitives

/// The agent's edges around its rule engine: reading sources, the inbox, the chain.
actor AgentRuntime {
    let config: AgentConfiguration
    let key: SigningKey
    let messenger: DeviceMessenger
    let chain: ChainSender
    let state: DeviceStateFile
    let vouchers: VoucherFile
    var engine: RuleEngine
    /// Where the agent's log lines go: one JSON object per line on standard output for `kramaa
    /// agent`; the demo narrates them instead.
    let log: @Sendable (String, JSONObject) -> Void
    var device: Address { messenger.configuration.device }
    var chainId: UInt64 { messenger.configuration.chainId }

    init(config: AgentConfiguration, key: SigningKey, messenger: DeviceMessenger, chain: ChainSender, state: DeviceStateFile, vouchers: VoucherFile,
         log: @escaping @Sendable (String, JSONObject) -> Void = AgentRuntime.jsonLines) {
        self.config = config
        self.log = log
        self.key = key
        self.messenger = messenger
        self.chain = chain
        self.state = state
        self.vouchers = vouchers
        engine = RuleEngine(rules: config.rules)
    }

    func run(for duration: Double?) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.listen() }
            group.addTask { await self.watchEvents() }
            for source in config.readings { group.addTask { await self.produce(source) } }
            if let duration {
                try? await Task.sleep(for: .seconds(duration))
                group.cancelAll()
            } else {
                await group.waitForAll()
            }
        }
    }

    /// One line of the agent's log.
    nonisolated func report(_ event: String, _ fields: JSONObject) { log(event, fields) }

    /// The log of `kramaa agent`: one JSON object per line on standard output.
    static let jsonLines: @Sendable (String, JSONObject) -> Void = { event, fields in
        var line: JSONObject = ["event": .string(event)]
        for (name, value) in fields { line[name] = value }
        FileHandle.standardOutput.write(Data(JSON.object(line).serialized() + [0x0a]))
    }

    // MARK: Readings out

    private func produce(_ source: AgentConfiguration.ReadingSource) async {
        var index = 0
        var lastLine: Substring?
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(source.interval))
            guard !Task.isCancelled else { return }
            let value: UInt256
            if let values = source.values {
                guard index < values.count else { return }  // the script is done
                value = values[index]
                index += 1
            } else if let file = source.file {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8),
                      let line = text.split(whereSeparator: \.isNewline).last, line != lastLine,
                      let parsed = DeviceReading.parseSignedDecimal(line.trimmingCharacters(in: .whitespaces)) else {
                    continue  // nothing new from the sensor yet: a line is signed once
                }
                lastLine = line
                value = parsed
            } else {
                return
            }
            await publish(value, source)
        }
    }

    private func publish(_ value: UInt256, _ source: AgentConfiguration.ReadingSource) async {
        let now = UInt64(Date().timeIntervalSince1970)
        let sequence: UInt64
        do { sequence = try state.nextSequence(now: now * 1000) } catch { return report("error", ["error": .string("\(error)")]) }
        let reading = DeviceReading(device: device, kind: source.kind, valueWord: value, observedAt: now, sequence: sequence)
        let signature = reading.sign(with: key, chainId: chainId)
        report("reading", ["kind": .string(source.kindName), "value": .string(reading.signedDecimal), "sequence": .number(JSONNumber(sequence))])
        if source.submit {
            switch await chain.send(DeviceReadings.address, reading.submitCallData(signature: signature)) {
            case .success(let receipt): report("submitted", receiptFields(receipt, ["kind": .string(source.kindName), "value": .string(reading.signedDecimal)]))
            case .failure(let error): report("error", ["while": "submitting a reading", "error": .string(error.description)])
            }
        }
        for peer in source.sendTo {
            await send(ReadingMessage.encode(reading, signature: signature), ReadingMessage.contentType, to: peer, rule: nil)
        }
        await act(engine.observe(.reading(reading, signature: signature)))
    }

    // MARK: Messages in

    private func listen() async {
        let inbox: AsyncStream<Result<DeviceMessenger.Received, DeviceMessenger.Refused>>
        do { inbox = try await messenger.listen() } catch { return report("error", ["while": "subscribing to the inbox", "error": .string("\(error)")]) }
        report("listening", ["device": .string(device.checksummed), "inbox": .string(DeviceMessenger.inbox(of: device))])
        for await result in inbox {
            switch result {
            case .failure(let refused): report("refused", ["envelope": .string(refused.envelopeHash.description), "error": .string("\(refused.error)")])
            case .success(let message): await received(message)
            }
        }
    }

    private func received(_ message: DeviceMessenger.Received) async {
        if message.contentType == Voucher.contentType { return await receivedVoucher(message) }
        guard message.contentType == ReadingMessage.contentType else {
            report("message", ["from": .string(message.sender.checksummed), "contentType": .string(message.contentType),
                               "text": .string(String(decoding: message.payload, as: UTF8.self))])
            return await act(engine.observe(.message(from: message.sender, contentType: message.contentType, payload: message.payload)))
        }
        // A reading counts when its device's registered key signed it (whoever relayed it).
        do {
            let (reading, signature) = try ReadingMessage.decode(message.payload)
            let deviceKey = try await messenger.directory.signingKey(of: reading.device)
            guard deviceKey.isValidSignature(signature, digest: reading.digest(chainId: chainId)) else {
                return report("refused", ["from": .string(message.sender.checksummed), "error": "the reading is not signed by its device's current key"])
            }
            report("observed", ["device": .string(reading.device.checksummed), "value": .string(reading.signedDecimal),
                                "sequence": .number(JSONNumber(reading.sequence))])
            await act(engine.observe(.reading(reading, signature: signature)))
        } catch {
            report("refused", ["from": .string(message.sender.checksummed), "error": .string("\(error)")])
        }
    }

    // MARK: Actions

    func act(_ actions: [Result<AgentAction, AgentError>]) async {
        for action in actions {
            switch action {
            case .failure(let error):
                report("error", ["while": "building an action", "error": .string(error.description)])
            case .success(.call(let rule, let to, let data, let value, let function)):
                switch await chain.send(to, data, value: value) {
                case .success(let receipt): report("action", receiptFields(receipt, ["rule": .string(rule), "call": .string(function), "to": .string(to.checksummed)]))
                case .failure(let error): report("action-failed", ["rule": .string(rule), "call": .string(function), "error": .string(error.description)])
                }
            case .success(.send(let rule, let to, let contentType, let payload)):
                await send(payload, contentType, to: to, rule: rule)
            case .success(.voucher(let rule, let contract, let channel, let add, let to)):
                await payVoucher(rule: rule, contract: contract, channel: channel, add: add, to: to)
            }
        }
    }

    /// Sends a message and logs it as `event` (`sent`, or what it carries), with `fields`.
    func send(_ payload: [UInt8], _ contentType: String, to peer: Address, rule: String?, event: String = "sent", fields: JSONObject = [:]) async {
        do {
            let sent = try await messenger.send(payload, contentType: contentType, to: peer)
            var fields = fields
            for (name, value) in ["to": .string(peer.checksummed), "contentType": .string(contentType), "envelope": .string(sent.envelopeHash.description)] as JSONObject {
                fields[name] = value
            }
            if let rule { fields["rule"] = .string(rule) }
            report(event, fields)
        } catch {
            report("error", ["while": .string("sending to \(peer.checksummed)"), "error": .string("\(error)")])
        }
    }

    private nonisolated func receiptFields(_ receipt: JSON, _ fields: JSONObject) -> JSONObject {
        var out = fields
        out["transactionHash"] = receipt["transactionHash"] ?? .null
        out["blockNumber"] = receipt["blockNumber"].flatMap { $0.stringValue.flatMap { try? RPCHex.decodeQuantity($0) } }.map { .number(JSONNumber($0)) } ?? .null
        return out
    }
}
