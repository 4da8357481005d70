import ApusThrift
import Foundation
import Testing

/// THeader frames written by Apache Thrift's own Python library (scripts/gen-theader-golden.py):
/// Apus parses every field of them, and writes the same header to the same bytes.
struct THeaderCase: CustomTestStringConvertible, Sendable {
    var name: String
    var bytes: [UInt8]
    var flags: UInt16
    var sequenceNumber: UInt32
    var protocolID: ThriftProtocolID
    var transforms: [UInt32]
    var headers: [String: String]
    var payload: [UInt8]

    var testDescription: String { name }

    static let all: [THeaderCase] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/theader.json")
        let entries = try! JSONSerialization.jsonObject(with: try! Data(contentsOf: url)) as! [[String: Any]]
        return entries.map { entry in
            THeaderCase(name: entry["name"] as! String, bytes: hex(entry["hex"] as! String),
                        flags: UInt16(entry["flags"] as! Int), sequenceNumber: UInt32(entry["seq"] as! Int),
                        protocolID: ThriftProtocolID(rawValue: entry["protocol"] as! String)!,
                        transforms: (entry["transforms"] as! [Int]).map(UInt32.init),
                        headers: entry["headers"] as! [String: String], payload: hex(entry["payload"] as! String))
        }
    }()
}

@Suite struct THeaderTests {
    @Test(arguments: THeaderCase.all)
    func apacheFramesParse(_ golden: THeaderCase) throws {
        let frame = Array(golden.bytes.dropFirst(4))
        #expect(Int(UInt32(golden.bytes[0]) << 24 | UInt32(golden.bytes[1]) << 16 | UInt32(golden.bytes[2]) << 8
                    | UInt32(golden.bytes[3])) == frame.count)
        let (header, payload) = try frame.withUnsafeBytes { try THeader.parse($0) }
        #expect(header.flags == golden.flags)
        #expect(header.sequenceNumber == golden.sequenceNumber)
        #expect(header.protocolID == golden.protocolID)
        #expect(header.transforms.map(\.rawValue) == golden.transforms)
        #expect(header.headers == golden.headers)
        #expect(header.persistentHeaders.isEmpty)
        if golden.transforms.isEmpty { #expect(Array(frame[payload]) == golden.payload) }
    }

    @Test(arguments: THeaderCase.all)
    func theSameHeaderIsWrittenToTheSameBytes(_ golden: THeaderCase) throws {
        let header = THeader(flags: golden.flags, sequenceNumber: golden.sequenceNumber, protocol: golden.protocolID,
                             transforms: golden.transforms.map(THeader.Transform.init(rawValue:)), headers: golden.headers)
        let frame = Array(golden.bytes.dropFirst(4))
        let (_, payload) = try frame.withUnsafeBytes { try THeader.parse($0) }
        var written = [UInt8](repeating: 0xEE, count: header.frameHeaderSize)
        let count = try written.withUnsafeMutableBytes { try header.write(into: $0, payloadSize: payload.count) }
        #expect(count == header.frameHeaderSize)
        #expect(written == Array(golden.bytes[..<(4 + payload.lowerBound)]))
    }

    @Test func persistentHeadersRoundTrip() throws {
        let header = THeader(sequenceNumber: 9, protocol: .compact, headers: ["a": "1"], persistentHeaders: ["identity": "svc"])
        var bytes = [UInt8](repeating: 0, count: header.frameHeaderSize)
        _ = try bytes.withUnsafeMutableBytes { try header.write(into: $0, payloadSize: 0) }
        let (parsed, payload) = try Array(bytes.dropFirst(4)).withUnsafeBytes { try THeader.parse($0) }
        #expect(parsed == header)
        #expect(payload.isEmpty)
    }

    /// Malformed headers are errors that say what is wrong, never a crash or a read past the frame.
    @Test(arguments: [
        ("short", [0x0F, 0xFF, 0, 0], "shorter than its 10-byte fixed header"),
        ("bad magic", [0x0F, 0xFE, 0, 0, 0, 0, 0, 1, 0, 0], "magic"),
        ("header past frame", [0x0F, 0xFF, 0, 0, 0, 0, 0, 1, 0, 4, 0, 0], "larger than"),
        ("JSON protocol", [0x0F, 0xFF, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0], "protocol id 1"),
        ("varint runs off", [0x0F, 0xFF, 0, 0, 0, 0, 0, 1, 0, 1, 0x80, 0x80, 0x80, 0x80], "varint"),
        ("string past header", [0x0F, 0xFF, 0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 1, 1, 0x7F, 0, 0, 0], "past the header"),
    ] as [(String, [UInt8], String)])
    func malformedHeadersAreClearErrors(name: String, frame: [UInt8], says: String) {
        do {
            _ = try frame.withUnsafeBytes { try THeader.parse($0) }
            Issue.record("\(name): parsed")
        } catch {
            #expect("\(error)".contains(says), "\(name): \(error)")
        }
    }
}

/// The framer sniffs THeader among framed messages and hands out the inner message in place.
@Suite struct THeaderFramingTests {
    @Test(arguments: THeaderCase.all.filter { $0.transforms.isEmpty })
    func theFramerFindsTheInnerMessage(_ golden: THeaderCase) throws {
        var framer = MessageFramer(framing: nil, protocol: nil, limits: .default)
        var expected: Int?
        let message = try golden.bytes.withUnsafeBytes { try framer.next(in: $0, expectedTotal: &expected) }
        let found = try #require(message)
        #expect(framer.framing == .framed)
        #expect(found.consumed == golden.bytes.count)
        #expect(found.protocolID == golden.protocolID)
        #expect(Array(golden.bytes[found.range]) == golden.payload)
        #expect(found.header?.headers == golden.headers)
        #expect(found.header?.sequenceNumber == golden.sequenceNumber)
    }

    @Test func aZlibFrameIsHandedOutWithItsTransformAndAnUnknownOneIsRefused() throws {
        let zlib = try #require(THeaderCase.all.first { !$0.transforms.isEmpty })
        var framer = MessageFramer(framing: nil, protocol: nil, limits: .default)
        var expected: Int?
        let message = try zlib.bytes.withUnsafeBytes { try framer.next(in: $0, expectedTotal: &expected) }
        #expect(message?.header?.transforms == [.zlib], "undone by the stream core's reader")
        // The same frame naming transform 3 (snappy), which Apus does not have.
        var unknown = zlib.bytes
        let block = 4 + 10
        #expect(unknown[block] == 0 && unknown[block + 1] == 1 && unknown[block + 2] == 1)
        unknown[block + 2] = 3
        var fresh = MessageFramer(framing: nil, protocol: nil, limits: .default)
        do {
            _ = try unknown.withUnsafeBytes { try fresh.next(in: $0, expectedTotal: &expected) }
            Issue.record("an unknown transform was taken")
        } catch {
            #expect("\(error)".contains("unknown transform 3"))
        }
    }

    @Test func aProtocolOtherThanTheConfiguredOneIsRefused() throws {
        let compact = try #require(THeaderCase.all.first { $0.protocolID == .compact })
        var framer = MessageFramer(framing: nil, protocol: .binary, limits: .default)
        var expected: Int?
        #expect(throws: ThriftError.self) { _ = try compact.bytes.withUnsafeBytes { try framer.next(in: $0, expectedTotal: &expected) } }
    }
}
