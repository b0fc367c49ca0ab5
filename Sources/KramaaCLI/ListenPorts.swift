import Foundation

/// The ports a command is about to listen on, checked before it writes anything: each must be
/// a port number and free on its host, and no two may be the same. A devnet derives its
/// validators' ports from two flags (`--rpc-port` + i, `--p2p-port` + i), so the derived ones are
/// checked too. (A busy port once left the devnet waiting forever with no validator running,
/// and `--rpc-port 99999` wrote a data folder before failing.)
struct ListenPorts {
    /// One port: where, which flag sets it, and (for a derived one) what it is for.
    struct Port {
        var host: String
        var port: Int
        var flag: String
        /// `validator 2's JSON-RPC port (--rpc-port + 2)`; nil when the flag gives the port itself.
        var role: String?
        /// Whether 0 (the system picks a free port) is allowed.
        var allowsAny = false
    }

    var ports: [Port] = []

    /// A flag's port and the `count - 1` ports after it (validators 1, 2, ...).
    mutating func add(host: String, first: Int, flag: String, count: Int = 1, what: String) {
        for i in 0..<count {
            let role = count > 1 ? "validator \(i)'s \(what) port (\(flag) + \(i))" : nil
            ports.append(Port(host: host, port: first + i, flag: flag, role: role, allowsAny: count == 1))
        }
    }

    /// Throws a `CLIFailure` naming the first port that is not a port or is given twice, else the
    /// first one in use (what the flags make impossible is said before what the machine has taken).
    func check() throws {
        var seen: [Int: Port] = [:]
        for p in ports {
            if p.port == 0 && p.allowsAny { continue }
            guard (1...65535).contains(p.port) else {
                if let role = p.role {
                    throw CLIFailure("\(p.flag) gives \(role) the port \(p.port), outside 1-65535; choose a lower \(p.flag)")
                }
                throw CLIFailure("\(p.flag) \(p.port) is not a port (1-65535\(p.allowsAny ? ", or 0 for any free one" : "")); choose another \(p.flag)")
            }
            if let other = seen[p.port] {
                throw CLIFailure("port \(p.port) would be both \(other.role ?? other.flag) and \(p.role ?? p.flag); choose other values of \(other.flag) and \(p.flag)")
            }
            seen[p.port] = p
        }
        for p in ports where p.port != 0 {
            if let reason = Self.unavailable(host: p.host, port: p.port) {
                let what = p.role.map { "port \(p.port) on \(p.host), \($0)," } ?? "port \(p.port) on \(p.host) (\(p.flag))"
                throw CLIFailure("\(what) is \(reason); stop what uses it or choose another \(p.flag)")
            }
        }
    }

    /// Why `host:port` cannot be listened on (`in use`, ...), or nil when it can: binds a socket
    /// as the servers do (SO_REUSEADDR) and closes it at once.
    static func unavailable(host: String, port: Int) -> String? {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let info = list else { return "not an address of this machine" }
        defer { freeaddrinfo(list) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { return "unusable (\(String(cString: strerror(errno))))" }
        defer { close(fd) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            return errno == EADDRINUSE ? "in use" : "unusable (\(String(cString: strerror(errno))))"
        }
        return nil
    }
}
