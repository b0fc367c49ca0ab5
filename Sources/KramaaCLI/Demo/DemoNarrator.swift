import Foundation
import KramaaJSON

/// What a demo tells its viewer: one line per step, each with the transaction that made it and
/// its block (`[block 12] 0x3f2a…  weather station  wind 27 m/s submitted`), or with `--json` one
/// JSON object per step (`actor`, `text`, `transactionHash`, `blockNumber`, `refused`, and the
/// step's own fields), which the tests read. Agents running in the demo narrate through it too.
final class DemoNarrator: @unchecked Sendable {
    let json: Bool
    private let lock = NSLock()
    private(set) var steps: [JSONObject] = []

    init(json: Bool) { self.json = json }

    /// A step; `receipt` (a transaction receipt or a REST write's answer) gives its transaction and block.
    func say(_ actor: String, _ text: String, receipt: JSON? = nil, _ fields: JSONObject = [:]) {
        var step: JSONObject = ["actor": .string(actor), "text": .string(text)]
        if let hash = receipt?["transactionHash"], !hash.isNull { step["transactionHash"] = hash }
        if let block = receipt.flatMap(Self.blockNumber) { step["blockNumber"] = .number(JSONNumber(block)) }
        for (name, value) in fields { step[name] = value }
        emit(step)
    }

    /// A step the chain or an agent refused, with the reason it gave.
    func refused(_ actor: String, _ text: String, reason: String, _ fields: JSONObject = [:]) {
        var step: JSONObject = ["actor": .string(actor), "text": .string(text), "refused": .string(reason)]
        for (name, value) in fields { step[name] = value }
        emit(step)
    }

    /// A heading between a scenario's acts (text mode only; JSON gets a `section` step).
    func section(_ title: String) {
        if json { emit(["section": .string(title)]) } else { write("\n== \(title)") }
    }

    private func emit(_ step: JSONObject) {
        lock.withLock { steps.append(step) }
        if json { return write(String(decoding: JSON.object(step).serialized(), as: UTF8.self)) }
        guard let actor = step["actor"]?.stringValue, let text = step["text"]?.stringValue else { return }
        let block = step["blockNumber"]?.numberValue.map { "[block \($0)]" } ?? ""
        let hash = step["transactionHash"]?.stringValue.map { String($0.prefix(10)) + "…" } ?? ""
        let refused = step["refused"]?.stringValue.map { "\n" + String(repeating: " ", count: 30) + "refused: \($0)" } ?? ""
        write(block.padding(toLength: 13, withPad: " ", startingAt: 0) + hash.padding(toLength: 14, withPad: " ", startingAt: 0)
              + " " + actor.padding(toLength: 22, withPad: " ", startingAt: 0) + " " + text + refused)
    }

    private func write(_ line: String) {
        lock.withLock { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
    }

    /// A receipt's or REST answer's block number (a quantity string or a JSON number).
    static func blockNumber(_ answer: JSON) -> UInt64? {
        guard let value = answer["blockNumber"], !value.isNull else { return nil }
        if let text = value.stringValue { return try? RPCHex.decodeQuantity(text) }
        return value.numberValue.flatMap { UInt64($0.description) }
    }
}
