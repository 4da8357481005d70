import ApusXSK
#if canImport(Glibc)
import Glibc
#endif

/// What a running AF_XDP loop publishes once a second for `apus xdp stats`:
/// one line of `key=value` pairs per queue in /run/apus/IFACE/queue-Q, with
/// the writer's pid so a file left by a killed process is recognised as stale.
/// Plain files rather than a pinned map: `testbed.sh exec` shares /run with
/// the host, and the reader needs nothing but `cat`.
enum XSKStatusFile {
    static let root = "/run/apus"

    static func path(interface: String, queue: UInt32) -> String { "\(root)/\(interface)/queue-\(queue)" }

    /// Writes atomically (temporary file, then rename); errors are ignored:
    /// statistics must never stop the data path.
    static func write(interface: String, queue: UInt32, fields: [(String, String)]) {
        mkdir(root, 0o755)
        mkdir("\(root)/\(interface)", 0o755)
        let path = path(interface: interface, queue: queue)
        let temporary = path + ".tmp"
        guard let file = fopen(temporary, "w") else { return }
        let line = ([("pid", String(getpid()))] + fields).map { "\($0)=\($1)" }.joined(separator: " ") + "\n"
        fputs(line, file)
        fclose(file)
        rename(temporary, path)
    }

    static func remove(interface: String, queue: UInt32) {
        unlink(path(interface: interface, queue: queue))
        rmdir("\(root)/\(interface)")
    }

    /// Every queue's line whose writer is still alive, by queue.
    static func read(interface: String) -> [(queue: UInt32, line: String)] {
        guard let directory = opendir("\(root)/\(interface)") else { return [] }
        defer { closedir(directory) }
        var result: [(UInt32, String)] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.hasPrefix("queue-"), let queue = UInt32(name.dropFirst(6)),
                  let file = fopen("\(root)/\(interface)/\(name)", "r") else { continue }
            var buffer = [CChar](repeating: 0, count: 4096)
            let line = fgets(&buffer, 4096, file) != nil
                ? String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
            fclose(file)
            guard let pidField = line.split(separator: " ").first, pidField.hasPrefix("pid="),
                  let pid = pid_t(pidField.dropFirst(4)), kill(pid, 0) == 0 || errno == EPERM else { continue }
            result.append((queue, line))
        }
        return result.sorted { $0.0 < $1.0 }
    }
}
