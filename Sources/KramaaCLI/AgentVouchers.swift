import KramaaAgent
import KramaaDeviceMessaging
import KramaaJSON
import KramaaPrimitives

/// The agent's ``VoucherLedger``, in a 0600 file beside the device's key (`device.json` →
/// `device.json.vouchers`), changed as ``DeviceStateFile`` changes its file: read-modify-write
/// under an exclusive lock, replaced atomically.
struct VoucherFile: Sendable {
    let path: String

    init(path: String) { self.path = path }

    init(besideKey keyPath: String) { self.init(path: keyPath + ".vouchers") }

    /// Runs `body` on the ledger and writes it back before returning (not when `body` throws).
    func update<T>(_ body: (inout VoucherLedger) throws(AgentError) -> T) throws(AgentError) -> T {
        let outcome: Result<T, AgentError>
        do {
            outcome = try DeviceStateFile.update(path: path) { content throws(DeviceMessagingError) -> Result<T, AgentError> in
                var ledger = VoucherLedger()
                if let content {
                    do { ledger = try VoucherLedger(parsing: content) } catch {
                        return .failure(AgentError(path, "\(error); fix it: the agent must never sign a lower cumulative"))
                    }
                }
                let result = Result { () throws(AgentError) in try body(&ledger) }
                if case .success = result { content = ledger.serialized() }
                return result
            }
        } catch {
            throw AgentError(path, "\(error)")
        }
        return try outcome.get()
    }
}

extension AgentRuntime {
    /// The payer's side: the next cumulative of the channel is written to the voucher file
    /// before it is signed, so a crash at any point never makes the device sign a lower one.
    func payVoucher(rule: String, contract: Address, channel: UInt256, add: UInt256, to payee: Address) async {
        let cumulative: UInt256
        do {
            cumulative = try vouchers.update { ledger throws(AgentError) in try ledger.reserve(.init(contract: contract, channel: channel), add: add) }
        } catch {
            return report("action-failed", ["rule": .string(rule), "voucher": .string(contract.checksummed), "error": .string(error.description)])
        }
        let voucher = Voucher(contract: contract, channel: channel, cumulative: cumulative, device: device)
        let signature = key.signature(digest: voucher.digest(chainId: chainId))
        await send(voucher.encode(signature: signature), Voucher.contentType, to: payee, rule: rule, event: "voucher",
                   fields: ["contract": .string(contract.checksummed), "channel": .string(channel.description), "cumulative": .string(cumulative.description)])
    }

    /// The payee's side: a voucher counts when its device's registered key signed it (whoever
    /// relayed it) and its cumulative is above the last accepted for its channel (remembered in
    /// the voucher file, across restarts too); then the rules act on it.
    func receivedVoucher(_ message: DeviceMessenger.Received) async {
        let from = JSON.string(message.sender.checksummed)
        do {
            let (voucher, signature) = try Voucher.decode(message.payload)
            let deviceKey = try await messenger.directory.signingKey(of: voucher.device)
            guard deviceKey.isValidSignature(signature, digest: voucher.digest(chainId: chainId)) else {
                return report("refused", ["from": from, "error": "the voucher is not signed by its device's current key"])
            }
            try vouchers.update { ledger throws(AgentError) in try ledger.accept(voucher) }
            report("accepted", ["from": from, "device": .string(voucher.device.checksummed), "contract": .string(voucher.contract.checksummed),
                                "channel": .string(voucher.channel.description), "cumulative": .string(voucher.cumulative.description)])
            await act(engine.observe(.voucher(voucher, signature: signature)))
        } catch {
            report("refused", ["from": from, "error": .string("\(error)")])
        }
    }
}
