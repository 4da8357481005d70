import ApusThrift
import Testing

/// Malformed input gets the exact error kind, never a crash or a hang.
@Suite struct MalformedInputTests {
    func kind(_ bytes: [UInt8], _ protocolID: ThriftProtocolID, as type: ThriftType = .struct,
              limits: ThriftLimits = .default) -> ThriftError.Kind? {
        thriftError { () throws(ThriftError) in _ = try decodeValue(type, bytes, protocolID, limits: limits) }?.kind
    }

    func messageKind(_ bytes: [UInt8], _ protocolID: ThriftProtocolID) -> ThriftError.Kind? {
        thriftError { () throws(ThriftError) in _ = try dumpMessage(bytes, protocolID) }?.kind
    }

    @Test(arguments: [0x01, 0x05, 0x07, 0x09, 0x11, 0xFF] as [UInt8])
    func binaryUnknownFieldType(_ type: UInt8) {
        #expect(kind([type, 0x00, 0x01, 0x00], .binary) == .invalidType)
    }

    @Test(arguments: [14, 15] as [UInt8])
    func compactUnknownFieldType(_ nibble: UInt8) {
        #expect(kind([0x10 | nibble, 0x00], .compact) == .invalidType)
        #expect(kind([0x10 | nibble], .compact, as: .list) == .invalidType)
    }

    @Test func unknownElementTypes() {
        #expect(kind(hex("11 00000000"), .binary, as: .list) == .invalidType)
        #expect(kind(hex("0b 11 00000000"), .binary, as: .map) == .invalidType)
        #expect(kind(hex("01 8e"), .compact, as: .map) == .invalidType)
    }

    @Test func negativeSizes() {
        #expect(kind(hex("0b 0001 ffffffff"), .binary) == .negativeSize)            // string length -1
        #expect(kind(hex("08 80000000"), .binary, as: .list) == .negativeSize)      // list size i32.min
        #expect(kind(hex("08 08 fffffffe"), .binary, as: .map) == .negativeSize)
        #expect(kind(hex("18 ffffffff0f"), .compact) == .negativeSize)              // string length -1 (varint)
        #expect(kind(hex("f5 ffffffff0f"), .compact, as: .list) == .negativeSize)
        #expect(kind(hex("ffffffff0f 55"), .compact, as: .map) == .negativeSize)
    }

    @Test func sizesBeyondTheInputAreTruncated() {
        #expect(kind(hex("0b 0001 000003e8 6869"), .binary) == .truncated)          // 1000-byte string, 2 bytes there
        #expect(kind(hex("0a 000f4240 0000000000000001"), .binary, as: .list) == .truncated)  // 1e6 i64s
        #expect(kind(hex("18 e807 6869"), .compact) == .truncated)
        #expect(kind(hex("f7 c0843d 0000000000000000"), .compact, as: .list) == .truncated)  // 1e6 doubles
    }

    @Test func sizesBeyondTheLimitsAreRejected() {
        #expect(kind(hex("0b 0001 7fffffff"), .binary) == .sizeLimit)               // 2 GiB string
        let limits = ThriftLimits(maxStringSize: 4, maxContainerSize: 3)
        #expect(kind(hex("0b 0001 00000005 6162636465 00"), .binary, limits: limits) == .sizeLimit)
        #expect(kind(hex("03 00000004 01020304"), .binary, as: .list, limits: limits) == .sizeLimit)
        #expect(kind(hex("43 01020304"), .compact, as: .list, limits: limits) == .sizeLimit)
        #expect(kind(hex("03 00000003 010203"), .binary, as: .list, limits: limits) == nil)
    }

    /// Nested lists `depth` deep, innermost empty.
    func nestedLists(_ depth: Int, _ protocolID: ThriftProtocolID) -> [UInt8] {
        switch protocolID {
        case .binary: Array(repeating: hex("0f 00000001"), count: depth - 1).flatMap { $0 } + hex("08 00000000")
        case .compact: Array(repeating: [0x19], count: depth - 1).flatMap { $0 } + [0x05]
        }
    }

    /// Nested structs `depth` deep: field 1 of each holds the next.
    func nestedStructs(_ depth: Int, _ protocolID: ThriftProtocolID) -> [UInt8] {
        switch protocolID {
        case .binary: Array(repeating: hex("0c 0001"), count: depth - 1).flatMap { $0 } + Array(repeating: 0, count: depth)
        case .compact: Array(repeating: [0x1C], count: depth - 1).flatMap { $0 } + Array(repeating: 0, count: depth)
        }
    }

