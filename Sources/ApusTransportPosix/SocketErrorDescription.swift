import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Socket failures in words a user can act on. NIO's own descriptions name the system call,
/// wrap the errno twice and, for connects, list every address tried; what a user needs is what
/// happened and what to do.
enum SocketErrorDescription {
    /// The errno behind `error`, if it is a system call's failure (possibly inside NIO's
    /// connection error, which collects one failure per address tried).
    static func errno(of error: any Error) -> Int32? {
        if let error = error as? IOError { return error.errnoCode }
        if let error = error as? NIOConnectionError {
            for failure in error.connectionErrors { if let code = errno(of: failure.error) { return code } }
        }
        return nil
    }

    /// Why listening on `host:port` failed.
    static func listening(on host: String, port: Int, _ error: any Error) -> String {
        switch errno(of: error) {
        case EADDRINUSE: "\(host):\(port) is already in use (another process listens there: stop it, or choose another --port)"
        case EACCES: "not allowed to listen on port \(port) (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
        case EADDRNOTAVAIL: "\(host) is not an address of this machine (choose one it has, 0.0.0.0 for all, or 127.0.0.1)"
        case let code?: "cannot listen on \(host):\(port): \(String(cString: strerror(code)))"
        case nil: "cannot listen on \(host):\(port): \(error)"
        }
    }

    /// Why connecting to `endpoint` (host:port) failed: the part after "cannot connect to ENDPOINT: ".
    static func connecting(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError, error.connectionErrors.isEmpty,
           let dns = error.dnsAError ?? error.dnsAAAAError {
            return "cannot resolve host '\(error.host)' (\(dns))"
        }
        if let error = error as? ChannelError, case .connectTimeout(let after) = error {
            return "no answer within \(after.nanoseconds / 1_000_000) ms (a firewall dropping packets, or a wrong address)"
        }
        switch errno(of: error) {
        case ECONNREFUSED: return "connection refused (is the server running, and on that port?)"
        case ETIMEDOUT: return "no answer (timed out: a firewall dropping packets, or a wrong address)"
        case EHOSTUNREACH, ENETUNREACH: return "no route to the host (check the address and this machine's routes)"
        case let code?: return String(cString: strerror(code))
        case nil: return "\(error)"
        }
    }
}
