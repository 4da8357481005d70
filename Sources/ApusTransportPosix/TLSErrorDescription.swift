import NIOSSL

/// TLS failures in words a user can act on. BoringSSL's own text names an internal
/// reason code and a source file; what a user needs is which side to fix.
enum TLSErrorDescription {
    /// The reason code inside BoringSSL's message (`CERTIFICATE_VERIFY_FAILED`), if there is one.
    static func reason(of error: any Error) -> String? {
        let text = "\(error)"
        let marker = "OPENSSL_internal:"
        guard let start = text.indices.first(where: { text[$0...].hasPrefix(marker) }) else { return nil }
        let rest = text[text.index(start, offsetBy: marker.count)...]
        return String(rest.prefix { $0.isUppercase || $0.isNumber || $0 == "_" })
    }

    /// What went wrong, and what to do.
    static func describe(_ error: any Error) -> String {
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "the server's certificate does not name the host or address dialled"
                + " (check for the name it carries with --tls-server-name, or issue it for this address)"
        }
        if "\(error)".contains("EOF during handshake") {
            return "the peer closed the connection during the handshake (it may have rejected this side's certificate:"
                + " its CA not trusted there, expired, or not for the name it dialled)"
        }
        return switch reason(of: error) {
        case "CERTIFICATE_VERIFY_FAILED":
            "the peer's certificate is not trusted (signed by a CA not given with --tls-ca, expired, or not for this host name)"
        case "WRONG_VERSION_NUMBER", "HTTP_REQUEST", "HTTPS_PROXY_REQUEST":
            "the peer does not speak TLS (a plaintext client on a TLS port?)"
        case "TLSV1_ALERT_CERTIFICATE_REQUIRED", "PEER_DID_NOT_RETURN_A_CERTIFICATE":
            "the server requires a client certificate (--tls-cert and --tls-key)"
        case "TLSV1_ALERT_UNKNOWN_CA", "SSLV3_ALERT_BAD_CERTIFICATE", "SSLV3_ALERT_CERTIFICATE_EXPIRED":
            "the peer rejected this side's certificate (its CA is not trusted there, or it expired)"
        case "BAD_PACKET_LENGTH", "DECRYPTION_FAILED_OR_BAD_RECORD_MAC":
            // A TLS 1.3 client that rejects the server's certificate sends its alert in the
            // clear after ServerHello, which the server reads as a short encrypted record.
            "the peer broke off the handshake (most likely it rejected this side's certificate: its CA not trusted"
                + " there, expired, or not for the name it dialled)"
        case "NO_SHARED_CIPHER", "UNSUPPORTED_PROTOCOL", "TLSV1_ALERT_PROTOCOL_VERSION":
            "no TLS version or cipher in common (Apus needs TLS 1.2 or later)"
        case let code?: "TLS error \(code)"
        case nil: "\(error)"
        }
    }
}
