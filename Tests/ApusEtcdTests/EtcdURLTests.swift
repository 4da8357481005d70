@testable import ApusEtcd
import Testing

@Suite struct EtcdURLTests {
    @Test(arguments: [
        ("etcd://127.0.0.1:2379/apus", "127.0.0.1", 2379, "/apus"),
        ("etcd://etcd.internal/apus/services/", "etcd.internal", 2379, "/apus/services"),
        ("  etcd://10.0.0.5:23790/a/b/c//  ", "10.0.0.5", 23790, "/a/b/c"),
        ("ETCD://[::1]:2380/apus", "::1", 2380, "/apus"),
        ("etcd://[fd00::5]/x", "fd00::5", 2379, "/x"),
    ])
    func parsesHostPortAndPrefix(text: String, host: String, port: Int, prefix: String) throws {
        let url = try EtcdURL(parsing: text)
        #expect(url.host == host)
        #expect(url.port == port)
        #expect(url.prefix == prefix)
    }

    @Test func describesItselfWithBracketsForIPv6() throws {
        #expect(try EtcdURL(parsing: "etcd://[::1]/apus/").description == "etcd://[::1]:2379/apus")
        #expect(try EtcdURL(parsing: "etcd://h:1/p").endpoint == "h:1")
    }

    @Test(arguments: [
        ("127.0.0.1:2379/apus", "no scheme"),
        ("http://127.0.0.1:2379/apus", "the scheme is 'http', not 'etcd'"),
        ("etcd://127.0.0.1:2379", "the key prefix is missing"),
        ("etcd://127.0.0.1:2379/", "the key prefix is missing"),
        ("etcd://127.0.0.1:2379///", "the key prefix is missing"),
        ("etcd://:2379/apus", "the host is missing"),
        ("etcd:///apus", "the host is missing"),
        ("etcd://h:99999/apus", "the port '99999' is not a number in 1...65535"),
        ("etcd://h:0/apus", "the port '0' is not a number in 1...65535"),
        ("etcd://h:http/apus", "the port 'http' is not a number in 1...65535"),
        ("etcd://[::1/apus", "the IPv6 address has no closing ']'"),
    ])
    func rejectsWhatIsNotAnEtcdURLSayingWhy(text: String, reason: String) {
        #expect {
            try EtcdURL(parsing: text)
        } throws: { error in
            guard let error = error as? EtcdError else { return false }
            return error.code == .invalidURL && error.description.contains(reason) && error.description.contains(text.trimmingSpaces())
                && error.description.contains("etcd://HOST:PORT/PREFIX")
        }
    }

    @Test func prefixRangeEndIsThePrefixWithItsLastByteIncremented() {
        #expect(EtcdJSON.rangeEnd(ofPrefix: "/apus/echo/") == Array("/apus/echo0".utf8))
        #expect(EtcdJSON.rangeEnd(ofPrefix: "ab") == Array("ac".utf8))
        #expect(EtcdJSON.rangeEnd(ofPrefix: "") == [0])
    }
}

extension String {
    fileprivate func trimmingSpaces() -> Substring {
        var text = self[...]
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}
