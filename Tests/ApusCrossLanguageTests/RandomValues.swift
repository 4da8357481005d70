/// Seeded random values of crosslang.thrift's types, as scripts/interop/crosslang.py
/// makes them on the Python side: container sizes mostly 0–4, empty from `maxDepth`
/// nested structs on (which ends `Post`'s recursion); optional fields and unions
/// present half the time, except optional fields with an IDL default (absent,
/// they read back as the default in every Thrift library); doubles never NaN.
struct RandomValues {
    static let maxDepth = 4

    var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func everything() -> Everything {
        // Everything is at depth 0; its fields' values, one deeper.
        let depth = 1
        return Everything(
            id: integer(), name: string(), nickname: maybe { $0.string() }, scalars: scalars(),
            previous: maybe { $0.scalars() }, containers: containers(depth), defaults: defaults(depth),
            payload: maybe { $0.payload(depth) }, spare: maybe { $0.payload(depth) }, lastFault: fault(depth),
            fault: maybe { $0.fault(depth) }, thread: maybe { $0.list(depth) { $0.post(depth) } }, status: status(),
            favourites: maybe { $0.set(depth) { $0.suit() } }, histogram: maybe { $0.histogram(depth) },
            labels: maybe { $0.list(depth) { $0.string() } }, signature: maybe { $0.bytes() }, score: maybe { $0.double() },
            verified: maybe { $0.bool() }, level: maybe { $0.integer() }, rank: maybe { $0.integer() },
            balance: maybe { $0.integer() }, trump: maybe { $0.suit() }, location: point(),
            aliases: map(depth) { $0.string() } value: { $0.list(depth) { $0.string() } },
            extras: maybe { $0.map(depth) { $0.string() } value: { $0.payload(depth) } }, sparse: sparse(depth),
            marker: maybe { _ in Marker() }, markers: list(depth) { _ in Marker() }
        )
    }

    // MARK: Structs, unions, exceptions; `depth` is the value's own nesting.

    mutating func point() -> Point {
        Point(x: double(), y: double(), z: maybe { $0.double() })
    }

    mutating func scalars() -> Scalars {
        Scalars(
            flag: bool(), tiny: integer(), small: integer(), short: integer(), medium: integer(), large: integer(),
            real: double(), text: string(), blob: bytes(), suit: suit(), account: integer(), label: string(),
            digest: bytes(), where: point()
        )
    }

    mutating func defaults(_ depth: Int) -> Defaults {
        let inner = depth + 1
        return Defaults(
            enabled: bool(), retries: integer(), port: integer(), limit: integer(), quota: integer(), ratio: double(),
            greeting: string(), magic: bytes(), suit: suit(), status: status(), primes: list(inner) { $0.integer() },
            colours: set(inner) { $0.string() }, weights: map(inner) { $0.string() } value: { $0.integer() },
            origin: point(), retryAfter: integer(), labels: list(inner) { $0.string() }, owner: string(),
            trumps: list(inner) { $0.suit() }
        )
    }

    mutating func fault(_ depth: Int) -> Fault {
        Fault(code: integer(), message: string(), details: maybe { $0.map(depth + 1) { $0.string() } value: { $0.string() } })
    }

    mutating func payload(_ depth: Int) -> Payload {
        let inner = depth + 1
        switch Int.random(in: 0...8, using: &generator) {
        case 0: return .text(string())
        case 1: return .number(integer())
        case 2: return .raw(bytes())
        case 3: return .point(point())
        case 4: return .suits(list(inner) { $0.suit() })
        case 5: return .fault(fault(inner))
        case 6: return .measurements(map(inner) { $0.string() } value: { $0.double() })
        case 7: return .flag(bool())
        default: return .scalars(scalars())
        }
    }

    mutating func sparse(_ depth: Int) -> Sparse {
        Sparse(
            twenty: integer(), one: string(), last: bool(), sixteen: maybe { $0.integer() },
            far: list(depth + 1) { $0.integer() }, early: bool()
        )
    }

    mutating func post(_ depth: Int) -> Post {
        Post(author: string(), replies: list(depth + 1) { $0.post(depth + 1) }, attachment: maybe { $0.payload(depth + 1) })
    }

    mutating func histogram(_ depth: Int) -> Histogram {
        map(depth) { $0.string() } value: { $0.list(depth) { $0.integer() } }
    }

