import Foundation
import KramaaAPI
import KramaaAuth

/// The devnet's console while its validators run: their output lines, each with `[vI] ` in
/// front (standard output to standard output, errors to standard error); each committed block
/// printed once, however many validators report it; and the moment every validator is up.
final class DevnetOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var lastBlock: UInt64?
    private var up: Set<Int> = []
    private let count: Int
    private let allUp: @Sendable () -> Void

    /// The line a node prints once its JSON-RPC and peer servers listen.
    static let upMarker = "JSON-RPC (HTTP and WebSocket) on "

    /// - Parameter allUp: called once, when every one of `count` validators is up.
    init(count: Int, allUp: @escaping @Sendable () -> Void) {
        self.count = count
        self.allUp = allUp
    }

    /// Whether every validator has said it is up.
    var allValidatorsUp: Bool { lock.withLock { up.count == count } }

    /// Starts copying validator `index`'s output from `stdout` and `stderr` (read ends of pipes)
    /// until they close.
    func forward(index: Int, stdout: Int32, stderr: Int32) {
        for (fd, isError) in [(stdout, false), (stderr, true)] {
            let thread = Thread { [self] in
                Self.readLines(fd) { line in self.line(line, from: index, isError: isError) }
                close(fd)
            }
            thread.name = "kramaa-devnet-v\(index)-\(isError ? "err" : "out")"
            thread.start()
        }
    }

    /// One line of validator `index`.
    func line(_ text: String, from index: Int, isError: Bool) {
        if !isError, let number = Self.blockNumber(text) {
            let first = lock.withLock {
                guard lastBlock.map({ number > $0 }) ?? true else { return false }
                lastBlock = number
                return true
            }
            if first { Console.line(text) }
            return
        }
        if isError { Console.error("[v\(index)] \(text)") } else { Console.line("[v\(index)] \(text)") }
        if !isError && text.hasPrefix(Self.upMarker) {
            let everyone = lock.withLock { () -> Bool in
                let before = up.count
                up.insert(index)
                return before < count && up.count == count
            }
            if everyone { allUp() }
        }
    }

    /// The number of a node's block line (`block 12 0x… txs=3 gas=63000`), nil for other lines.
    static func blockNumber(_ line: String) -> UInt64? {
        guard line.hasPrefix("block ") else { return nil }
        let rest = line.dropFirst(6)
        guard let space = rest.firstIndex(of: " "), rest[space...].contains("txs=") else { return nil }
        return UInt64(rest[..<space])
    }

    /// Reads `fd` to its end, calling `body` with each line (without its newline).
    static func readLines(_ fd: Int32, _ body: (String) -> Void) {
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            pending += chunk[..<n]
            var start = 0
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                body(String(decoding: pending[start..<newline], as: UTF8.self))
                start = newline + 1
            }
            pending.removeFirst(start)
        }
        if !pending.isEmpty { body(String(decoding: pending, as: UTF8.self)) }
    }
}

/// The block the devnet prints once every validator is up: labelled lines, built in one place
/// (`ReadyBlock.devnet`), so another service adds its line there.
struct ReadyBlock {
    var title: String
    var lines: [(label: String, text: String)] = []
    /// Free text after the labelled lines (the dev accounts and their keys).
    var sections: [String] = []

    mutating func add(_ label: String, _ text: String) { lines.append((label, text)) }

    /// The devnet's block: its nodes' endpoints (`validator 0 0x…: JSON-RPC …`), then what every
    /// devnet has (token, accounts, how to stop), then the accounts and their keys.
    static func devnet(settings: DevnetSettings, directory: URL, endpoints: [(label: String, text: String)],
                       dev: DevAccounts, token: BearerToken) -> ReadyBlock {
        let kind = settings.validators > 1 ? "\(settings.validators) validators (BFT)" : "a single node"
        var block = ReadyBlock(title: "kramaa devnet ready: chain \(settings.chainId), \(kind), data \(directory.path)")
        for endpoint in endpoints { block.add(endpoint.label, endpoint.text) }
        block.add("Development token (acts as dev0, every role; loopback writes need none)", "\(token)")
        block.add("dev accounts", "\(settings.accounts), \(settings.balance) ETH each at genesis; the node signs for them (listed below)")
        block.add("stop", "Ctrl-C (SIGINT) or SIGTERM; the next run continues this chain (--fresh starts over)")
        block.sections.append(DevnetCommand.accountsText(dev, balance: settings.balance))
        return block
    }

    var rendered: String {
        var out = ["", "==== \(title) ===="]
        for (label, text) in lines { out.append("\(label): \(text)") }
        out += sections
        out.append("==== ====")
        return out.joined(separator: "\n")
    }
}
