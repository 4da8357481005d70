#if canImport(Glibc)
import Glibc
#endif

/// The capabilities AF_XDP serving needs, read from the process's effective set, so a
/// daemon started with only those (systemd `AmbientCapabilities=`, `setcap`) is not
/// refused for not being root, and one without them is told which it lacks.
enum Capabilities {
    /// Bit numbers from <linux/capability.h>.
    static let netAdmin = 12, netRaw = 13, sysAdmin = 21, bpf = 39

    /// The effective set (`CapEff` in /proc/self/status), nil when unreadable.
    static func effective() -> UInt64? {
        guard let file = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("CapEff:") else { continue }
            return UInt64(text.dropFirst(7).trimmingCharacters(), radix: 16)
        }
        return nil
    }

    /// What AF_XDP with Apus's pinned program needs that `set` lacks, named as the kernel does,
    /// or nil: CAP_NET_RAW (AF_XDP sockets), CAP_NET_ADMIN (binding them to a device queue) and
    /// CAP_BPF (the program's maps; CAP_SYS_ADMIN also grants it).
    static func missingForXDP(_ set: UInt64? = effective()) -> String? {
        guard let set else { return "capabilities (cannot read /proc/self/status)" }
        func has(_ bit: Int) -> Bool { set & (1 << UInt64(bit)) != 0 }
        var missing: [String] = []
        if !has(netRaw) { missing.append("CAP_NET_RAW") }
        if !has(netAdmin) { missing.append("CAP_NET_ADMIN") }
        if !has(bpf) && !has(sysAdmin) { missing.append("CAP_BPF") }
        return missing.isEmpty ? nil : missing.joined(separator: ", ")
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters() -> String {
        String(drop { $0 == " " || $0 == "\t" }.prefix { $0 != "\n" && $0 != " " })
    }
}
