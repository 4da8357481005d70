// Prints `codec=<small|large> proto=<binary|compact> op=<op> ns=<f> bytes=<n>` lines,
// the format of Benchmarks/cpp/codec_bench.cpp, for scripts/bench-codec.sh.
//   op=encode        write into a reused fixed buffer (a TX frame in the data path)
//   op=decode        zero-copy decode: strings and containers stay in the input, validated
//   op=decode-owned  decode into owned Strings, arrays and dictionaries (a new value each time)
//   op=decode-reused decode into one owned value again and again (`decode(from:)`: its
//                    arrays' and dictionaries' storage kept), as the C++ side reads into one object
// Best of 3 repetitions of --seconds each.
import ApusThrift
import BenchmarkModels

#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String) -> Never {
    FileDescriptorError.write(message + "\n")
    exit(2)
}

enum FileDescriptorError {
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

let options: (seconds: Double, only: String?, proto: ThriftProtocolID?) = {
    var seconds = 0.5
    var only: String?
    var proto: ThriftProtocolID?
    var arguments = Array(CommandLine.arguments.dropFirst())[...]
    while let argument = arguments.popFirst() {
        switch (argument, arguments.popFirst()) {
        case ("--seconds", let value?) where Double(value).map({ $0 > 0 }) == true: seconds = Double(value)!
        case ("--only", let value?): only = value
        case ("--proto", let value?) where ThriftProtocolID(rawValue: value) != nil: proto = ThriftProtocolID(rawValue: value)
        default: fail("usage: CodecCompare [--seconds S] [--only small|large] [--proto binary|compact]")
        }
    }
    return (seconds, only, proto)
}()
let seconds = options.seconds

@inline(never) func blackHole(_ value: Int) { if value == 0x5EED_5EED { print("") } }

func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// ns per call of `body`, best of 3 runs of about `seconds` each.
func measure(seconds: Double = seconds, _ body: () throws -> Int) rethrows -> Double {
    var iterations = 1000
    // Calibrate: grow until one batch takes a tenth of the target.
    while true {
        let start = now()
        var sink = 0
        for _ in 0..<iterations { sink &+= try body() }
        blackHole(sink)
        let elapsed = Double(now() - start) / 1e9
        if elapsed > seconds / 10 { iterations = max(1, Int(Double(iterations) * seconds / elapsed)); break }
        iterations *= 4
    }
    var best = Double.infinity
    for _ in 0..<3 {
        let start = now()
        var sink = 0
        for _ in 0..<iterations { sink &+= try body() }
        blackHole(sink)
        best = min(best, Double(now() - start) / Double(iterations))
    }
    return best
}

func report(_ codec: String, _ proto: ThriftProtocolID, _ op: String, _ ns: Double, _ bytes: Int) {
    print("codec=\(codec) proto=\(proto) op=\(op) ns=\(String(format: ns)) bytes=\(bytes)")
}

func String(format ns: Double) -> String {
    let tenths = (ns * 10).rounded()
    return "\(Int(tenths) / 10).\(Int(tenths) % 10)"
}

func run<Owned: ThriftCodable & Hashable, View: ThriftDecodable>(
    _ codec: String, _ value: Owned, view: View.Type, touch: (View) -> Int, touchOwned: (Owned) -> Int
) throws {
    if let only = options.only, only != codec { return }
    for proto in ThriftProtocolID.allCases where options.proto.map({ $0 == proto }) ?? true {
        let encoded = try Thrift.encode(value, protocol: proto)
        // The decoded value must equal the original: no benchmark of a broken codec.
        let decoded = try Thrift.decode(Owned.self, from: encoded, protocol: proto)
        precondition(decoded == value, "round trip failed")
        var frame = [UInt8](repeating: 0, count: 4096)
        try frame.withUnsafeMutableBytes { output in
            let encode = try measure {
                switch proto {
                case .binary:
                    var writer = BinaryWriter(FixedOutput(output))
                    try value.encode(to: &writer)
                    return writer.count
                case .compact:
                    var writer = CompactWriter(FixedOutput(output))
                    try value.encode(to: &writer)
                    return writer.count
                }
            }
            report(codec, proto, "encode", encode, encoded.count)
        }
        try encoded.withUnsafeBytes { input in
            let decode = try measure {
                switch proto {
                case .binary:
                    var reader = BinaryReader(input)
                    return touch(try View(from: &reader))
                case .compact:
                    var reader = CompactReader(input)
                    return touch(try View(from: &reader))
                }
            }
            report(codec, proto, "decode", decode, encoded.count)
            let decodeOwned = try measure {
                switch proto {
                case .binary:
                    var reader = BinaryReader(input)
                    return touchOwned(try Owned(from: &reader))
                case .compact:
                    var reader = CompactReader(input)
                    return touchOwned(try Owned(from: &reader))
                }
            }
            report(codec, proto, "decode-owned", decodeOwned, encoded.count)
            // Into one value again and again, as the C++ side reads into one object: its containers'
            // storage is kept. Through a pointer: a `var` captured by the closure would be a box with
            // dynamic exclusivity checks on every access, and touching the value would copy it.
            var target = decoded
            let decodeReused = try withUnsafeMutablePointer(to: &target) { target in
                try measure {
                    try Thrift.decode(into: &target.pointee, from: input, protocol: proto)
                    return 1  // the value is read after the loop (below): the decodes cannot be left out
                }
            }
            precondition(target == value, "decoding into a reused value changed it")
            report(codec, proto, "decode-reused", decodeReused, encoded.count)
        }
    }
}

do {
    try run("small", CodecFixtures.small, view: SmallView.self,
            touch: { Int($0.id) &+ $0.name.count }, touchOwned: { Int($0.id) &+ $0.name.utf8.count })
    try run("large", CodecFixtures.large, view: LargeView.self,
            touch: { Int($0.id) &+ $0.title.count &+ $0.values.count &+ $0.attrs.count &+ $0.inner.b.count },
            touchOwned: { Int($0.id) &+ $0.title.utf8.count &+ $0.values.count &+ $0.attrs.count &+ $0.inner.b.utf8.count })
} catch {
    fail("CodecCompare: \(error)")
}

