import ArgumentParser
import Foundation
import KramaaJSON
import Logging

/// How the node logs (`--log-format`, `--log-level`; docs/OPERATIONS.md): swift-log handlers on
/// standard error, as text or as one JSON object per line, and the node's own status lines on
/// standard output in the same format.
struct LogOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(name: .customLong("log-format"), help: "text, or json: one object per line ({ts, level, label, message, metadata}).")
    var format: Format = .text
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical: the least severe level logged.")
    var level: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: level) != nil else {
            throw ValidationError("--log-level \(level): one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// Installs the handlers (once per process; later calls keep the first).
    func bootstrap() {
        let level = Logger.Level(rawValue: self.level) ?? .info
        Console.json = format == .json
        Console.level = level
        LogBootstrap.once {
            LoggingSystem.bootstrap { label in
                var handler: any LogHandler = format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

/// `LoggingSystem.bootstrap` may run once per process (the devnet runs several nodes in one).
enum LogBootstrap {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var done = false

    static func once(_ body: () -> Void) {
        lock.withLock {
            guard !done else { return }
            done = true
            body()
        }
    }
}

/// One JSON object per line on standard error: `ts` (RFC 3339, UTC, milliseconds), `level`,
/// `label`, `message`, and `metadata` when there is some.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata.merging(event.metadata ?? [:]) { $1 }.mapValues(\.description)
        if let error = event.error { merged["error"] = "\(error)" }
        Console.error(String(decoding: Self.record(level: event.level.rawValue, label: label, message: event.message.description,
                                                   metadata: merged).serialized(), as: UTF8.self))
    }

    static func record(level: String, label: String, message: String, metadata: [String: String] = [:]) -> JSON {
        var object: JSONObject = ["ts": .string(timestamp()), "level": .string(level), "label": .string(label), "message": .string(message)]
        if !metadata.isEmpty { object["metadata"] = .object(JSONObject(metadata.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) })) }
        return .object(object)
    }

    static func timestamp() -> String {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        var parts = tm()
        var seconds = t.tv_sec
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, t.tv_nsec / 1_000_000)
    }
}
