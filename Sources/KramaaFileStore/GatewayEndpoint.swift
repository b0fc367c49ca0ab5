import Foundation
import KramaaFiles
import KramaaRPC

/// The IPFS trustless gateway on the node's HTTP port: `GET`/`HEAD /ipfs/{cid}[/path]` as a
/// raw block (`?format=raw` or `Accept: application/vnd.ipld.raw`), a CARv1 (`?format=car`,
/// `dag-scope`, `entity-bytes`; depth first, no duplicates), or the file itself (Range → 206,
/// ETag the CID) and HTML directory listings. Reads are public, as on IPFS gateways; a CID
/// this node does not hold answers 404 at once.
public struct GatewayEndpoint: HTTPEndpoint {
    public static let prefix = "/ipfs"
    public let store: FileStore
    /// Fetches a DAG this node does not hold from the other nodes (file replication), so the
    /// gateway serves what any node of the consortium holds; nil: only what is here.
    public var fetchMissing: (@Sendable (CID) async throws -> Void)?

    public init(store: FileStore, fetchMissing: (@Sendable (CID) async throws -> Void)? = nil) {
        self.store = store
        self.fetchMissing = fetchMissing
    }

    public var acceptedBodyTypes: Set<String> { [] }

    enum Format { case raw, car, file }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            return .methodNotAllowed(request.method, path: request.path, allowed: ["GET", "HEAD"])
        }
        do { return try await answer(request) } catch let convertible as any HTTPProblemConvertible {
            return convertible.problem.response
        } catch {
            return .problem(for: error)
        }
    }

    func answer(_ request: HTTPRequest) async throws -> HTTPResponse {
        let segments = request.path.dropFirst(Self.prefix.count).split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard let first = segments.first, !first.isEmpty else {
            throw HTTPProblem.badRequest("give a CID: /ipfs/{cid}[/path]")
        }
        let root: CID
        do { root = try CID(HTTPRequest.formDecode(first)) } catch {
            throw HTTPProblem.badRequest("\(error); a CID is Qm… (CIDv0) or multibase CIDv1 such as bafy…")
        }
        var path = segments.dropFirst().map { HTTPRequest.formDecode($0) }
        if path.last == "" { path.removeLast() }
        for name in path where name.isEmpty || name == "." || name == ".." || name.contains("/") {
            throw HTTPProblem.badRequest("path segment '\(name)' is not a name inside a directory (no empty, '.' or '..' segments)")
        }
        if !store.blocks.has(root) {
            guard let fetchMissing else { throw HTTPProblem.notFound("\(root) is not held by this node") }
            do { try await fetchMissing(root) } catch let convertible as any HTTPProblemConvertible {
                throw convertible  // the fetcher's own answer (503 when it is busy)
            } catch {
                throw HTTPProblem.notFound("\(root) is held by no node that answered: \(error)")
            }
        }
        switch try format(request) {
        case .raw: return try rawBlock(root, path: path)
        case .car: return try car(root, path: path, request: request)
        case .file: return try deserialized(root, path: path, request: request)
        }
    }

    func format(_ request: HTTPRequest) throws -> Format {
        if let f = request.queryValue("format") {
            switch f {
            case "raw": return .raw
            case "car": return .car
            case "": return .file
            default: throw HTTPProblem.badRequest("format=\(f) is not served; use raw or car, or leave it out for the file itself")
            }
        }
        let accept = request.header("accept") ?? ""
        if accept.contains("application/vnd.ipld.raw") { return .raw }
        if accept.contains("application/vnd.ipld.car") { return .car }
        return .file
    }

    func resolve(_ root: CID, _ path: [String]) throws -> CID {
        var trail: [CID] = []
        return try UnixFSReader(source: store.blocks).resolve(root, path: path, trail: &trail)
    }

    func rawBlock(_ root: CID, path: [String]) throws -> HTTPResponse {
        let cid = try resolve(root, path)
        let block = try store.blocks.required(cid)
        return HTTPResponse(status: 200, headers: [("content-type", "application/vnd.ipld.raw"), ("etag", "\"\(cid).raw\""),
                                                   ("x-content-type-options", "nosniff"), ("cache-control", "public, max-age=29030400, immutable"),
                                                   ("x-ipfs-path", "/ipfs/\(cid)")], body: block)
    }

    func car(_ root: CID, path: [String], request: HTTPRequest) throws -> HTTPResponse {
        let scopeText = request.queryValue("dag-scope") ?? "all"
        guard let scope = DAGScope(rawValue: scopeText) else { throw HTTPProblem.badRequest("dag-scope=\(scopeText): use block, entity or all") }
        var entityBytes: EntityBytes?
        if let text = request.queryValue("entity-bytes") {
            guard let parsed = EntityBytes(text) else { throw HTTPProblem.badRequest("entity-bytes=\(text): use from:to (to may be *)") }
            entityBytes = parsed
        }
        // Resolve before answering, so a missing path is a 404 rather than a cut CAR.
        let terminal = try resolve(root, path)
        let source = store.blocks
        let bytes = entityBytes
        let stream = BlockingProducer.stream { emit in
            try emit(CAR.header(roots: [root]))
            try CARExport(source: source).blocks(root: root, path: path, scope: scope, entityBytes: bytes) { cid, block in
                try emit(CAR.section(cid, block))
            }
        }
        var response = HTTPResponse(status: 200, headers: [("content-type", "application/vnd.ipld.car; version=1; order=dfs; dups=n"),
                                                          ("etag", "\"\(terminal).car.\(scope.rawValue)\""), ("x-content-type-options", "nosniff"),
                                                          ("cache-control", "public, max-age=29030400, immutable"),
                                                          ("content-disposition", "attachment; filename=\"\(root).car\"")])
        response.stream = stream
        return response
    }

    func deserialized(_ root: CID, path: [String], request: HTTPRequest) throws -> HTTPResponse {
        let cid = try resolve(root, path)
        let reader = UnixFSReader(source: store.blocks)
        let etag = "\"\(cid)\""
        let common: [(name: String, value: String)] = [("etag", etag), ("x-ipfs-path", "/ipfs/" + ([root.string] + path).joined(separator: "/")),
                                                       ("cache-control", "public, max-age=29030400, immutable")]
        if request.header("if-none-match") == etag { return HTTPResponse(status: 304, headers: common) }
        switch try reader.entity(cid) {
        case .file(let size):
            var status = 200
            var range: Range<UInt64> = 0..<size
            var headers = common + [("content-type", Self.contentType(name: path.last ?? "")), ("accept-ranges", "bytes")]
            if let header = request.header("range") {
                guard let r = Self.parseRange(header, size: size) else {
                    return .problem(status: 416, detail: "Range \(header) is not satisfiable for \(size) bytes; ask bytes=first-last within it",
                                    headers: [("content-range", "bytes */\(size)")])
                }
                range = r
                status = 206
                headers.append(("content-range", "bytes \(r.lowerBound)-\(r.upperBound - 1)/\(size)"))
            }
            headers.append(("content-length", String(range.count)))
            let source = store.blocks
            let wanted = range
            var response = HTTPResponse(status: status, headers: headers)
            response.stream = BlockingProducer.stream { emit in
                try UnixFSReader(source: source).read(cid, range: wanted) { try emit(Array($0)) }
            }
            return response
        case .directory:
            let entries = try reader.list(cid)
            return HTTPResponse(status: 200, headers: common + [("content-type", "text/html; charset=utf-8")],
                                body: Array(Self.listing(root: root, path: path, entries: entries).utf8))
        case .symlink(let target):
            return HTTPResponse(status: 200, headers: common + [("content-type", "text/plain; charset=utf-8")], body: Array(target.utf8))
        case .other:
            throw HTTPProblem(status: 406, title: "Not Acceptable",
                              detail: "\(cid) is \(cid.codecName), not a UnixFS file or directory; ask ?format=raw or ?format=car")
        }
    }

    /// A single `bytes=a-b`, `bytes=a-` or `bytes=-n` range; nil when unsatisfiable.
    static func parseRange(_ header: String, size: UInt64) -> Range<UInt64>? {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst(6).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard spec.count == 2 else { return nil }
        if spec[0].isEmpty {
            guard let n = UInt64(spec[1]), n > 0, size > 0 else { return nil }
            return (size - min(n, size))..<size
        }
        guard let a = UInt64(spec[0]), a < size else { return nil }
        let b = spec[1].isEmpty ? size - 1 : min(UInt64(spec[1]) ?? UInt64.max, size - 1)
        guard b >= a else { return nil }
        return a..<b + 1
    }

    static func contentType(name: String) -> String {
        let ext = name.split(separator: ".").last.map { $0.lowercased() } ?? ""
        let types = ["txt": "text/plain; charset=utf-8", "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8",
                     "json": "application/json", "css": "text/css", "js": "text/javascript", "png": "image/png", "jpg": "image/jpeg",
                     "jpeg": "image/jpeg", "gif": "image/gif", "svg": "image/svg+xml", "pdf": "application/pdf", "car": "application/vnd.ipld.car",
                     "csv": "text/csv", "xml": "application/xml", "mp4": "video/mp4", "zip": "application/zip"]
        return name.contains(".") ? types[ext] ?? "application/octet-stream" : "application/octet-stream"
    }

    static func listing(root: CID, path: [String], entries: [UnixFSReader<BlockStore>.DirectoryEntry]) -> String {
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        let base = "/ipfs/" + ([root.string] + path).map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? $0 }.joined(separator: "/")
        var html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>\(escape(base))</title></head><body>\n<h1>Index of \(escape(base))</h1>\n<ul>\n"
        for e in entries {
            let href = base + "/" + (e.name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? e.name)
            html += "<li><a href=\"\(escape(href))\">\(escape(e.name))</a> <small>\(e.cid) \(e.tsize.map(String.init) ?? "")</small></li>\n"
        }
        return html + "</ul>\n</body></html>\n"
    }
}
