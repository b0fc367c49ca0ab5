import ArgumentParser
import Foundation
import KramaaEVM
import KramaaEVMHarness
import KramaaPrimitives

/// `kramaa evm ...`: runs EVM messages outside the chain (like geth's `evm run`).
struct EVMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evm", abstract: "Run EVM messages against a given pre-state, outside the chain.",
        discussion: """
            A case is one JSON object: {"id", "pre": {ADDR: {balance, nonce, code, storage}}, \
            "env": {currentCoinbase, currentNumber, currentTimestamp, currentGasLimit, currentBaseFee, \
            currentRandom, currentExcessBlobGas, chainId}, "tx": {origin, gasPrice, blobHashes}, \
            "message": {caller, to, value, data, gas, static}}. Only message.gas is required; without \
            message.to the data is init code and a contract is created. The caller, the called account, \
            the coinbase and the precompiles start warm. A result is one JSON object: status \
            (success, revert, failure with a reason), gasUsed, gasLeft, refund, output, logs, \
            createdAddress, post (every account read or written: balance, nonce, code, storage; null \
            when it does not exist) and stateRoot.
            """,
        subcommands: [Run.self, Batch.self])

    /// Which precompiles are installed.
    enum PrecompileSet: String, ExpressibleByArgument, CaseIterable {
        case kramaa, ethereum

        var table: [Address: PrecompileFunction] {
            self == .kramaa ? Precompiles.cancun : Precompiles.ethereumCancun
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run", abstract: "Run one message: given code, or a JSON case from a file.")

        @Option(help: "Code of the called account, in hex.") var code: String?
        @Option(help: "Call data, in hex.") var input = "0x"
        @Option(help: "Gas given to the message.") var gas: UInt64 = 10_000_000
        @Option(help: "Value sent with the call, in wei (the caller is given that much).") var value = "0"
        @Flag(name: .customLong("static"), help: "Run as a static call.") var isStatic = false
        @Option(name: .customLong("case"), help: "A JSON case file instead of --code (see `kramaa evm --help`).")
        var caseFile: String?
        @Option(help: "Precompile set: kramaa (Cancun plus P256VERIFY at 0x100) or ethereum.")
        var precompiles: PrecompileSet = .kramaa
        @Flag(help: "Print the full result as JSON.") var json = false

        func run() throws {
            let runner = MessageRunner(precompiles: precompiles.table)
            let message = try makeCase()
            let outcome = runner.run(message)
            if json {
                print(outcome.jsonLine(id: message.id))
                return
            }
            let object = outcome.json(id: nil)
            print("status:   \(object["status"]!)" + (object["reason"].map { " (\($0))" } ?? ""))
            print("gas used: \(outcome.gasUsed)")
            print("output:   \(Hex.encode(outcome.output))")
            print("logs:     \(outcome.logs.count)")
        }

        func makeCase() throws -> MessageCase {
            if let caseFile {
                guard code == nil else { throw ValidationError("give either --code or --case, not both") }
                let text: String
                do { text = try String(contentsOfFile: caseFile, encoding: .utf8) } catch {
                    throw ValidationError("cannot read case file \(caseFile): \(error.localizedDescription)")
                }
                do { return try MessageCase.decode(json: text) } catch { throw ValidationError("\(caseFile): \(error)") }
            }
            guard let code else { throw ValidationError("give --code HEX or --case FILE") }
            guard let codeBytes = try? Hex.decode(code) else { throw ValidationError("--code is not hex: \(code)") }
            guard let data = try? Hex.decode(input) else { throw ValidationError("--input is not hex: \(input)") }
            guard let amount = try? UInt256(parsing: value) else { throw ValidationError("--value is not a number: \(value)") }
            guard gas <= MessageCase.maxGas else { throw ValidationError("--gas is at most \(MessageCase.maxGas)") }
            let block = try! FixtureJSON.blockContext(MessageCase.defaultEnv, context: "defaults")
            // geth's `evm run` addresses: "sender" and "receiver" in ASCII.
            let sender = try! Address(hex: "0x000000000000000000000000000073656e646572")
            let receiver = try! Address(hex: "0x0000000000000000000000007265636569766572")
            return MessageCase(
                pre: [PreAccount(address: sender, balance: amount), PreAccount(address: receiver, code: codeBytes)],
                block: block, transaction: TransactionContext(origin: sender, gasPrice: 7),
                caller: sender, to: receiver, value: amount, data: data, gas: Int64(gas), isStatic: isStatic)
        }
    }

    struct Batch: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "batch", abstract: "Run JSON cases, one per line on standard input; print one result line each.",
            discussion: """
                Results come in input order, one line each. A line that is not a valid case gives \
                {"line": N, "id": ..., "error": "..."} and the batch goes on. Blank lines are skipped.
                """)

        @Option(help: "Precompile set: kramaa (Cancun plus P256VERIFY at 0x100) or ethereum.")
        var precompiles: PrecompileSet = .kramaa

        func run() throws {
            let runner = MessageRunner(precompiles: precompiles.table)
            var lineNumber = 0
            while let line = readLine(strippingNewline: true) {
                lineNumber += 1
                if line.allSatisfy(\.isWhitespace) { continue }
                do {
                    let message = try MessageCase.decode(json: line)
                    emit(runner.run(message).jsonLine(id: message.id))
                } catch {
                    var report: [String: Any] = ["line": lineNumber, "error": error.description]
                    if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                       let id = object["id"] { report["id"] = id }
                    emit(MessageOutcome.line(report))
                }
            }
        }

        /// One result line, written at once (unbuffered) so a reader waiting on it gets it.
        func emit(_ line: String) {
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }
}
