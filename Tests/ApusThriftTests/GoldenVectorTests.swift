import ApusThrift
import Foundation
import Testing

/// Vectors written by Apache Thrift's own Python library, with the dump
/// Apache's reader produced for them (scripts/gen-golden.sh regenerates).
struct GoldenCase: CustomTestStringConvertible, Sendable {
    var name: String
    var protocolID: ThriftProtocolID
    var strict: Bool
    var framing: ThriftFraming
    var bytes: [UInt8]
    var dump: String

    var testDescription: String { name }

    /// The message without its frame header.
    var message: [UInt8] { framing == .framed ? Array(bytes.dropFirst(4)) : bytes }

    static let all: [GoldenCase] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/golden.json")
        let data = try! Data(contentsOf: url)
        let entries = try! JSONSerialization.jsonObject(with: data) as! [[String: Any]]
        return entries.map { entry in
            GoldenCase(
                name: entry["name"] as! String,
                protocolID: ThriftProtocolID(rawValue: entry["protocol"] as! String)!,
                strict: entry["strict"] as! Bool,
                framing: ThriftFraming(rawValue: entry["framing"] as! String)!,
                bytes: hex(entry["hex"] as! String),
                dump: entry["dump"] as! String
            )
        }
    }()
}

@Suite struct GoldenVectorTests {
    @Test func thereAreVectorsForEveryProtocolAndFraming() {
        let cases = GoldenCase.all
        #expect(cases.count >= 100)
        for protocolID in ThriftProtocolID.allCases {
            for framing in ThriftFraming.allCases {
                #expect(cases.contains { $0.protocolID == protocolID && $0.framing == framing })
            }
        }
        #expect(cases.contains { !$0.strict })
        #expect(cases.contains { $0.name.hasPrefix("uuid") })
    }

    @Test(arguments: GoldenCase.all)
    func dumpMatchesApache(_ golden: GoldenCase) throws {
        var message = golden.bytes
        if golden.framing == .framed {
            let range = try golden.bytes.withUnsafeBytes { buffer throws(ThriftError) in try MessageBoundary.frame(in: buffer) }
            #expect(range == 4..<golden.bytes.count)
            message = golden.message
        } else {
            let length = try message.withUnsafeBytes { buffer throws(ThriftError) in
                try MessageBoundary.message(in: buffer, protocol: golden.protocolID)
            }
            #expect(length == message.count)
        }
        let (json, length) = try dumpMessage(message, golden.protocolID)
        #expect(json == golden.dump)
        #expect(length == message.count)
    }

    /// Apus writes the same bytes Apache wrote: header, then the body re-encoded from the value tree.
    @Test(arguments: GoldenCase.all.filter { $0.strict && $0.framing == .buffered })
    func reencodingGivesApachesBytes(_ golden: GoldenCase) throws {
        let message = golden.message
        let reencoded = try message.withUnsafeBytes { buffer throws(ThriftError) -> [UInt8] in
            switch golden.protocolID {
            case .binary:
                var reader = BinaryReader(buffer)
                let header = try reader.readMessageBegin()
                let body = try ThriftValue(reading: .struct, from: &reader)
                var writer = BinaryWriter(GrowableOutput())
                try writer.writeMessageBegin(name: header.name.buffer, type: header.type, sequenceID: header.sequenceID)
                try body.write(to: &writer)
                return writer.output.bytes
            case .compact:
                var reader = CompactReader(buffer)
                let header = try reader.readMessageBegin()
                let body = try ThriftValue(reading: .struct, from: &reader)
                var writer = CompactWriter(GrowableOutput())
                try writer.writeMessageBegin(name: header.name.buffer, type: header.type, sequenceID: header.sequenceID)
                try body.write(to: &writer)
                return writer.output.bytes
            }
        }
        #expect(hexString(reencoded) == hexString(message))
    }

    /// Every proper prefix of a valid message is "need more bytes", never an error or a crash.
    @Test(arguments: GoldenCase.all.filter { $0.framing == .buffered })
    func everyTruncationIsNeedMore(_ golden: GoldenCase) throws {
        let message = golden.message
        for cut in 0..<message.count {
            let prefix = Array(message[0..<cut])
            let length = try prefix.withUnsafeBytes { buffer throws(ThriftError) in
                try MessageBoundary.message(in: buffer, protocol: golden.protocolID)
            }
            #expect(length == nil, "prefix of \(cut) bytes")
            let error = thriftError { () throws(ThriftError) in _ = try dumpMessage(prefix, golden.protocolID) }
            #expect(error?.kind == .truncated, "prefix of \(cut) bytes: \(String(describing: error))")
        }
    }

    @Test func framedTruncationIsNeedMore() throws {
        for golden in GoldenCase.all where golden.framing == .framed {
            for cut in 0..<golden.bytes.count {
                let range = try Array(golden.bytes[0..<cut]).withUnsafeBytes { buffer throws(ThriftError) in
                    try MessageBoundary.frame(in: buffer)
                }
                #expect(range == nil)
            }
        }
    }
}
