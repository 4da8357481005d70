/// One server a balancing client can reach: where it listens, and what its
/// registration says of it.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Its share of calls relative to the others (round robin, power of two choices, points
    /// on the hash ring); at least 1.
    public var weight: Int
    /// What the server registered beside its address ("kernel", "xdp"; "binary", "header"...),
    /// for operators and filters: a client still talks the transport it was built with.
    public var transport: String?
    public var protocolName: String?
    public var tags: [String]

    public init(host: String, port: Int, weight: Int = 1, transport: String? = nil, protocol protocolName: String? = nil,
                tags: [String] = []) {
        self.host = host
        self.port = port
        self.weight = max(1, weight)
        self.transport = transport
        self.protocolName = protocolName
        self.tags = tags
    }

    /// `host:port` (`[v6]:port`): what identifies an endpoint from one set to the next, so a
    /// changed weight or tag updates it in place instead of replacing its connections.
    public var id: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public var description: String { weight == 1 ? id : "\(id) (weight \(weight))" }

    /// Parses `host:port` or `[v6]:port`.
    public init(parsing text: Substring) throws(EndpointError) {
        let trimmed = text.trimmingWhitespace
        var host: Substring
        var portText: Substring
        if trimmed.hasPrefix("["), let close = trimmed.firstIndex(of: "]") {
            host = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
            let rest = trimmed[trimmed.index(after: close)...]
            guard rest.hasPrefix(":") else { throw Self.badAddress(text) }
            portText = rest.dropFirst()
        } else {
            guard let colon = trimmed.lastIndex(of: ":") else { throw Self.badAddress(text) }
            host = trimmed[..<colon]
            portText = trimmed[trimmed.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (1...65535).contains(port) else { throw Self.badAddress(text) }
        self.init(host: String(host), port: port)
    }

    /// Parses a comma-separated list (`10.0.0.1:9090,10.0.0.2:9090`).
    public static func parseList(_ text: String) throws(EndpointError) -> [Endpoint] {
        var endpoints: [Endpoint] = []
        for part in text.split(separator: ",") where !part.trimmingWhitespace.isEmpty {
            endpoints.append(try Endpoint(parsing: part))
        }
        guard !endpoints.isEmpty else { throw EndpointError("no endpoint in '\(text)' (expected host:port,host:port)") }
        return endpoints
    }

    private static func badAddress(_ text: Substring) -> EndpointError {
        EndpointError("'\(text)' is not an endpoint: expected host:port (or [ipv6]:port) with a port in 1...65535")
    }
}

extension Substring {
    fileprivate var trimmingWhitespace: Substring {
        var text = self
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}

/// An endpoint or endpoint list that does not parse; says what was expected.
public struct EndpointError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
