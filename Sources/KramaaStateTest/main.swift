import Foundation
import KramaaEVM
import KramaaPrimitives

/// `kramaa-statetest [--fork Cancun] [--quiet] PATH...`: runs every GeneralStateTest JSON file under
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

let runner = StateTestRunner(fork: fork, precompiles: StateTestPrecompiles.table)
var passed = 0, failed = 0
var perFolder: [String: (passed: Int, failed: Int)] = [:]
for file in files {
    let folder = file.deletingLastPathComponent().lastPathComponent
    do {
        for outcome in try runner.run(file: file) {
            if let failure = outcome.failure {
                failed += 1
                perFolder[folder, default: (0, 0)].failed += 1
                if !quiet { print("FAIL \(file.lastPathComponent) \(outcome.test) [\(outcome.index)]: \(failure)") }
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
print("\(passed) passed, \(failed) failed")
exit(failed == 0 ? 0 : 1)
