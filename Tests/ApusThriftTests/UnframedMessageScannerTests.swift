import ApusThrift
import Testing

/// A valid unframed message, for parameterized tests.
struct ScannerCase: CustomTestStringConvertible, Sendable {
    var name: String
    var protocolID: ThriftProtocolID
    var bytes: [UInt8]

    var testDescription: String { "\(name) (\(protocolID), \(bytes.count) bytes)" }

    /// Apache's golden messages (frame headers dropped), then messages built
    /// here that cover every type, in both protocols.
    static let all: [ScannerCase] = {
        var cases = GoldenCase.all.map { ScannerCase(name: $0.name, protocolID: $0.protocolID, bytes: $0.message) }
        for protocolID in ThriftProtocolID.allCases {
            for (name, body) in ScannerBodies.all {
                cases.append(ScannerCase(name: name, protocolID: protocolID, bytes: ScannerBodies.message(body, protocolID)))
            }
            var generator = ValueGenerator(rng: SeededGenerator(seed: 0x5CA2 + UInt64(protocolID == .compact ? 1 : 0)))
            var added = 0
            while added < 12 {
                let bytes = ScannerBodies.message(generator.value(.struct, depth: 4), protocolID, name: "random")
                guard (200...3_000).contains(bytes.count) else { continue }
                cases.append(ScannerCase(name: "random-\(added)", protocolID: protocolID, bytes: bytes))
                added += 1
            }
        }
        for (name, body) in ScannerBodies.all.prefix(3) {
            cases.append(ScannerCase(name: "\(name)-old-header", protocolID: .binary, bytes: ScannerBodies.oldHeaderMessage(body)))
        }
        return cases
    }()
}

/// Message bodies covering every type and shape the scanner walks.
enum ScannerBodies {
    static func message(_ body: ThriftValue, _ protocolID: ThriftProtocolID, name: String = "scan",
                        type: MessageType = .call, sequenceID: Int32 = 300) -> [UInt8] {
        switch protocolID {
        case .binary:
            var writer = BinaryWriter(GrowableOutput())
            try! writer.writeMessageBegin(name: name, type: type, sequenceID: sequenceID)
            try! body.write(to: &writer)
            return writer.output.bytes
        case .compact:
            var writer = CompactWriter(GrowableOutput())
            try! writer.writeMessageBegin(name: name, type: type, sequenceID: sequenceID)
            try! body.write(to: &writer)
            return writer.output.bytes
        }
    }

    /// A binary message with the old header: name length, name, type byte, sequence id.
    static func oldHeaderMessage(_ body: ThriftValue, name: String = "old") -> [UInt8] {
        let nameBytes = Array(name.utf8)
        return bigEndian(Int32(nameBytes.count)) + nameBytes + [MessageType.call.rawValue] + bigEndian(7)
            + (try! encodeValue(body, .binary))
    }

    static func bigEndian(_ value: Int32) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    /// A struct whose fields are `values`, numbered from 1.
    static func fields(_ values: ThriftValue...) -> ThriftValue {
        .struct(values.enumerated().map { ThriftField(id: Int16($0.offset + 1), value: $0.element) })
    }

    static let uuid = ThriftUUID(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)

    static let everyScalar: ThriftValue = .struct([
        ThriftField(id: 1, value: .bool(true)),
        ThriftField(id: 2, value: .bool(false)),
        ThriftField(id: 3, value: .i8(-128)),
        ThriftField(id: 4, value: .i16(.min)),
        ThriftField(id: 5, value: .i32(.max)),
        ThriftField(id: 6, value: .i64(.min)),
        ThriftField(id: 7, value: .double(-1.5)),
        ThriftField(id: 8, value: .string("")),
        ThriftField(id: 9, value: .binary(Array(repeating: 0x61, count: 200))),  // a 2-byte compact length
        ThriftField(id: 10, value: .binary([0xFF, 0x00, 0xC3])),
        ThriftField(id: 11, value: .uuid(uuid)),
        ThriftField(id: 300, value: .i32(-1)),   // long-form compact field ids
        ThriftField(id: -5, value: .i64(1)),
        ThriftField(id: 32767, value: .bool(true)),
    ])

    static let nestedStructs: ThriftValue = fields(
        fields(fields(.i32(7), .string("inner"), .bool(false)), .bool(true), fields()),
        .i16(3)
    )

    static let point: ThriftValue = fields(.i32(1), .double(2.5), .string("p"))

