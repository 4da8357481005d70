// The structs of Benchmarks/Thrift/codec.thrift (Small, Inner, Large) and their
// zero-copy views (SmallView, InnerView, LargeView) are generated at build time
// by ApusGenPlugin from codec.thrift in this target, so the benchmark measures
// generated code only.
import ApusThrift

/// The values Benchmarks/Thrift/codec.thrift prescribes (the C++ side uses the same).
public enum CodecFixtures {
    public static let small = Small(id: 42, name: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_")

    public static let large = Large(
        id: 7,
        title: "The quick brown fox jumps over the lazy dog",
        values: (0..<64).map { Int64($0) * 1_000_003 - 500 },
        attrs: Dictionary(uniqueKeysWithValues: (0..<8).map { ("key-\($0)", "value-\($0)-" + String(repeating: "v", count: 16)) }),
        inner: Inner(a: 1_234_567_890_123, b: "nested structure", c: 3.141592653589793),
        flag: true,
        timestamp: 1_700_000_000_000
    )
}
