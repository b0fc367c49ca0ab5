import Foundation

/// Why the public test vectors could not be read. Tests fail with this message; they never pass silently.
public enum VectorsError: Error, CustomStringConvertible {
    case missingFolder(String)
    case noFiles(String, ext: String)
    case unreadable(String, underlying: String)

    public var description: String {
        switch self {
        case .missingFolder(let path):
            return "test vectors folder not found at \(path): set KRAMAA_VECTORS to the shared vectors folder (default ../shared/vectors from the repository root)"
        case .noFiles(let path, let ext):
            return "no .\(ext) vector files under \(path): the vectors folder is incomplete"
        case .unreadable(let path, let underlying):
            return "cannot read vector file \(path): \(underlying)"
        }
    }
}

/// Locates the public test vectors: `$KRAMAA_VECTORS`, else `../shared/vectors` from the repository root.
public enum Vectors {
    /// The repository root, found from this source file's location.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The vectors root folder (not checked for existence).
    public static var root: URL {
        if let env = ProcessInfo.processInfo.environment["KRAMAA_VECTORS"], !env.isEmpty {
            return URL(fileURLWithPath: env, relativeTo: repositoryRoot).standardizedFileURL
        }
        return repositoryRoot.appendingPathComponent("../shared/vectors").standardizedFileURL
    }

    /// A sub-folder of the vectors root, which must exist.
    public static func folder(_ relative: String) throws -> URL {
        let url = root.appendingPathComponent(relative)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue else {
            throw VectorsError.missingFolder(url.path)
        }
        return url
    }

    /// Every file with extension `ext` below `relative`, recursively, in a stable order. At least one must exist.
    public static func files(in relative: String, ext: String = "json") throws -> [URL] {
        let dir = try folder(relative)
        let found = (FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL } ?? [])
            .filter { $0.pathExtension == ext }
            .sorted { $0.path < $1.path }
        guard !found.isEmpty else { throw VectorsError.noFiles(dir.path, ext: ext) }
        return found
    }

    /// Parses a JSON file into Foundation objects.
    public static func json(_ url: URL) throws -> Any {
        do {
            let data = try Data(contentsOf: url)
            return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw VectorsError.unreadable(url.path, underlying: "\(error)")
        }
    }

    /// The path of `url` relative to the vectors root, for messages.
    public static func name(_ url: URL) -> String {
        let base = root.path
        return url.path.hasPrefix(base) ? String(url.path.dropFirst(base.count + 1)) : url.path
    }
}
