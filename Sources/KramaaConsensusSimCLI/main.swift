import Foundation
import KramaaConsensus
import KramaaConsensusSim

// kramaa-consensus-sim --seeds N [--first S] [--validators V] [--byzantine B] [--heights H] [--set-change H] [--quiet] [--plant-send-before-persisting]

func usage() -> Never {
    FileHandle.standardError.write(Data("""
    usage: kramaa-consensus-sim --seeds N [--first S] [--validators V] [--byzantine B] [--heights H] [--set-change H] [--quiet]
                                [--plant-send-before-persisting]
      runs N seeds (S, S+1, …) of the deterministic consensus simulator over the production
      consensus driver; exit 1 on the first violation. --plant-send-before-persisting plants a
      bug in every correct driver (signatures sent before the safety state is saved) to show
      that the simulator catches it.

    """.utf8))
    exit(2)
}

var seeds: UInt64 = 10, first: UInt64 = 1, validators = 4, byzantine: Int?, heights: UInt64 = 6
var setChange: UInt64?
var quiet = false
var planted: ConsensusDriver.PlantedFault?
var args = Array(CommandLine.arguments.dropFirst())
while !args.isEmpty {
    let flag = args.removeFirst()
    if flag == "--quiet" { quiet = true; continue }
    if flag == "--plant-send-before-persisting" { planted = .sendBeforePersisting; continue }
    if flag == "-h" || flag == "--help" { usage() }
    guard let value = args.first else { usage() }
    args.removeFirst()
    switch flag {
    case "--seeds": seeds = UInt64(value) ?? { usage() }()
    case "--first": first = UInt64(value) ?? { usage() }()
    case "--validators": validators = Int(value) ?? { usage() }()
    case "--byzantine": byzantine = Int(value) ?? { usage() }()
    case "--heights": heights = UInt64(value) ?? { usage() }()
    case "--set-change": setChange = UInt64(value) ?? { usage() }()
    default: usage()
    }
}
guard validators >= 1 else { usage() }
let b = byzantine ?? SimulationConfig.maxFaulty(validators)
if b > SimulationConfig.maxFaulty(validators) {
    FileHandle.standardError.write(Data("note: \(b) Byzantine of \(validators) validators is more than f = \(SimulationConfig.maxFaulty(validators)); safety is not guaranteed\n".utf8))
}
var config = SimulationConfig(validators: validators, byzantine: b, heights: heights, validatorSetChange: setChange)
config.plantedFault = planted
var totalRounds = 0
var totalHeights: UInt64 = 0
let started = Date()
for seed in first..<(first + seeds) {
    let result = Simulation(seed: seed, config: config).run()
    if let v = result.violation {
        print(result)
        print("VIOLATION: \(v)")
        var replay = "kramaa-consensus-sim --seeds 1 --first \(seed) --validators \(validators) --byzantine \(b) --heights \(heights)"
        if let setChange { replay += " --set-change \(setChange)" }
        if planted != nil { replay += " --plant-send-before-persisting" }
        print("replay: \(replay)")
        exit(1)
    }
    if !quiet { print(result) }
    totalRounds += result.rounds
    totalHeights += result.heights
}
if !quiet { print(String(format: "%.1f s", Date().timeIntervalSince(started))) }
print("\(seeds) seeds, \(totalRounds) rounds, \(totalHeights) heights committed, 0 violations")
