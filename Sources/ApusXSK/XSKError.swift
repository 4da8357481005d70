#if canImport(Glibc)
import Glibc
#endif

/// A failed AF_XDP or BPF operation: which call, on what, the errno, and
/// what to do about it.
public struct XSKError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var errno: Int32
    public var hint: String

    public init(_ operation: String, errno: Int32, hint: String = "") {
        self.operation = operation
        self.errno = errno
        self.hint = hint.isEmpty ? XSKError.defaultHint(errno) : hint
    }

    public var description: String {
        let reason = errno == 0 ? "" : ": \(String(cString: strerror(errno))) (errno \(errno))"
        return "\(operation)\(reason)" + (hint.isEmpty ? "" : "; \(hint)")
    }

    static func defaultHint(_ errno: Int32) -> String {
        switch errno {
        case EPERM, EACCES: "AF_XDP and BPF maps need root, or CAP_NET_RAW + CAP_NET_ADMIN + CAP_BPF (and CAP_IPC_LOCK or a large enough RLIMIT_MEMLOCK for the UMEM)"
        case ENOBUFS: "RLIMIT_MEMLOCK is too small for the UMEM: grant CAP_IPC_LOCK, raise the limit (systemd LimitMEMLOCK=, ulimit -l) or use fewer --frames"
        case ENODEV, ENXIO: "no such interface or queue in this network namespace"
        case EBUSY: "another AF_XDP socket is bound to this queue"
        case EAFNOSUPPORT: "this kernel has no AF_XDP (CONFIG_XDP_SOCKETS)"
        case ENOMEM: "not enough locked memory for the UMEM (raise RLIMIT_MEMLOCK)"
        default: ""
        }
    }
}
