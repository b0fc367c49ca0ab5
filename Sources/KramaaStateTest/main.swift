import Foundation
import KramaaEVM
import KramaaPrimitives

/// `kramaa-statetest [--fork Cancun] [--quiet] [--known-failures FILE] PATH...`: runs every GeneralStateTest JSON file under
/// the given files or folders, prints pass counts per folder and every failure, and ends with
/// `N passed, N failed`. Exit status 1 if anything failed.
var arguments = Array(CommandLine.arguments.dropFirst())
var fork = "Cancun"
var quiet = false
if let i = arguments.firstIndex(of: "--fork"), i + 1 < arguments.count {
    fork = arguments[i + 1]
    arguments.removeSubrange(i...(i + 1))
}
if let i = arguments.firstIndex(of: "--quiet") { quiet = true; arguments.remove(at: i) }
/// Cases expected to fail, one `file.json test [dN gN vN]` per line with `#` comments: they are
/// reported as KNOWN and do not fail the run; a listed case that passes fails the run until it
/// is removed from the list, so the list can only shrink.
var known: Set<String> = []
if let i = arguments.firstIndex(of: "--known-failures"), i + 1 < arguments.count {
    let path = arguments[i + 1]
    arguments.removeSubrange(i...(i + 1))
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        FileHandle.standardError.write(Data("error: cannot read known-failures list \(path)\n".utf8))
        exit(2)
    }
    for line in text.split(separator: "\n") {
        let entry = line.split(separator: "#", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        if !entry.isEmpty { known.insert(entry) }
    }
}
guard !arguments.isEmpty else {
    FileHandle.standardError.write(Data("usage: kramaa-statetest [--fork Cancun] [--quiet] PATH...\n".utf8))
    exit(2)
}

var files: [URL] = []
for path in arguments {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
        FileHandle.standardError.write(Data("error: \(path) does not exist\n".utf8))
        exit(2)
    }
    if isDir.boolValue {
        let found = FileManager.default.enumerator(at: URL(fileURLWithPath: path), includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "json" } ?? []
        files += found
    } else {
        files.append(URL(fileURLWithPath: path))
    }
}
files.sort { $0.path < $1.path }

let runner = StateTestRunner(fork: fork, precompiles: Precompiles.ethereumCancun)
var passed = 0, failed = 0, knownFailed = 0
var fixed: [String] = []
var perFolder: [String: (passed: Int, failed: Int)] = [:]
for file in files {
    let folder = file.deletingLastPathComponent().lastPathComponent
    do {
        for outcome in try runner.run(file: file) {
            let key = "\(file.lastPathComponent) \(outcome.test) [\(outcome.index)]"
            if known.contains(key) {
                if let failure = outcome.failure {
                    knownFailed += 1
                    if !quiet { print("KNOWN \(key): \(failure)") }
                } else {
                    fixed.append(key)
                    print("FIXED \(key): passes now; remove it from the known-failures list")
                }
                continue
            }
            if let failure = outcome.failure {
                failed += 1
                perFolder[folder, default: (0, 0)].failed += 1
                print("FAIL \(key): \(failure)")
            } else {
                passed += 1
                perFolder[folder, default: (0, 0)].passed += 1
            }
        }
    } catch {
        failed += 1
        perFolder[folder, default: (0, 0)].failed += 1
        print("FAIL \(file.path): \(error)")
    }
}
for (folder, counts) in perFolder.sorted(by: { $0.key < $1.key }) {
    print("\(folder): \(counts.passed) passed, \(counts.failed) failed")
}
if knownFailed > 0 { print("\(knownFailed) known failures (listed with their causes in the known-failures file)") }
print("\(passed) passed, \(failed + knownFailed) failed")
exit(failed == 0 && fixed.isEmpty ? 0 : 1)
