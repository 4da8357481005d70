import NIOSSL

/// TLS settings for the kernel transport from PEM files, as `apus serve --tls-*`
/// and `apus bench --tls-*` take them. Returns swift-nio-ssl configurations (set
/// them on `PosixServerTransport.Configuration.tls` and
/// `PosixClientTransport.Configuration.tls`, or build your own).
public enum TLSFiles {
    /// A server's TLS: its certificate chain and key; with `trustRoots`, client certificates
    /// are verified against them (required when `requireClientCertificate`, else verified
    /// when presented).
    public static func server(certificateChain: String, privateKey: String, trustRoots: String? = nil,
                              requireClientCertificate: Bool = false) throws(TLSFileError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try certificates(certificateChain, "certificate chain").map { .certificate($0) },
            privateKey: .privateKey(try key(privateKey)))
        if let trustRoots {
            configuration.trustRoots = .certificates(try certificates(trustRoots, "CA"))
            configuration.certificateVerification = requireClientCertificate ? .noHostnameVerification : .optionalVerification
        } else if requireClientCertificate {
            throw TLSFileError("requiring client certificates needs the CA that signs them (--tls-ca)")
        }
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }

    /// A client's TLS: the server is verified against `trustRoots` (the system's when nil);
    /// with a certificate chain and key, the client presents them (mutual TLS).
    public static func client(trustRoots: String? = nil, certificateChain: String? = nil,
                              privateKey: String? = nil) throws(TLSFileError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let trustRoots { configuration.trustRoots = .certificates(try certificates(trustRoots, "CA")) }
        switch (certificateChain, privateKey) {
        case let (chain?, key?):
            configuration.certificateChain = try certificates(chain, "certificate chain").map { .certificate($0) }
            configuration.privateKey = .privateKey(try Self.key(key))
        case (nil, nil): break
        default: throw TLSFileError("a client certificate needs both --tls-cert and --tls-key")
        }
        return configuration
    }

    private static func certificates(_ path: String, _ what: String) throws(TLSFileError) -> [NIOSSLCertificate] {
        let loaded: [NIOSSLCertificate]
        do { loaded = try NIOSSLCertificate.fromPEMFile(path) } catch {
            throw TLSFileError("cannot read the \(what) \(path) as PEM certificates: \(error)")
        }
        guard !loaded.isEmpty else { throw TLSFileError("\(path) holds no PEM certificate (the \(what))") }
        return loaded
    }

    private static func key(_ path: String) throws(TLSFileError) -> NIOSSLPrivateKey {
        do { return try NIOSSLPrivateKey(file: path, format: .pem) } catch {
            throw TLSFileError("cannot read the private key \(path) as PEM: \(error)")
        }
    }
}

/// A TLS file that cannot be used, and why.
public struct TLSFileError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
