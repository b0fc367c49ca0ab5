import Foundation

/// The running executable's file. `CommandLine.arguments[0]` is only what the shell was given
/// (`kramaa` when found through PATH); Linux's /proc/self/exe names the file itself.
public enum Executable {
    public static var url: URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
    }
}
