import Testing
import KramaaConsensus
@testable import KramaaConsensusSim
import KramaaTestSupport

/// The deterministic simulator over a bounded set of seeds: loss, duplication, reordering, partitions,
/// crashes and restarts during a chaos phase, f equivocating validators throughout.
@Suite struct SimulationTests {
    /// Runs the seeds on a thread of their own (minutes of CPU must not hold the threads that
    /// Swift concurrency shares with the servers other suites test), stopping at a violation.
    func runSeeds(_ seeds: ClosedRange<UInt64>, _ config: SimulationConfig) async throws -> [SimulationResult] {
        let all = try await offload {
            var out: [SimulationResult] = []
            for seed in seeds {
                let result = Simulation(seed: seed, config: config).run()
                out.append(result)
                if result.violation != nil { break }
            }
            return out
        }
        for result in all { #expect(result.violation == nil, "\(result)") }
        return all.filter { $0.violation == nil }
    }

    @Test func fourValidatorsWithOneByzantineStaySafeAndLive() async throws {
        let config = SimulationConfig(validators: 4, byzantine: 1, heights: 6)
        let results = try await runSeeds(1...40, config)
        #expect(results.allSatisfy { $0.heights >= 6 })
        #expect(results.contains { $0.evidence > 0 }, "the Byzantine validator is caught equivocating")
        #expect(results.contains { $0.restarts > 0 })
        #expect(results.contains { $0.maxRound > 0 })
    }

    @Test func sevenValidatorsWithTwoByzantineStaySafeAndLive() async throws {
        let results = try await runSeeds(1...30, SimulationConfig(validators: 7, byzantine: 2, heights: 5))
        #expect(results.allSatisfy { $0.heights >= 5 })
    }

    @Test func correctValidatorsAloneCommitUnderChaos() async throws {
        let results = try await runSeeds(101...115, SimulationConfig(validators: 4, byzantine: 0, heights: 6))
        #expect(results.allSatisfy { $0.heights >= 6 })
    }

    @Test func aValidatorSetChangeKeepsSafetyAndLiveness() async throws {
        // From height 4 validator 0 leaves and a new node joins; the new node has followed as an observer.
        let four = try await runSeeds(1...20, SimulationConfig(validators: 4, byzantine: 1, heights: 8, validatorSetChange: 4))
        #expect(four.allSatisfy { $0.heights >= 8 })
        let seven = try await runSeeds(1...8, SimulationConfig(validators: 7, byzantine: 2, heights: 7, validatorSetChange: 3))
        #expect(seven.allSatisfy { $0.heights >= 7 })
    }

    @Test func aSeedReplaysExactly() {
        let config = SimulationConfig(validators: 4, byzantine: 1, heights: 5)
        let a = Simulation(seed: 77, config: config).run()
        let b = Simulation(seed: 77, config: config).run()
        #expect(a.description == b.description)
        #expect(a.steps == b.steps && a.messages == b.messages && a.rounds == b.rounds)
        let c = Simulation(seed: 78, config: config).run()
        #expect(a.steps != c.steps || a.messages != c.messages)
    }

    @Test func aViolationNamesTheSeedAndTheStep() throws {
        // Too little virtual time to finish: reported as a liveness violation with its seed and step.
        var config = SimulationConfig(validators: 4, byzantine: 1, heights: 50)
        config.maxVirtualTime = 5_000
        let result = Simulation(seed: 5, config: config).run()
        let v = try #require(result.violation)
        #expect(v.seed == 5 && v.step > 0)
        #expect(v.description.contains("seed 5, step \(v.step)"))
    }
}

/// The simulator drives the production `ConsensusDriver`; these show that it catches a bug
/// planted in the driver's persistence order, and what its storage invariant refuses.
@Suite struct DriverUnderSimulationTests {
    @Test func sendingBeforeTheSafetyStateIsSavedIsCaught() throws {
        var config = SimulationConfig(validators: 4, byzantine: 1, heights: 6)
        config.plantedFault = .sendBeforePersisting
        var caught: [Violation] = []
        for seed in UInt64(1)...20 {
            if let v = Simulation(seed: seed, config: config).run().violation { caught.append(v) }
        }
        #expect(caught.count == 20, "every seed catches it: \(caught.count)")
        let first = try #require(caught.first)
        #expect(first.message.contains("before the safety state on disk covered it"), "\(first)")
        // Without the planted bug the same seeds are clean.
        config.plantedFault = nil
        for seed in UInt64(1)...5 { #expect(Simulation(seed: seed, config: config).run().violation == nil) }
    }

    @Test func aSafetyStateOnDiskNeverGoesBackwards() {
        let key = Simulation.signer(0)
        let vote = Vote(signing: .prevote, height: 5, round: 1, blockHash: nil, chainId: 1, signer: key)
        let later = SafetyState(height: 5, round: 1, step: .prevote, signedVotes: [vote])
        #expect(SimulatedStorage.regression(from: later, to: later) == nil)
        #expect(SimulatedStorage.regression(from: later, to: SafetyState(height: 6)) == nil)
        #expect(SimulatedStorage.regression(from: later, to: SafetyState(height: 4)) == "height 5 → 4")
        #expect(SimulatedStorage.regression(from: later, to: SafetyState(height: 5, round: 0, step: .precommit)) != nil)
        let forgetting = SafetyState(height: 5, round: 1, step: .precommit)
        #expect(SimulatedStorage.regression(from: later, to: forgetting)?.contains("was forgotten") == true)
    }
}