    mutating func containers(_ depth: Int) -> Containers {
        let d = depth + 1
        return Containers(
            flags: list(d) { $0.bool() }, octets: list(d) { $0.integer() }, shorts: list(d) { $0.integer() },
            longs: list(d) { $0.integer() }, reals: list(d) { $0.double() }, words: list(d) { $0.string() },
            chunks: list(d) { $0.bytes() }, suits: set(d) { $0.suit() }, ints: set(d) { $0.integer() },
            tags: set(d) { $0.string() }, digests: set(d) { $0.bytes() },
            counters: map(d) { $0.string() } value: { $0.integer() },
            index: map(d) { $0.integer() } value: { $0.set(d) { $0.string() } },
            places: map(d) { $0.string() } value: { $0.point() },
            histograms: list(d) { $0.histogram(d) },
            table: list(d) { $0.list(d) { $0.string() } },
            hands: map(d) { $0.suit() } value: { $0.list(d) { $0.point() } },
            shards: map(d) { $0.string() } value: { $0.map(d) { $0.integer() } value: { $0.bytes() } },
            groups: list(d) { $0.set(d) { $0.integer() } },
            payloads: list(d) { $0.payload(d) },
            faults: map(d) { $0.integer() } value: { $0.fault(d) },
            typedefs: list(d) { $0.histogram(d) },
            byStatus: map(d) { $0.status() } value: { $0.list(d) { $0.string() } },
            switches: map(d) { $0.bool() } value: { $0.double() },
            cube: list(d) { $0.list(d) { $0.list(d) { $0.integer() } } }
        )
    }

    // MARK: Base types and containers

    mutating func bool() -> Bool { Bool.random(using: &generator) }

    /// Any value of the type, a small one half the time (so enum fields often hold declared values).
    mutating func integer<T: FixedWidthInteger & SignedInteger>() -> T {
        bool() ? T.random(in: -2...5, using: &generator) : T.random(in: .min ... .max, using: &generator)
    }

    /// Declared values mostly; Thrift enums are open, so sometimes any Int32.
    mutating func suit() -> Suit {
        Int.random(in: 0..<5, using: &generator) == 0 ? Suit(rawValue: integer()) : Suit.allCases.randomElement(using: &generator)!
    }

    mutating func status() -> Status {
        Int.random(in: 0..<5, using: &generator) == 0 ? Status(rawValue: integer()) : Status.allCases.randomElement(using: &generator)!
    }

    /// Edge values, ordinary magnitudes and arbitrary bit patterns; never NaN.
    mutating func double() -> Double {
        switch Int.random(in: 0..<5, using: &generator) {
        case 0: return [0.0, -0.0, 1.0, -1.5, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
            .randomElement(using: &generator)!
        case 1, 2: return Double.random(in: -1e6...1e6, using: &generator)
        default:
            while true {
                let value = Double(bitPattern: generator.next())
                if !value.isNaN { return value }
            }
        }
    }

    /// Scalars whose strings are all in NFC with no combining marks: Swift compares
    /// strings by canonical equivalence and Python by code points, and on such
    /// strings they agree (so set elements and map keys stay distinct on both sides).
    static let scalarRanges: [ClosedRange<UInt32>] = [
        0x20...0x7E, 0x20...0x7E, 0x00...0x1F, 0xA0...0xFF, 0x3B1...0x3C9, 0x410...0x44F,
        0x4E00...0x9FFF, 0xAC00...0xD7A3, 0x1F600...0x1F64F, 0x10400...0x1044F,
    ]

    /// Mostly short; one in twenty past 127 bytes (a two-byte length in compact).
    mutating func string() -> String {
        var text = String.UnicodeScalarView()
        let length = Int.random(in: 0..<20, using: &generator) == 0 ? Int.random(in: 40...80, using: &generator) : Int.random(in: 0...12, using: &generator)
        for _ in 0..<length {
            let range = Self.scalarRanges.randomElement(using: &generator)!
            text.append(Unicode.Scalar(UInt32.random(in: range, using: &generator))!)
        }
        return String(text)
    }

    /// Mostly short; one in ten past 127 bytes.
    mutating func bytes() -> [UInt8] {
        let length = Int.random(in: 0..<10, using: &generator) == 0 ? Int.random(in: 128...300, using: &generator) : Int.random(in: 0...8, using: &generator)
        return (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    mutating func maybe<T>(_ make: (inout RandomValues) -> T) -> T? {
        bool() ? make(&self) : nil
    }

    /// 0–4 elements; one container in fifty holds 15–20 (compact's long-form list header).
    mutating func size(_ depth: Int) -> Int {
        if depth >= Self.maxDepth { return 0 }
        return Int.random(in: 0..<50, using: &generator) == 0 ? Int.random(in: 15...20, using: &generator) : Int.random(in: 0...4, using: &generator)
    }

    mutating func list<T>(_ depth: Int, _ element: (inout RandomValues) -> T) -> [T] {
        var result: [T] = []
        for _ in 0..<size(depth) { result.append(element(&self)) }
        return result
    }

    mutating func set<T: Hashable>(_ depth: Int, _ element: (inout RandomValues) -> T) -> Set<T> {
        Set(list(depth, element))
    }

    mutating func map<Key: Hashable, Value>(
        _ depth: Int, key: (inout RandomValues) -> Key, value: (inout RandomValues) -> Value
    ) -> [Key: Value] {
        var result: [Key: Value] = [:]
        for _ in 0..<size(depth) { result[key(&self)] = value(&self) }
        return result
    }
}