    static let containersOfStructs: ThriftValue = fields(
        .list(.struct, [point, point, fields()]),
        .set(.struct, [point]),
        .map(key: .string, value: .struct, [ThriftMapEntry(key: .string("a"), value: point),
                                            ThriftMapEntry(key: .string("b"), value: nestedStructs)]),
        .map(key: .i32, value: .list, [ThriftMapEntry(key: .i32(9), value: .list(.struct, [point, point]))])
    )

    static let containersOfScalars: ThriftValue = fields(
        .list(.i8, [.i8(1), .i8(-1)]),
        .list(.i16, [.i16(.min), .i16(.max), .i16(0)]),
        .list(.i32, (0..<15).map { .i32(Int32($0) * 1_000_003) }),   // 15: compact's long count form
        .list(.i64, [.i64(.min), .i64(.max)]),
        .list(.double, [.double(1), .double(-0.0)]),
        .list(.string, [.string("x"), .string(""), .string("yz")]),
        .list(.uuid, [.uuid(uuid), .uuid(uuid)]),
        .set(.i64, [.i64(5)]),
        .map(key: .i16, value: .bool, [ThriftMapEntry(key: .i16(-3), value: .bool(true)),
                                       ThriftMapEntry(key: .i16(4), value: .bool(false))]),
        .map(key: .i8, value: .uuid, [ThriftMapEntry(key: .i8(1), value: .uuid(uuid))]),
        .map(key: .double, value: .i8, [ThriftMapEntry(key: .double(0.5), value: .i8(2))]),
        .map(key: .string, value: .string, [ThriftMapEntry(key: .string("k"), value: .string("v"))]),
        .list(.list, [.list(.i64, [.i64(1)]), .list(.i64, [])])
    )

    static let emptyContainers: ThriftValue = fields(
        .list(.struct, []),
        .set(.string, []),
        .map(key: .i32, value: .string, []),
        .list(.i64, []),
        fields(),
        .map(key: .i16, value: .bool, []),
        .list(.bool, [])
    )

    static let compactBools: ThriftValue = fields(
        .bool(true), .bool(false), .bool(false), .bool(true),
        .list(.bool, (0..<20).map { .bool($0 % 3 == 0) }),
        .set(.bool, [.bool(true), .bool(false)]),
        .map(key: .bool, value: .bool, [ThriftMapEntry(key: .bool(true), value: .bool(false))]),
        fields(.bool(false), .list(.bool, [.bool(true)]))
    )

    /// Structs and lists nested `levels` deep (with the body struct around
    /// it, `levels + 1`); the innermost is a list of two i32.
    static func nested(_ levels: Int) -> ThriftValue {
        if levels == 1 { return .list(.i32, [.i32(1), .i32(2)]) }
        let inner = nested(levels - 1)
        return levels % 2 == 0 ? .struct([ThriftField(id: 1, value: inner)]) : .list(inner.type, [inner])
    }

    /// As deep as the default limit allows: 64 with the body.
    static let deepNesting: ThriftValue = fields(nested(63))

    static let all: [(String, ThriftValue)] = [
        ("every-scalar", everyScalar),
        ("nested-structs", nestedStructs),
        ("containers-of-structs", containersOfStructs),
        ("containers-of-scalars", containersOfScalars),
        ("empty-containers", emptyContainers),
        ("bools", compactBools),
        ("deep-nesting", deepNesting),
        ("empty-body", fields()),
    ]
}

/// The scanner agrees with `MessageBoundary.message` (the truth, tested
/// against Apache's vectors) and does linear work however the bytes arrive.
@Suite struct UnframedMessageScannerTests {
    /// One scan over the first `count` bytes of `bytes`, as a value to compare.
    func scan(_ scanner: inout UnframedMessageScanner, _ bytes: UnsafeRawBufferPointer, count: Int? = nil) -> Result<Int?, ThriftError> {
        let view = UnsafeRawBufferPointer(rebasing: bytes[0..<(count ?? bytes.count)])
        do throws(ThriftError) { return .success(try scanner.scan(view)) } catch { return .failure(error) }
    }

    func boundary(_ bytes: UnsafeRawBufferPointer, count: Int? = nil, _ protocolID: ThriftProtocolID,
                  limits: ThriftLimits = .default) -> Result<Int?, ThriftError> {
        let view = UnsafeRawBufferPointer(rebasing: bytes[0..<(count ?? bytes.count)])
        do throws(ThriftError) {
            return .success(try MessageBoundary.message(in: view, protocol: protocolID, limits: limits))
        } catch { return .failure(error) }
    }

