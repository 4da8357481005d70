// The two structs of the codec benchmark (issue: foundation and codec).
// Apus (Benchmarks/, CodecCompare) and Apache Thrift C++ (scripts/bench-codec.sh)
// encode and decode exactly these, filled with exactly the same values.
namespace cpp apusbench

// (a) small: an i32 and a 64-byte string
struct Small {
  1: i32 id,
  2: string name,
}

struct Inner {
  1: i64 a,
  2: string b,
  3: double c,
}

// (b) ~1 KB: a list<i64>, a map<string,string> and a nested struct
struct Large {
  1: i32 id,
  2: string title,
  3: list<i64> values,
  4: map<string,string> attrs,
  5: Inner inner,
  6: bool flag,
  7: i64 timestamp,
}

// Values (both sides must use these):
// Small: id = 42, name = 64 bytes: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_" (exactly 64)
// Large: id = 7, title = "The quick brown fox jumps over the lazy dog" (43 bytes),
//        values = [i * 1_000_003 - 500 for i in 0..<64] (i64),
//        attrs = 8 entries: key "key-N" (N = 0..7) -> value "value-N-" followed by 16 'v' bytes,
//        inner = { a = 1234567890123, b = "nested structure", c = 3.141592653589793 },
//        flag = true, timestamp = 1700000000000
