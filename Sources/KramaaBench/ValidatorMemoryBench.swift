import Foundation
import KramaaPrimitives

/// Resident memory of validators as they store a long run of transactions (issue 21: bounded,
/// no growth per block beyond the caches' limits): four `kramaa node` processes take ERC-20
/// transfers at full rate in rounds, and after each round every validator's resident memory
/// (VmRSS) and its chain database are read. The first half goes to ever-new recipients (the
/// world state grows by a balance each, and a node holds its state in memory); the second half
/// to recipients that exist already (the state keeps its size), so what grows there is
/// growth per block, not per account.
enum ValidatorMemoryBench {
    static func run(erc20InitCode: String?, kramaa: String, quick: Bool) -> Section {
        let transactions = quick ? 20_000 : 1_000_000
        let rounds = quick ? 4 : 10
        let existing = quick ? 1_000 : 10_000
        var section = Section(title: "Validators: memory over \(quick ? "20 thousand" : "1 million") transactions (4 `kramaa node` processes)",
                              command: "scripts/bench.sh validators-memory")
        guard let initCode = TokenWorkload.initCode(at: erc20InitCode) else {
            section.notes.append("Needs the compiled token: run through scripts/bench.sh.")
            return section
        }
        guard FileManager.default.isExecutableFile(atPath: kramaa) else {
            section.notes.append("Needs the release `kramaa` beside kramaa-bench (or --kramaa PATH): run through scripts/bench.sh.")
            return section
        }
        let senders = BenchTransactions.senders(100)
        let network: ProcessNetwork
        // Without fees: under EIP-1559 a million transactions at full rate (every block over its gas
        // target) would raise the base fee past any fee a sender can pay.
        do { network = try ProcessNetwork(kramaa: kramaa, validators: 4, funded: senders.map(\.publicKey.address), feePolicy: "zero") } catch {
            section.notes.append("the network did not start: \(error)")
            return section
        }
        defer { network.stop() }
        let finality = network.finality
        var workload = TokenWorkload(senders: senders, initCode: initCode)
        let setup = workload.setup()
        _ = ValidatorBench.send(setup, hashes: setup.map { Keccak256.hash($0) }, to: [network.ports[0]], batch: 100, pace: nil)
        guard finality.waitFor(setup.count) else {
            section.notes.append("setup transactions were not finalised within 120 s")
            return section
        }
        let perRound = transactions / rounds
        var stored = 0
        var readings: [(transactions: Int, rss: [Int], database: Int64, newRecipients: Bool)] = []
        let started = Date()
        for round in 0..<rounds {
            // Signed round by round (not timed apart from the round's own sending), so the client holds one round.
            let newRecipients = round < rounds / 2
            let lists = workload.transfers(perSender: perRound / senders.count, existing: newRecipients ? nil : existing)
            let raws = (0..<(perRound / senders.count)).flatMap { k in lists.map { $0[k] } }
            // In parts of 10,000 (half the pool's capacity of 20,000), each finalised before the next is sent.
            var finalised = true
            for part in stride(from: 0, to: raws.count, by: 10_000) {
                let slice = Array(raws[part..<min(part + 10_000, raws.count)])
                let before = finality.count
                _ = ValidatorBench.send(slice, hashes: slice.map { Keccak256.hash($0) }, to: network.ports, batch: 100, pace: nil)
                finalised = finalised && finality.waitFor(before + slice.count, timeout: 300)
            }
            guard finalised else {
                section.notes.append("a part of a round was not finalised within 300 s")
                break
            }
            stored += raws.count
            readings.append((stored, network.residentKiB.map(\.now), network.databaseBytes, newRecipients))
        }
        let seconds = Date().timeIntervalSince(started)
        for reading in readings {
            section.rows.append(Row(name: "Validator resident memory after \(reading.transactions) transfers, \(reading.newRecipients ? "to new recipients" : "to existing recipients") (largest of 4; chain database \(reading.database >> 20) MiB)",
                                    ours: Double(reading.rss.max() ?? 0) / 1024, unit: "MiB", reference: nil, referenceName: "-"))
        }
        // Growth within each half: from its first reading (the second half: from the first
        // half's last) to its last.
        let halves = [readings.filter(\.newRecipients), readings.filter { !$0.newRecipients }]
        for (index, half) in halves.enumerated() where !half.isEmpty {
            guard let first = index == 0 ? half.first : halves[0].last, let last = half.last, last.transactions > first.transactions else { continue }
            let growth = zip(first.rss, last.rss).map { Double($1 - $0) * 1024 / Double(last.transactions - first.transactions) }
            section.notes.append("Growth from \(first.transactions) to \(last.transactions) transfers \(index == 0 ? "to new recipients" : "among \(existing) existing recipients"), per validator: \(growth.map { String(format: "%.0f", $0) }.joined(separator: ", ")) bytes of resident memory per transaction; the chain database grew by \(String(format: "%.0f", Double(last.database - first.database) / Double(last.transactions - first.transactions))) bytes per transaction on disk.")
        }
        section.notes.append("\(stored) ERC-20 transfers from 100 senders (the first half to ever-new recipients, the second among \(existing) of them) on a chain without fees (feePolicy zero), in \(readings.count) rounds, each sent at full rate in parts of 10,000 (the pool holds 20,000) as JSON-RPC batches of 100 to the four validators in turn, in \(String(format: "%.0f", seconds)) s (\(String(format: "%.0f", Double(stored) / seconds)) tx/s with signing between rounds); each reading once validator 0 stored the round's last block. Resident memory now, per validator, at the end: \(network.residentKiB.map { "\($0.now >> 10) MiB (peak \($0.peak >> 10) MiB)" }.joined(separator: ", ")).")
        return section
    }
}
