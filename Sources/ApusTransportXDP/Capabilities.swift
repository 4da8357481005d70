#if canImport(Glibc)
import Glibc
#endif

/// The capabilities AF_XDP serving needs, read from the process's effective set, so a
/// daemon started with only those (systemd `AmbientCapabilities=`, `setcap`) is not
/// refused for not being root, and one without them is told which it lacks.
enum Capabilities {
    /// Bit numbers from <linux/capability.h>.
    static let netAdmin = 12, netRaw = 13, ipcLock = 14, sysAdmin = 21, bpf = 39

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

extension Capabilities {
    /// Why `bytes` of UMEM cannot be registered, or nil: without CAP_IPC_LOCK the kernel charges
    /// AF_XDP UMEM to RLIMIT_MEMLOCK (often 8 MiB), and a short limit shows up only as a bare
    /// ENOBUFS from setsockopt(XDP_UMEM_REG).
    static func lockedMemoryShortfall(bytes: Int, effective set: UInt64? = effective()) -> String? {
        if let set, set & (1 << UInt64(ipcLock)) != 0 { return nil }
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(__RLIMIT_MEMLOCK.rawValue), &limit) == 0 else { return nil }
        return shortfall(bytes: bytes, limit: limit.rlim_cur == rlim_t.max ? nil : Int(clamping: limit.rlim_cur))
    }

    static func shortfall(bytes: Int, limit: Int?) -> String? {
        guard let limit, limit < bytes else { return nil }
        return "the UMEM needs \(bytes >> 20) MiB of locked memory and RLIMIT_MEMLOCK is \(limit >> 20) MiB without CAP_IPC_LOCK:"
            + " grant CAP_IPC_LOCK, raise the limit (systemd LimitMEMLOCK=, ulimit -l) or use fewer --frames"
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters() -> String {
        String(drop { $0 == " " || $0 == "\t" }.prefix { $0 != "\n" && $0 != " " })
    }
}
