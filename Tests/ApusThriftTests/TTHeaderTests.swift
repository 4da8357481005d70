import ApusThrift
import Foundation
import Testing

/// TTHeader frames built from CloudWeGo's published layout by an encoder written from the spec
/// alone (scripts/gen-ttheader-golden.py), around messages from Apache's Python protocols:
/// Apus parses every field of them and writes the same header to the same bytes.
struct TTHeaderCase: CustomTestStringConvertible, Sendable {
    var name: String
    var bytes: [UInt8]
    var flags: UInt16
    var sequenceNumber: UInt32
    var protocolID: ThriftProtocolID
    var headers: [String: String]
    var intHeaders: [UInt16: String]
    var aclToken: String?
    var payload: [UInt8]

    var testDescription: String { name }

    var header: THeader {
        THeader(format: .ttheader, flags: flags, sequenceNumber: sequenceNumber, protocol: protocolID, headers: headers,
                intHeaders: intHeaders, aclToken: aclToken)
    }

    static let all: [TTHeaderCase] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/ttheader.json")
        let entries = try! JSONSerialization.jsonObject(with: try! Data(contentsOf: url)) as! [[String: Any]]
        return entries.map { entry in
            let ints = (entry["int_headers"] as! [String: String]).map { (UInt16($0.key)!, $0.value) }
            return TTHeaderCase(name: entry["name"] as! String, bytes: hex(entry["hex"] as! String),
                                flags: UInt16(entry["flags"] as! Int), sequenceNumber: UInt32(entry["seq"] as! Int),
                                protocolID: ThriftProtocolID(rawValue: entry["protocol"] as! String)!,
                                headers: entry["headers"] as! [String: String],
                                intHeaders: Dictionary(uniqueKeysWithValues: ints),
                                aclToken: entry["acl_token"] as? String, payload: hex(entry["payload"] as! String))
        }
    }()
}

@Suite struct TTHeaderTests {
    @Test(arguments: TTHeaderCase.all)
    func publishedLayoutFramesParse(_ golden: TTHeaderCase) throws {
        let frame = Array(golden.bytes.dropFirst(4))
        let (header, payload) = try frame.withUnsafeBytes { try THeader.parse($0) }
        #expect(header == golden.header)
        #expect(header.format == .ttheader)
        #expect(Array(frame[payload]) == golden.payload)
    }

    @Test(arguments: TTHeaderCase.all)
    func theSameHeaderIsWrittenToTheSameBytes(_ golden: TTHeaderCase) throws {
        let header = golden.header
        var written = [UInt8](repeating: 0xEE, count: header.frameHeaderSize + golden.payload.count)
        let count = try written.withUnsafeMutableBytes { try header.write(into: $0, payloadSize: golden.payload.count) }
        #expect(count == header.frameHeaderSize)
        written.replaceSubrange(count..., with: golden.payload)
        #expect(written == golden.bytes)
    }

    @Test(arguments: TTHeaderCase.all)
    func theFramerFindsTheInnerMessageAmongPlainFrames(_ golden: TTHeaderCase) throws {
        var framer = MessageFramer(framing: nil, protocol: nil, limits: .default)
        var expected: Int?
        let found = try #require(try golden.bytes.withUnsafeBytes { try framer.next(in: $0, expectedTotal: &expected) })
        #expect(framer.framing == .framed)
        #expect(found.consumed == golden.bytes.count)
        #expect(found.protocolID == golden.protocolID)
        #expect(Array(golden.bytes[found.range]) == golden.payload)
        #expect(found.header == golden.header)
    }

    @Test func aHeaderOverItsFieldsWidthsIsNotWritten() {
        var header = THeader(format: .ttheader, headers: ["k": String(repeating: "v", count: 70_000)])
        var bytes = [UInt8](repeating: 0, count: header.frameHeaderSize)
        #expect(throws: ThriftError.self) { try bytes.withUnsafeMutableBytes { _ = try header.write(into: $0, payloadSize: 0) } }
        header.headers = ["k": "v"]
        header.transforms = [THeader.Transform(rawValue: 300)]
        bytes = [UInt8](repeating: 0, count: header.frameHeaderSize)
        #expect(throws: ThriftError.self) { try bytes.withUnsafeMutableBytes { _ = try header.write(into: $0, payloadSize: 0) } }
    }

    /// Frame bytes after LENGTH: magic, flags, sequence number, header size in words, block.
    static func frame(words: UInt16, _ block: [UInt8], flags: UInt16 = 0) -> [UInt8] {
        [0x10, 0x00, UInt8(flags >> 8), UInt8(flags & 0xFF), 0, 0, 0, 1, UInt8(words >> 8), UInt8(words & 0xFF)] + block
    }

    /// Malformed headers are errors that say what is wrong, never a crash or a read past the frame.
    @Test(arguments: [
        ("header size 0", frame(words: 0, [0x80, 1, 0, 1]), "header size 0"),
        ("header past the frame", frame(words: 2, [0, 0, 0, 0]), "larger than the 14-byte frame"),
        ("header over 64 KiB", frame(words: 16_385, [UInt8](repeating: 0, count: 65_540)), "header of 65540 bytes"),
        ("protobuf inside", frame(words: 1, [4, 0, 0, 0]), "protocol id 4 (Kitex protobuf)"),
        ("transforms past the header", frame(words: 1, [0, 3, 1, 1]), "transform ids"),
        ("string count cut", frame(words: 1, [0, 0, 0x01, 0]), "string info count"),
        ("string past the header", frame(words: 2, [0, 0, 0x01, 0, 1, 0, 9, 0x61]), "string info key"),
        ("int value past the header", frame(words: 2, [0, 0, 0x10, 0, 1, 0, 9, 0, 5]), "int info value"),
        ("ACL token cut", frame(words: 1, [0, 0, 0x11, 0]), "ACL token"),
        ("unknown info id", frame(words: 1, [0, 0, 0x07, 0]), "unknown info id 0x7"),
    ] as [(String, [UInt8], String)])
    func malformedHeadersAreClearErrors(name: String, frame: [UInt8], says: String) {
        do {
            _ = try frame.withUnsafeBytes { try THeader.parse($0) }
            Issue.record("\(name): parsed")
        } catch {
            #expect("\(error)".contains(says), "\(name): \(error)")
        }
    }

    @Test func aStreamingFrameIsRefusedByTheFramer() throws {
        let golden = try #require(TTHeaderCase.all.first)
        var bytes = golden.bytes
        bytes[7] |= 0x02  // FLAGS: streaming
        var framer = MessageFramer(framing: nil, protocol: nil, limits: .default)
        var expected: Int?
        do {
            _ = try bytes.withUnsafeBytes { try framer.next(in: $0, expectedTotal: &expected) }
            Issue.record("a streaming frame was taken")
        } catch {
            #expect("\(error)".contains("streaming"))
        }
    }
}