    func scanOnce(_ bytes: [UInt8], _ protocolID: ThriftProtocolID, limits: ThriftLimits = .default) -> Result<Int?, ThriftError> {
        var scanner = UnframedMessageScanner(protocol: protocolID, limits: limits)
        return bytes.withUnsafeBytes { scan(&scanner, $0) }
    }

    /// The header of a call named "m" with sequence id 7, to put hand-written bodies after.
    func header(_ protocolID: ThriftProtocolID) -> [UInt8] {
        protocolID == .binary ? hex("80010001 00000001 6d 00000007") : hex("82 21 07 01 6d")
    }

    // MARK: Valid messages

    @Test func theCorpusCoversBothProtocolsAndIsValid() throws {
        #expect(ScannerCase.all.count > 150)
        for protocolID in ThriftProtocolID.allCases {
            #expect(ScannerCase.all.contains { $0.protocolID == protocolID && $0.bytes.count > 1_000 })
        }
        for item in ScannerCase.all {
            let length = try withBytes(item.bytes) { b throws(ThriftError) in try MessageBoundary.message(in: b, protocol: item.protocolID) }
            #expect(length == item.bytes.count, "\(item.name)")
        }
    }

    @Test(arguments: ScannerCase.all)
    func wholeMessageAtOnce(_ item: ScannerCase) {
        #expect(scanOnce(item.bytes, item.protocolID) == .success(item.bytes.count))
    }

    @Test(arguments: ScannerCase.all)
    func everyPrefixInOrderIsNilUntilTheWholeMessage(_ item: ScannerCase) {
        var scanner = UnframedMessageScanner(protocol: item.protocolID, limits: .default)
        item.bytes.withUnsafeBytes { bytes in
            for count in 0..<bytes.count {
                let result = scan(&scanner, bytes, count: count)
                guard result == .success(nil) else {
                    Issue.record("prefix of \(count) bytes: \(result)")
                    return
                }
            }
            #expect(scan(&scanner, bytes) == .success(bytes.count))
        }
    }

    @Test(arguments: ScannerCase.all)
    func everySplitIntoTwoFeeds(_ item: ScannerCase) {
        item.bytes.withUnsafeBytes { bytes in
            for split in 0...bytes.count {
                var scanner = UnframedMessageScanner(protocol: item.protocolID, limits: .default)
                let first = scan(&scanner, bytes, count: split)
                let second = scan(&scanner, bytes)
                let expectedFirst: Int? = split == bytes.count ? bytes.count : nil
                guard first == .success(expectedFirst), second == .success(bytes.count) else {
                    Issue.record("split at \(split): \(first), then \(second)")
                    return
                }
            }
        }
    }

    @Test(arguments: ScannerCase.all)
    func aFollowingMessageIsNotConsumed(_ item: ScannerCase) {
        let next = ScannerBodies.message(ScannerBodies.point, item.protocolID)
        let both = item.bytes + next
        #expect(scanOnce(both, item.protocolID) == .success(item.bytes.count))
        // Fed a byte at a time, the answer comes exactly when the first message is complete.
        var scanner = UnframedMessageScanner(protocol: item.protocolID, limits: .default)
        let firstAnswer = both.withUnsafeBytes { bytes in
            (0...bytes.count).first { scan(&scanner, bytes, count: $0) != .success(nil) }
        }
        #expect(firstAnswer == item.bytes.count)
    }

    @Test(arguments: ThriftProtocolID.allCases)
    func bytesAfterTheMessageAreNotExamined(_ protocolID: ThriftProtocolID) {
        let message = ScannerBodies.message(ScannerBodies.containersOfStructs, protocolID)
        var scanner = UnframedMessageScanner(protocol: protocolID, limits: .default)
        // Bytes no message could start with: never looked at.
        let result = (message + Array(repeating: 0xFF, count: 64)).withUnsafeBytes { scan(&scanner, $0) }
        #expect(result == .success(message.count))
        #expect(scanner.bytesExamined == message.count)
    }

    @Test(arguments: ThriftProtocolID.allCases)
    func aCompleteMessageKeepsItsLength(_ protocolID: ThriftProtocolID) {
        let message = ScannerBodies.message(ScannerBodies.nestedStructs, protocolID)
        var scanner = UnframedMessageScanner(protocol: protocolID, limits: .default)
        message.withUnsafeBytes { bytes in
            #expect(scan(&scanner, bytes) == .success(bytes.count))
            #expect(scan(&scanner, bytes) == .success(bytes.count))
        }
    }