    @Test(arguments: ThriftProtocolID.allCases)
    func depthCountsStructsAndContainers(_ protocolID: ThriftProtocolID) {
        #expect(kind(nestedLists(64, protocolID), protocolID, as: .list) == nil)
        #expect(kind(nestedLists(65, protocolID), protocolID, as: .list) == .depthLimit)
        #expect(kind(nestedLists(200, protocolID), protocolID, as: .list) == .depthLimit)
        #expect(kind(nestedStructs(64, protocolID), protocolID) == nil)
        #expect(kind(nestedStructs(65, protocolID), protocolID) == .depthLimit)
        #expect(kind(nestedStructs(100_000, protocolID), protocolID) == .depthLimit)
        // A struct holding 63 nested lists is 64 deep; 64 lists make 65.
        let inner = nestedLists(63, protocolID)
        let field: [UInt8] = protocolID == .binary ? hex("0f 0001") : [0x19]
        #expect(kind(field + inner + [0], protocolID) == nil)
        #expect(kind(field + nestedLists(64, protocolID) + [0], protocolID) == .depthLimit)
        // Skipping an unknown field is bounded the same way.
        #expect(thriftError { () throws(ThriftError) in
            try withBytes(field + nestedLists(64, protocolID) + [0]) { buffer throws(ThriftError) in
                if protocolID == .binary { var r = BinaryReader(buffer); try r.skip(.struct) } else { var r = CompactReader(buffer); try r.skip(.struct) }
            }
        }?.kind == .depthLimit)
    }

    @Test func varintsLongerThanTheirTypeAllows() {
        #expect(kind(hex("8080808080 00"), .compact, as: .i32) == .varintTooLong)       // 6 bytes for an i32
        #expect(kind(hex("8080808000"), .compact, as: .i32) == nil)                      // 5 is fine
        #expect(kind(hex("80808080808080808080 00"), .compact, as: .i64) == .varintTooLong)  // 11 for an i64
        #expect(kind(hex("80808080808080808000"), .compact, as: .i64) == nil)            // 10 is fine
        #expect(kind(hex("ffffffffff01"), .compact, as: .string) == .varintTooLong)      // string length
        #expect(kind(hex("808004"), .compact, as: .i16) == .invalidValue)                 // zigzag 32768 doesn't fit i16
    }

    /// Skipping a list (an unknown field, a buffered-message walk) applies the same rules as reading it.
    @Test func listSkipsKeepTheRules() {
        func skipKind(_ bytes: [UInt8], _ protocolID: ThriftProtocolID) -> ThriftError.Kind? {
            thriftError { () throws(ThriftError) in
                try withBytes(bytes) { buffer throws(ThriftError) in
                    if protocolID == .binary { var r = BinaryReader(buffer); try r.skip(.list) } else { var r = CompactReader(buffer); try r.skip(.list) }
                }
            }?.kind
        }
        #expect(skipKind(hex("35 02 8080808080 01 04"), .compact) == .varintTooLong)   // i32 of 6 bytes
        #expect(skipKind(hex("36 02 80808080808080808001 04"), .compact) == nil)       // i64 of 10 bytes is fine
        #expect(skipKind(hex("34 02 808001 04"), .compact) == nil)                     // i16 varint of 3 bytes
        #expect(skipKind(hex("34 02 80808000 04"), .compact) == nil)                   // i16 0 padded to 4 bytes, as readI16 takes it
        #expect(skipKind(hex("34 02 80808001 04"), .compact) == .invalidValue)        // i16 element 2^20 does not fit
        #expect(skipKind(hex("34 01 808080808001"), .compact) == .varintTooLong)      // i16 varint of 6 bytes
        #expect(skipKind(hex("31 01 07 02"), .compact) == .invalidValue)               // bool byte 7
        #expect(skipKind(hex("36 02 8080"), .compact) == .truncated)
        #expect(skipKind(hex("0a 00000002 0000000000000001 00000000"), .binary) == .truncated)
        #expect(skipKind(hex("0a 00000002 0000000000000001 0000000000000002"), .binary) == nil)
    }

    @Test(arguments: [0, 5, 7] as [UInt8])
    func invalidMessageTypes(_ type: UInt8) {
        #expect(messageKind(hex("800100") + [type] + hex("00000000 00000001 00"), .binary) == .invalidMessageType)
        #expect(messageKind(hex("00000000") + [type] + hex("00000001 00"), .binary) == .invalidMessageType)
        #expect(messageKind([0x82, type << 5 | 1, 0x01, 0x00, 0x00], .compact) == .invalidMessageType)
    }

    @Test func badVersions() {
        #expect(messageKind(hex("80020001 00000000 00000001 00"), .binary) == .badVersion)
        #expect(messageKind(hex("82 22 01 00 00"), .compact) == .badVersion)
        #expect(messageKind(hex("83 21 01 00 00"), .compact) == .badVersion)
    }

    @Test func oldHeaderNameLengthIsBounded() {
        // A non-negative first word is an old-header name length: 2^31-1 hits the string limit.
        #expect(messageKind(hex("7fffffff 00"), .binary) == .sizeLimit)
    }

    @Test func framesOutsideTheLimits() {
        func frameKind(_ header: [UInt8], limits: ThriftLimits = .default) -> ThriftError.Kind? {
            thriftError { () throws(ThriftError) in
                _ = try withBytes(header) { buffer throws(ThriftError) in try MessageBoundary.frame(in: buffer, limits: limits) }
            }?.kind
        }
        #expect(frameKind(hex("7fffffff")) == .sizeLimit)
        #expect(frameKind(hex("ffffffff")) == .negativeSize)
        #expect(frameKind(hex("00fa0001")) == .sizeLimit)    // 16,384,001 > 16,384,000
        #expect(frameKind(hex("00fa0000")) == nil)
        #expect(frameKind(hex("00000010"), limits: ThriftLimits(maxFrameSize: 15)) == .sizeLimit)
    }

    @Test func bufferedMessageThatNeverEndsHitsTheMessageLimit() {
        // A list of 10 strings, the first of 100 bytes, only partly there: need more, until the buffer reaches the limit.
        let start = hex("80010001 00000001 61 00000001 0f 0001 0b 0000000a 00000064")
        let limits = ThriftLimits(maxMessageSize: 64)
        let partial = start + Array(repeating: 0, count: 10)
        let small = thriftError { () throws(ThriftError) in
            let result = try withBytes(partial) { b throws(ThriftError) in try MessageBoundary.message(in: b, protocol: .binary, limits: limits) }
            #expect(result == nil)
        }
        #expect(small == nil)
        let large = start + Array(repeating: 0, count: 60)
        let error = thriftError { () throws(ThriftError) in
            _ = try withBytes(large) { b throws(ThriftError) in try MessageBoundary.message(in: b, protocol: .binary, limits: limits) }
        }
        #expect(error?.kind == .sizeLimit)
    }

    @Test func errorsNameWhereTheyHappened() {
        let error = thriftError { () throws(ThriftError) in _ = try dumpMessage(hex("80010001 00000001 61 00000001 08 0007 00 01"), .binary) }
        #expect(error?.kind == .truncated)
        #expect(error?.fieldID == 7)
        #expect(error?.protocolID == .binary)
        #expect(error?.offset == 16)  // where the i32 starts
        #expect(error?.description.contains("field 7") == true)
    }

    /// Random bytes and mutated valid messages: any answer but a crash or a hang.
    @Test(arguments: ThriftProtocolID.allCases)
    func fuzzNeverCrashes(_ protocolID: ThriftProtocolID) {
        var rng = SeededGenerator(seed: 0xF022 + UInt64(protocolID == .compact ? 7 : 0))
        let seeds = GoldenCase.all.filter { $0.protocolID == protocolID }.map(\.message)
        var outcomes = (ok: 0, failed: 0)
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 4 == 0 {
                bytes = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                bytes = seeds.randomElement(using: &rng)!
                for _ in 0..<Int.random(in: 1...4, using: &rng) where !bytes.isEmpty {
                    let index = Int.random(in: 0..<bytes.count, using: &rng)
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: bytes[index] = UInt8.random(in: 0...255, using: &rng)
                    case 1: bytes.remove(at: index)
                    default: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: index)
                    }
                }
            }
            do throws(ThriftError) {
                _ = try dumpMessage(bytes, protocolID)
                _ = try withBytes(bytes) { b throws(ThriftError) in try MessageBoundary.message(in: b, protocol: protocolID) }
                outcomes.ok += 1
            } catch {
                outcomes.failed += 1
            }
        }
        #expect(outcomes.ok > 0 && outcomes.failed > 0)
    }
}
