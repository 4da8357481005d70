import ApusThrift

/// SplitMix64: a tiny seeded generator so property tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter { !$0.isWhitespace })
    precondition(digits.count % 2 == 0, "odd hex")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

/// Encodes a value tree with `protocolID` into a growable buffer.
func encodeValue(_ value: ThriftValue, _ protocolID: ThriftProtocolID) throws(ThriftError) -> [UInt8] {
    switch protocolID {
    case .binary:
        var writer = BinaryWriter(GrowableOutput())
        try value.write(to: &writer)
        return writer.output.bytes
    case .compact:
        var writer = CompactWriter(GrowableOutput())
        try value.write(to: &writer)
        return writer.output.bytes
    }
}

/// Decodes one value of `type` from `bytes`, requiring that all bytes are used.
func decodeValue(_ type: ThriftType, _ bytes: [UInt8], _ protocolID: ThriftProtocolID,
                 limits: ThriftLimits = .default) throws(ThriftError) -> ThriftValue {
    var result: Result<ThriftValue, ThriftError>!
    bytes.withUnsafeBytes { buffer in
        do throws(ThriftError) {
            switch protocolID {
            case .binary:
                var reader = BinaryReader(buffer, limits: limits)
                let value = try ThriftValue(reading: type, from: &reader)
                precondition(reader.offset == buffer.count, "trailing bytes")
                result = .success(value)
            case .compact:
                var reader = CompactReader(buffer, limits: limits)
                let value = try ThriftValue(reading: type, from: &reader)
                precondition(reader.offset == buffer.count, "trailing bytes")
                result = .success(value)
            }
        } catch { result = .failure(error) }
    }
    return try result.get()
}

/// Runs `body` and returns the ThriftError it throws, or nil.
func thriftError(_ body: () throws(ThriftError) -> Void) -> ThriftError? {
    do throws(ThriftError) {
        try body()
        return nil
    } catch { return error }
}

/// Dumps a whole message from bytes (no framing).
func dumpMessage(_ bytes: [UInt8], _ protocolID: ThriftProtocolID, limits: ThriftLimits = .default) throws(ThriftError) -> (String, Int) {
    var result: Result<(String, Int), ThriftError>!
    bytes.withUnsafeBytes { buffer in
        do throws(ThriftError) {
            let (json, length) = try MessageDumper.dump(buffer, protocol: protocolID, limits: limits)
            result = .success((json, length))
        } catch { result = .failure(error) }
    }
    return try result.get()
}

/// Random value trees for property tests.
struct ValueGenerator {
    var rng: SeededGenerator

    static let scalarTypes: [ThriftType] = [.bool, .i8, .i16, .i32, .i64, .double, .string, .uuid]
    static let allTypes: [ThriftType] = scalarTypes + [.struct, .list, .set, .map]

    mutating func type(depth: Int) -> ThriftType {
        depth <= 0 ? Self.scalarTypes.randomElement(using: &rng)! : Self.allTypes.randomElement(using: &rng)!
    }

    mutating func integer<T: FixedWidthInteger>(_: T.Type) -> T {
        // Edge values a third of the time.
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: return T.min
        case 1: return T.max
        case 2: return T(truncatingIfNeeded: Int.random(in: -2...2, using: &rng))
        default: return T(truncatingIfNeeded: rng.next())
        }
    }

    mutating func double() -> Double {
        switch Int.random(in: 0..<8, using: &rng) {
        case 0: return -0.0
        case 1: return .infinity
        case 2: return -.infinity
        case 3: return .leastNonzeroMagnitude
        case 4: return .greatestFiniteMagnitude
        default:
            let value = Double(bitPattern: rng.next())
            return value.isNaN ? 1.5 : value
        }
    }

    mutating func bytes() -> [UInt8] {
        let count = [0, 1, 5, 15, 16, 127, 128, 300].randomElement(using: &rng)!
        if Bool.random(using: &rng) {
            return (0..<count).map { _ in UInt8.random(in: 0x20...0x7E, using: &rng) }
        }
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    mutating func count() -> Int {
        [0, 1, 2, 3, 14, 15, 16, 40].randomElement(using: &rng)!
    }

    mutating func value(_ type: ThriftType, depth: Int) -> ThriftValue {
        switch type {
        case .bool: return .bool(Bool.random(using: &rng))
        case .i8: return .i8(integer(Int8.self))
        case .i16: return .i16(integer(Int16.self))
        case .i32: return .i32(integer(Int32.self))
        case .i64: return .i64(integer(Int64.self))
        case .double: return .double(double())
        case .string: return .binary(bytes())
        case .uuid: return .uuid(ThriftUUID(high: rng.next(), low: rng.next()))
        case .struct:
            var fields: [ThriftField] = []
            var id: Int16 = 0
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                // Small steps (short form), big jumps (long form) and backwards steps.
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: id = id &+ 40
                case 1: id = Int16.random(in: -20...32767, using: &rng)
                default: id = id &+ Int16.random(in: 1...15, using: &rng)
                }
                fields.append(ThriftField(id: id, value: value(self.type(depth: depth - 1), depth: depth - 1)))
            }
            return .struct(fields)
        case .list, .set:
            let elementType = self.type(depth: depth - 1)
            let elements = (0..<count()).map { _ in value(elementType, depth: depth - 1) }
            return type == .list ? .list(elementType, elements) : .set(elementType, elements)
        case .map:
            let keyType = self.type(depth: 0)
            let valueType = self.type(depth: depth - 1)
            let entries = (0..<count()).map { _ in
                ThriftMapEntry(key: value(keyType, depth: 0), value: value(valueType, depth: depth - 1))
            }
            return .map(key: keyType, value: valueType, entries)
        default:
            fatalError("no value of \(type)")
        }
    }
}

extension ThriftValue {
    /// What a compact reader returns for this value: an empty map carries no types.
    var compactNormalized: ThriftValue {
        switch self {
        case .struct(let fields): return .struct(fields.map { ThriftField(id: $0.id, value: $0.value.compactNormalized) })
        case .list(let type, let elements): return .list(type, elements.map(\.compactNormalized))
        case .set(let type, let elements): return .set(type, elements.map(\.compactNormalized))
        case .map(let keyType, let valueType, let entries):
            if entries.isEmpty { return .map(key: .stop, value: .stop, []) }
            return .map(key: keyType, value: valueType, entries.map {
                ThriftMapEntry(key: $0.key.compactNormalized, value: $0.value.compactNormalized)
            })
        default: return self
        }
    }
}

/// `withUnsafeBytes` for typed-throwing bodies (the standard one rethrows `any Error`).
func withBytes<T>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(ThriftError) -> T) throws(ThriftError) -> T {
    var result: Result<T, ThriftError>!
    bytes.withUnsafeBytes { buffer in
        do throws(ThriftError) { result = .success(try body(buffer)) } catch { result = .failure(error) }
    }
    return try result.get()
}
