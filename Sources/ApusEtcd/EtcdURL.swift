/// Where the registry lives and which part of its key space is ours:
/// `etcd://HOST:PORT/PREFIX` (`--register`, `--discover`).
///
/// A service's instances are the keys `PREFIX/SERVICE/INSTANCE`. The prefix
/// keeps the URL's leading slash (etcd's usual `/apus/...` keys) and loses
/// any trailing one, so `etcd://h/apus/` and `etcd://h/apus` name the same keys.
public struct EtcdURL: Hashable, Sendable, CustomStringConvertible {
    public static let defaultPort = 2379

    /// A name or address; an IPv6 address without its brackets.
    public var host: String
    public var port: Int
    /// `/apus`, `/apus/services`: never empty, never ending in `/`.
    public var prefix: String

    public init(host: String, port: Int = EtcdURL.defaultPort, prefix: String) {
        self.host = host
        self.port = port
        self.prefix = prefix
    }

    public init(parsing text: String) throws(EtcdError) {
        func bad(_ what: String) -> EtcdError { EtcdError(.invalidURL, operation: text, endpoint: "", detail: what) }
        let trimmed = text.trimmingSpaces
        guard let schemeEnd = trimmed.firstRange(of: "://") else { throw bad("no scheme") }
        let scheme = trimmed[..<schemeEnd.lowerBound]
        guard scheme.lowercased() == "etcd" else { throw bad("the scheme is '\(scheme)', not 'etcd'") }
        let rest = trimmed[schemeEnd.upperBound...]
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var path = rest[slash...]
        while path.hasSuffix("/") { path.removeLast() }
        guard path.contains(where: { $0 != "/" }) else { throw bad("the key prefix is missing") }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw bad("the IPv6 address has no closing ']'") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw bad("unexpected '\(after)' after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw bad("the host is missing") }
        var port = Self.defaultPort
        if let portText {
            guard let parsed = Int(portText), (1...65535).contains(parsed) else {
                throw bad("the port '\(portText)' is not a number in 1...65535")
            }
            port = parsed
        }
        self.init(host: String(host), port: port, prefix: String(path))
    }

    /// `HOST:PORT`, bracketing an IPv6 host: what error messages and logs name.
    public var endpoint: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public var description: String { "etcd://\(endpoint)\(prefix)" }
}

extension String {
    fileprivate var trimmingSpaces: Substring {
        var text = self[...]
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}
