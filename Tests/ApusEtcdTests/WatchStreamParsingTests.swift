import ApusRPC
@testable import ApusEtcd
import Testing

/// The pieces that turn the gateway's bytes into objects and endpoints, fed
/// by hand: chunk boundaries and malformed registrations.
@Suite struct WatchStreamParsingTests {
    static let stream = #"{"result":{"created":true}}"# + "\n"
        + #"{"result":{"events":[{"kv":{"key":"YS9i","value":"e30="}}]}}"# + "\n"
        + #"{"result":{"note":"a } and a { and an \" in a string"}}"#

    /// Every way of cutting the stream in two chunks gives the same three objects.
    @Test func splitsObjectsWhereverTheChunksAreCut() throws {
        let bytes = Array(Self.stream.utf8)
        for cut in 0...bytes.count {
            var splitter = JSONObjectSplitter()
            var objects: [String] = []
            for chunk in [bytes[..<cut], bytes[cut...]] {
                splitter.append(chunk)
                while let object = try splitter.next() { objects.append(String(decoding: object, as: UTF8.self)) }
            }
            #expect(objects == Self.stream.split(separator: "\n").map(String.init), "cut at \(cut)")
        }
    }

    @Test func splitsObjectsJoinedWithoutNewlinesAndByteByByte() throws {
        var splitter = JSONObjectSplitter()
        var count = 0
        for byte in Array(#"{"a":1}{"b":{"c":2}}  {"d":"}"}"#.utf8) {
            splitter.append([byte])
            while try splitter.next() != nil { count += 1 }
        }
        #expect(count == 3)
    }

    @Test func rejectsAStreamThatIsNotObjects() {
        var splitter = JSONObjectSplitter()
        splitter.append(Array("<html>".utf8))
        #expect(throws: JSONObjectSplitter.Failure.self) { try splitter.next() }
    }

    @Test func decodesARegistrationWithDefaults() throws {
        let full = try ServiceRecord.decode(Array(#"{"host":"10.0.0.1","port":9090,"weight":4,"transport":"xdp","protocol":"compact","tags":["a","b"]}"#.utf8)).get()
        #expect(full == Endpoint(host: "10.0.0.1", port: 9090, weight: 4, transport: "xdp", protocol: "compact", tags: ["a", "b"]))
        let bare = try ServiceRecord.decode(Array(#"{"host":"h","port":1}"#.utf8)).get()
        #expect(bare == Endpoint(host: "h", port: 1))
        let encoded = ServiceRecord.encode(full)
        #expect(try ServiceRecord.decode(encoded).get() == full)
    }

    @Test(arguments: [
        ("not json", "not JSON"),
        ("[1,2]", "not a JSON object"),
        (#"{"port":9090}"#, "no \"host\""),
        (#"{"host":"h"}"#, "no integer \"port\""),
        (#"{"host":"h","port":"9090"}"#, "no integer \"port\""),
        (#"{"host":"h","port":true}"#, "no integer \"port\""),
        (#"{"host":"h","port":0}"#, "port 0 is not in 1...65535"),
        (#"{"host":"h","port":70000}"#, "port 70000 is not in 1...65535"),
    ])
    func rejectsMalformedRegistrationsSayingWhy(value: String, reason: String) {
        switch ServiceRecord.decode(Array(value.utf8)) {
        case .success(let endpoint): Issue.record("accepted \(value) as \(endpoint)")
        case .failure(let malformed): #expect(malformed.description.contains(reason))
        }
    }
}
