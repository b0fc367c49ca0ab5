import Foundation

/// One process at a time per data directory: `DIR/kramaa.lock` holds the PID of the process that
/// uses the directory, under an exclusive `flock`. The kernel releases the lock when that
/// process ends in any way (kill -9 included), so a lock file left behind by a dead process is
/// simply taken over; a live holder makes the second process stop before it touches anything.
/// (Two devnets on one folder once ran the same validator keys, signed conflicting blocks and
/// halted consensus.)
final class DataDirectoryLock {
    static let fileName = "kramaa.lock"

    let directory: URL
    private var fd: Int32

    private init(directory: URL, fd: Int32) {
        self.directory = directory
        self.fd = fd
    }

    /// Takes the lock of `directory` (created if missing) for the life of this process.
    /// - Throws: `CLIFailure` naming the holder's PID when another process has it.
    static func acquire(_ directory: URL) throws -> DataDirectoryLock {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CLIFailure("cannot create the data directory \(directory.path): \(error.localizedDescription)")
        }
        let path = directory.appendingPathComponent(fileName).path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CLIFailure("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = holderPID(fd)
            close(fd)
            guard code == EWOULDBLOCK else { throw CLIFailure("cannot lock \(path): \(String(cString: strerror(code)))") }
            throw CLIFailure("data directory \(directory.path) in use by PID \(holder.map(String.init) ?? "unknown") "
                             + "(another kramaa devnet or node); stop that process first, or give another --datadir")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return DataDirectoryLock(directory: directory, fd: fd)
    }

    /// Checks that no other process holds `directory` (a devnet's validator folders, before it
    /// starts their processes), without keeping the lock.
    static func checkFree(_ directory: URL) throws {
        guard FileManager.default.fileExists(atPath: directory.path) else { return }
        try acquire(directory).release()
    }

    /// Releases the lock now (it is released anyway when the process ends).
    func release() {
        guard fd >= 0 else { return }
        close(fd)  // closing the only descriptor drops the flock
        fd = -1
    }

    private static func holderPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