    @Test(arguments: ThriftProtocolID.allCases)
    func resetStartsTheNextMessage(_ protocolID: ThriftProtocolID) {
        let first = ScannerBodies.message(ScannerBodies.everyScalar, protocolID)
        let second = ScannerBodies.message(ScannerBodies.compactBools, protocolID, name: "second")
        var scanner = UnframedMessageScanner(protocol: protocolID, limits: .default)
        let stream = first + second
        stream.withUnsafeBytes { bytes in
            #expect(scan(&scanner, bytes, count: first.count / 2) == .success(nil))
            #expect(scan(&scanner, bytes) == .success(first.count))
            scanner.reset()
            #expect(scanner.bytesExamined == 0)
            let rest = UnsafeRawBufferPointer(rebasing: bytes[first.count...])
            #expect(scan(&scanner, rest, count: 10) == .success(nil))
            #expect(scan(&scanner, rest) == .success(second.count))
        }
    }

    @Test(arguments: ThriftProtocolID.allCases)
    func resetAfterAnErrorStartsOver(_ protocolID: ThriftProtocolID) {
        let valid = ScannerBodies.message(ScannerBodies.point, protocolID)
        var scanner = UnframedMessageScanner(protocol: protocolID, limits: .default)
        let garbage: [UInt8] = [0x81, 0x02, 0x03, 0x04, 0x05]
        guard case .failure(let error) = garbage.withUnsafeBytes({ scan(&scanner, $0) }) else {
            Issue.record("garbage accepted")
            return
        }
        #expect(error.kind == .badVersion)
        scanner.reset()
        #expect(valid.withUnsafeBytes { scan(&scanner, $0) } == .success(valid.count))
    }

    // MARK: Malformed input

    /// Mutated and truncated valid messages, under default and tight limits,
    /// scanned at once and in random pieces: the same answer as
    /// `MessageBoundary.message` on the same bytes each time, errors included.
    @Test(arguments: ThriftProtocolID.allCases)
    func malformedInputsAgreeWithMessageBoundary(_ protocolID: ThriftProtocolID) {
        var rng = SeededGenerator(seed: 0x5CA9 + UInt64(protocolID == .compact ? 1 : 0))
        let seeds = ScannerCase.all.filter { $0.protocolID == protocolID && $0.bytes.count <= 1_200 }.map(\.bytes)
        var outcomes = (threw: 0, needMore: 0, complete: 0)
        for round in 0..<4_000 {
            var bytes = seeds.randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 1...3, using: &rng) where !bytes.isEmpty {
                mutate(&bytes, using: &rng)
            }
            if Int.random(in: 0..<4, using: &rng) == 0 { bytes += seeds.randomElement(using: &rng)! }
            let limits = Int.random(in: 0..<3, using: &rng) == 0
                ? ThriftLimits(maxMessageSize: Int.random(in: 16...400, using: &rng), maxDepth: Int.random(in: 0...5, using: &rng),
                               maxStringSize: Int.random(in: 0...40, using: &rng), maxContainerSize: Int.random(in: 0...20, using: &rng))
                : .default
            bytes.withUnsafeBytes { buffer in
                let expected = boundary(buffer, protocolID, limits: limits)
                var scanner = UnframedMessageScanner(protocol: protocolID, limits: limits)
                let result = scan(&scanner, buffer)
                #expect(result == expected, "round \(round): \(hexString(bytes))")
                switch expected {
                case .failure: outcomes.threw += 1
                case .success(nil): outcomes.needMore += 1
                case .success: outcomes.complete += 1
                }
                // In pieces, or a byte at a time every tenth round: every answer on
                // the way is the walk's answer for the bytes so far.
                var pieces = UnframedMessageScanner(protocol: protocolID, limits: limits)
                let cuts = round % 10 == 0
                    ? Array(0..<buffer.count)
                    : (0..<Int.random(in: 1...4, using: &rng)).map { _ in Int.random(in: 0...buffer.count, using: &rng) }.sorted()
                for cut in cuts + [buffer.count] {
                    let partial = scan(&pieces, buffer, count: cut)
                    let truth = boundary(buffer, count: cut, protocolID, limits: limits)
                    guard partial == truth else {
                        Issue.record("round \(round), \(cut) bytes of \(hexString(bytes)): \(partial), expected \(truth)")
                        break
                    }
                    if partial != .success(nil) { break }
                }
            }
        }
        #expect(outcomes.threw > 500 && outcomes.needMore > 500 && outcomes.complete > 500, "\(outcomes)")
    }

    /// One random edit: a byte changed or flipped, removed or inserted, the
    /// tail cut off, or a size-like word or varint written over.
    func mutate(_ bytes: inout [UInt8], using rng: inout SeededGenerator) {
        let index = Int.random(in: 0..<bytes.count, using: &rng)
        switch Int.random(in: 0..<7, using: &rng) {
        case 0: bytes[index] = UInt8.random(in: 0...255, using: &rng)
        case 1: bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
        case 2: bytes.remove(at: index)
        case 3: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: index)
        case 4: bytes.removeSubrange(index...)
        case 5:
            let words = [hex("7fffffff"), hex("80000000"), hex("ffffffff"), hex("00000010"), hex("00000100"), hex("0001")]
            let word = words.randomElement(using: &rng)!
            bytes.replaceSubrange(index..<min(index + word.count, bytes.count), with: word)
        default:
            let varints = [hex("ffffffff0f"), hex("8080808080"), hex("80808080808080808080"), hex("f5"), hex("0f"), hex("808004")]
            let varint = varints.randomElement(using: &rng)!
            bytes.replaceSubrange(index..<min(index + varint.count, bytes.count), with: varint)
        }
    }

    @Test func malformedHeadersThrowTheReadersErrors() {
        let vectors: [(ThriftProtocolID, String, ThriftError.Kind)] = [
            (.binary, "80020001 00000000 00000001 00", .badVersion),
            (.binary, "80010000 00000000 00000001 00", .invalidMessageType),
            (.binary, "80010005 00000000 00000001 00", .invalidMessageType),
            (.binary, "00000000 07 00000001 00", .invalidMessageType),   // old header
            (.binary, "7fffffff", .sizeLimit),                           // old header: a 2 GiB name
            (.binary, "80010001 ffffffff", .negativeSize),
            (.compact, "83 21 01 00 00", .badVersion),
            (.compact, "82 22 01 00 00", .badVersion),
            (.compact, "82 a1 01 00 00", .invalidMessageType),
            (.compact, "82 21 8080808080", .varintTooLong),
            (.compact, "82 21 01 ffffffff0f", .negativeSize),
        ]
        for (protocolID, text, kind) in vectors {
            let bytes = hex(text)
            let result = scanOnce(bytes, protocolID)
            #expect(result == bytes.withUnsafeBytes { boundary($0, protocolID) }, "\(text)")
            guard case .failure(let error) = result else {
                Issue.record("\(text): \(result)")
                continue
            }
            #expect(error.kind == kind, "\(text)")
        }
    }

    @Test func malformedBodiesThrowTheReadersErrors() {
        let vectors: [(ThriftProtocolID, String, ThriftError.Kind)] = [
            (.binary, "01 0001", .invalidType),                  // field type 1
            (.binary, "0f 0001 11", .invalidType),               // list of type 17
            (.binary, "0d 0001 0b 05", .invalidType),            // map to type 5
            (.compact, "1e", .invalidType),                      // field nibble 14
            (.compact, "19 3f", .invalidType),                   // list of nibble 15
            (.compact, "1b 01 80", .invalidType),                // map from nibble 8 to nibble 0
            (.compact, "19 21 01 07", .invalidValue),            // list of bools: byte 7
            (.compact, "1b 01 11 01 05", .invalidValue),          // map of bools: byte 5
            (.compact, "04 808004", .invalidValue),               // field id 32768
            (.compact, "14 808004", .invalidValue),               // i16 field 32768
            (.compact, "19 34 80808001", .invalidValue),          // i16 element 2^21 (4 bytes)
            (.compact, "19 14 808080808001", .varintTooLong),     // i16 element of 6 bytes
            (.compact, "16 80808080808080808080", .varintTooLong),  // i64 of 11 bytes
        ]
        for (protocolID, text, kind) in vectors {
            let bytes = header(protocolID) + hex(text)
            let result = scanOnce(bytes, protocolID)
            #expect(result == bytes.withUnsafeBytes { boundary($0, protocolID) }, "\(text)")
            guard case .failure(let error) = result else {
                Issue.record("\(text): \(result)")
                continue
            }
            #expect(error.kind == kind, "\(text)")
        }
    }

    /// A compact i16 follows `readI16` wherever it is, list elements included: a varint of
    /// up to 5 bytes whose value fits i16. Found by FuzzThriftProtocols: `skipElements` read
    /// i16 elements as varints of at most 3 bytes without the range check, so `skip` (and with
    /// it `MessageBoundary` and this scanner) accepted elements the decoder rejects and
    /// rejected padded ones it accepts.
    @Test func compactI16ElementsFollowTheDecodersRules() throws {
        let outOfRange = header(.compact) + hex("19 14 808004 00")   // list of one i16: 32768
        let padded = header(.compact) + hex("19 14 80808000 00")     // list of one i16: 0 in 4 bytes
        let field = header(.compact) + hex("14 808004 00")           // i16 field: 32768
        for bytes in [outOfRange, field] {
            #expect(scanOnce(bytes, .compact) == bytes.withUnsafeBytes { boundary($0, .compact) })
            guard case .failure(let error) = scanOnce(bytes, .compact) else {
                Issue.record("an out-of-range i16 was accepted: \(hexString(bytes))")
                continue
            }
            #expect(error.kind == .invalidValue)
            #expect(throws: ThriftError.self) { try Self.decodeMessage(bytes) }
        }
        #expect(scanOnce(padded, .compact) == .success(padded.count))
        #expect(scanOnce(padded, .compact) == padded.withUnsafeBytes { boundary($0, .compact) })
        #expect(try Self.decodeMessage(padded) == .struct([ThriftField(id: 1, value: .list(.i16, [.i16(0)]))]))
    }

    /// The fuzzer's reproducer: a bare struct holding a set of three i16, the first 646522.
    @Test func compactSkipAndDecodeAgreeOnAnOutOfRangeI16Element() {
        let bytes = hex("4a 34 f4f54e")
        bytes.withUnsafeBytes { raw in
            do throws(ThriftError) {
                var skipper = CompactReader(raw)
                try skipper.skip(.struct)
                Issue.record("skip accepted an out-of-range i16 element")
            } catch { #expect(error.kind == .invalidValue) }
            do throws(ThriftError) {
                var decoder = CompactReader(raw)
                _ = try ThriftValue(reading: .struct, from: &decoder)
                Issue.record("decode accepted an out-of-range i16 element")
            } catch { #expect(error.kind == .invalidValue) }
        }
    }

    static func decodeMessage(_ bytes: [UInt8]) throws(ThriftError) -> ThriftValue {
        var result: Result<ThriftValue, ThriftError>!
        bytes.withUnsafeBytes { raw in
            var reader = CompactReader(raw)
            do throws(ThriftError) {
                _ = try reader.readMessageBegin()
                result = .success(try ThriftValue(reading: .struct, from: &reader))
            } catch { result = .failure(error) }
        }
        return try result.get()
    }

    // MARK: Limits

    @Test(arguments: ThriftProtocolID.allCases)
    func depthBeyondTheLimitThrows(_ protocolID: ThriftProtocolID) {
        let deepest = ScannerBodies.message(ScannerBodies.deepNesting, protocolID)
        let tooDeep = ScannerBodies.message(ScannerBodies.fields(ScannerBodies.nested(64)), protocolID)
        #expect(scanOnce(deepest, protocolID) == .success(deepest.count))
        let result = scanOnce(tooDeep, protocolID)
        #expect(result == tooDeep.withUnsafeBytes { boundary($0, protocolID) })
        guard case .failure(let error) = result else {
            Issue.record("65 levels accepted: \(result)")
            return
        }
        #expect(error.kind == .depthLimit && error.limit == 64)
        // A lower limit counts the body struct too.
        let shallow = ScannerBodies.message(ScannerBodies.fields(ScannerBodies.nested(3)), protocolID)
        #expect(scanOnce(shallow, protocolID, limits: ThriftLimits(maxDepth: 4)) == .success(shallow.count))
        guard case .failure(let lower) = scanOnce(shallow, protocolID, limits: ThriftLimits(maxDepth: 3)) else {
            Issue.record("4 levels accepted under a limit of 3")
            return
        }
        #expect(lower.kind == .depthLimit)
    }

    @Test(arguments: ThriftProtocolID.allCases)
    func depthIsCheckedBeforeTheContainersBytesArrive(_ protocolID: ThriftProtocolID) {
        // Field 1 is a list, and the body struct is already at the limit: no list header needed to know.
        let bytes = header(protocolID) + (protocolID == .binary ? hex("0f 0001") : hex("19"))
        var scanner = UnframedMessageScanner(protocol: protocolID, limits: ThriftLimits(maxDepth: 1))
        bytes.withUnsafeBytes { buffer in
            for count in 0..<buffer.count {
                #expect(scan(&scanner, buffer, count: count) == .success(nil))
            }
            guard case .failure(let error) = scan(&scanner, buffer) else {
                Issue.record("depth not checked with the field header's last byte")
                return
            }
            #expect(error.kind == .depthLimit)
            #expect(error.offset == bytes.count)
        }
    }

    @Test(arguments: ThriftProtocolID.allCases)
    func stringLongerThanTheLimitThrowsBeforeItsBytes(_ protocolID: ThriftProtocolID) {
        let limits = ThriftLimits(maxStringSize: 16)
        // A string field announcing 17 bytes, none of them here yet.
        let tooLong = header(protocolID) + (protocolID == .binary ? hex("0b 0001 00000011") : hex("18 11"))
        guard case .failure(let error) = scanOnce(tooLong, protocolID, limits: limits) else {
            Issue.record("17-byte string accepted")
            return
        }
        #expect(error.kind == .sizeLimit && error.limit == 16)
        let longest = header(protocolID) + (protocolID == .binary ? hex("0b 0001 00000010") : hex("18 10"))
        #expect(scanOnce(longest, protocolID, limits: limits) == .success(nil))
    }

    @Test(arguments: ThriftProtocolID.allCases)
    func containerCountAboveTheLimitThrows(_ protocolID: ThriftProtocolID) {
        let limits = ThriftLimits(maxContainerSize: 4)
        let bodies = protocolID == .binary
            ? ["0f 0001 08 00000005", "0e 0001 0c 00000005", "0d 0001 08 08 00000005"]
            : ["19 55", "1a f5 05", "1b 05 55"]
        for body in bodies {
            guard case .failure(let error) = scanOnce(header(protocolID) + hex(body), protocolID, limits: limits) else {
                Issue.record("\(body): 5 elements accepted")
                continue
            }
            #expect(error.kind == .sizeLimit && error.limit == 4, "\(body)")
        }
        let four = header(protocolID) + hex(protocolID == .binary ? "0f 0001 08 00000004" : "19 45")
        #expect(scanOnce(four, protocolID, limits: limits) == .success(nil))
    }

    @Test(arguments: ThriftProtocolID.allCases)
    func negativeSizesThrow(_ protocolID: ThriftProtocolID) {
        let bodies = protocolID == .binary
            ? ["0b 0001 ffffffff", "0f 0001 08 80000000", "0d 0001 08 08 fffffffe"]
            : ["18 ffffffff0f", "19 f5 ffffffff0f", "1b ffffffff0f 55"]
        for body in bodies {
            guard case .failure(let error) = scanOnce(header(protocolID) + hex(body), protocolID) else {
                Issue.record("\(body): negative size accepted")
                continue
            }
            #expect(error.kind == .negativeSize, "\(body)")
        }
    }

    @Test(arguments: ThriftProtocolID.allCases)
    func incompleteMessageAtTheMessageLimitThrows(_ protocolID: ThriftProtocolID) {
        let limits = ThriftLimits(maxMessageSize: 64)
        let message = ScannerBodies.message(ScannerBodies.fields(.binary(Array(repeating: 0x78, count: 100))), protocolID)
        var scanner = UnframedMessageScanner(protocol: protocolID, limits: limits)
        message.withUnsafeBytes { bytes in
            for count in 0..<64 {
                #expect(scan(&scanner, bytes, count: count) == .success(nil))
            }
            guard case .failure(let error) = scan(&scanner, bytes, count: 64) else {
                Issue.record("no error at the limit")
                return
            }
            #expect(error.kind == .sizeLimit && error.limit == 64)
            #expect(scan(&scanner, bytes, count: 64) == boundary(bytes, count: 64, protocolID, limits: limits))
        }
    }

    @Test(arguments: ThriftProtocolID.allCases)
    func aMessageOfExactlyTheLimitIsAccepted(_ protocolID: ThriftProtocolID) {
        let headerBytes = header(protocolID).count
        // Field header, length and stop around the string: binary 3 + 4 + 1, compact 1 + 1 + 1.
        let overhead = protocolID == .binary ? 8 : 3
        let body = ScannerBodies.fields(.binary(Array(repeating: 0x78, count: 64 - headerBytes - overhead)))
        var message = header(protocolID)
        message += try! encodeValue(body, protocolID)
        #expect(message.count == 64)
        #expect(scanOnce(message, protocolID, limits: ThriftLimits(maxMessageSize: 64)) == .success(64))
        guard case .failure(let error) = scanOnce(message, protocolID, limits: ThriftLimits(maxMessageSize: 63)) else {
            Issue.record("a 64-byte message accepted under a limit of 63")
            return
        }
        #expect(error.kind == .sizeLimit)
    }

    // MARK: Linear work

    /// A list of `count` small structs: 17 bytes each in binary, 9 in compact.
    func largeMessage(_ protocolID: ThriftProtocolID, count: Int) -> [UInt8] {
        let items = (0..<count).map { ScannerBodies.fields(.i32(Int32($0) * 7), .string("ab")) }
        return ScannerBodies.message(ScannerBodies.fields(.list(.struct, items)), protocolID)
    }

    @Test(arguments: ThriftProtocolID.allCases)
    func aLargeMessageTricklingInByteByByteIsExaminedInLinearWork(_ protocolID: ThriftProtocolID) {
        let message = largeMessage(protocolID, count: 20_000)
        #expect(message.count > 150_000)
        var scanner = UnframedMessageScanner(protocol: protocolID, limits: .default)
        var calls = 0
        let answer: Int? = message.withUnsafeBytes { bytes in
            for count in 0...bytes.count {
                calls += 1
                if case .success(let length?) = scan(&scanner, bytes, count: count) { return length }
            }
            return nil
        }
        #expect(answer == message.count)
        #expect(calls == message.count + 1)
        // Re-walking from the start on every byte would examine about n²/2 bytes (over 1e10 here).
        #expect(scanner.bytesExamined <= 4 * message.count, "\(scanner.bytesExamined) bytes examined for \(message.count)")
    }

    /// The documented bound, n + 9 per call that needed more, holds for every message fed a byte at a time.
    @Test(arguments: ScannerCase.all)
    func examinedBytesStayWithinTheBound(_ item: ScannerCase) {
        var scanner = UnframedMessageScanner(protocol: item.protocolID, limits: .default)
        item.bytes.withUnsafeBytes { bytes in
            for count in 0...bytes.count { _ = scan(&scanner, bytes, count: count) }
        }
        #expect(scanner.bytesExamined <= item.bytes.count + 9 * item.bytes.count)
        #expect(scanner.bytesExamined >= item.bytes.count)
    }

    @Test(arguments: ThriftProtocolID.allCases)
    func callsWithoutNewBytesExamineNothing(_ protocolID: ThriftProtocolID) {
        let message = largeMessage(protocolID, count: 100)
        var scanner = UnframedMessageScanner(protocol: protocolID, limits: .default)
        message.withUnsafeBytes { bytes in
            // Cut inside the list's header, a string's bytes, and a varint or a field id.
            for count in [20, message.count / 2, message.count / 2 + 3, message.count - 2] {
                #expect(scan(&scanner, bytes, count: count) == .success(nil))
                let examined = scanner.bytesExamined
                for _ in 0..<100 { _ = scan(&scanner, bytes, count: count) }
                #expect(scanner.bytesExamined == examined, "cut at \(count)")
            }
        }
    }

    /// What the scanner saves: re-walking every prefix, as `MessageBoundary` would be
    /// called, examines a quadratic number of bytes; the scanner a linear one.
    @Test(arguments: ThriftProtocolID.allCases)
    func rewalkingIsQuadraticWhereScanningIsLinear(_ protocolID: ThriftProtocolID) {
        let message = largeMessage(protocolID, count: 300)
        var rewalked = 0
        var scanner = UnframedMessageScanner(protocol: protocolID, limits: .default)
        message.withUnsafeBytes { bytes in
            for count in 0...bytes.count {
                let prefix = UnsafeRawBufferPointer(rebasing: bytes[0..<count])
                // Where a fresh walk stops: what MessageBoundary examines for this prefix.
                switch protocolID {
                case .binary:
                    var reader = BinaryReader(prefix)
                    _ = thriftError { () throws(ThriftError) in _ = try reader.readMessageBegin(); try reader.skip(.struct) }
                    rewalked += reader.offset
                case .compact:
                    var reader = CompactReader(prefix)
                    _ = thriftError { () throws(ThriftError) in _ = try reader.readMessageBegin(); try reader.skip(.struct) }
                    rewalked += reader.offset
                }
                _ = scan(&scanner, bytes, count: count)
            }
        }
        let n = message.count
        #expect(rewalked >= n * n / 4, "\(rewalked) bytes re-walked for \(n)")
        #expect(scanner.bytesExamined <= 4 * n)
    }
}
