// Golden-vector IDL for the Apus Thrift codec tests.
//
// Compiled by scripts/gen-golden.py with Apache Thrift 0.17 (`thrift --gen py`);
// the generated Python classes produce the bytes in golden.json and an
// independent, schema-less Python reader produces the expected `apus dump` line.
//
// Apache Thrift 0.17 has no `uuid` type, so the uuid-* vectors in golden.json are
// hand-written bytes for this (commented-out) shape, following apache/thrift
// doc/specs (binary TType UUID = 16, compact type 13, 16 raw bytes in order):
//
//   struct UuidHolder {
//     1: uuid id,
//     2: list<uuid> ids,
//     3: string tag,
//   }
//   service UuidService {
//     UuidHolder lookup(1: UuidHolder h),   // call body: {1: UuidHolder}
//     void lookupMany(1: list<uuid> ids),   // call body: {1: list<uuid>}
//   }

namespace py golden
namespace swift Golden

enum Color {
  RED = 1,
  GREEN = 2,
  BLUE = 3,
}

struct Point {
  1: i32 x,
  2: i32 y,
}

// One field of every scalar type.
struct Scalars {
  1: bool flag,
  2: byte b,          // TType BYTE (3), same as i8
  3: i16 small,
  4: i32 medium,
  5: i64 large,
  6: double real,
  7: string text,
  8: binary blob,
  9: i8 tiny,
  10: Color color,    // enums travel as i32
}

struct Item {
  1: i32 id,
  2: string name,
  3: optional Point where,
  4: optional list<string> tags,
}

struct Containers {
  1: list<i32> ints,
  2: set<string> names,
  3: map<string, i32> counts,
  4: list<Point> points,
  5: set<i64> ids,
  6: map<i32, Point> byId,
  7: list<list<i32>> matrix,
  8: map<string, list<i64>> series,
  9: set<string> tags,
  10: map<i32, map<string, bool>> flags,
  11: list<bool> bits,
  12: list<double> reals,
  13: list<binary> blobs,
  14: list<string> strs,
  15: list<byte> bytes,
  16: list<i16> shorts,
  17: list<i64> longs,
  18: map<i64, double> weights,
  19: list<Item> items,
  20: set<Point> pointSet,
  21: list<set<i32>> listOfSets,
  22: map<bool, byte> boolKeys,
}

struct Optionals {
  1: optional i32 a,
  2: optional string b,
  3: optional Point c,
  4: required i32 req,
  5: i32 dflt = 42,
  6: optional list<i32> li,
  7: optional bool flag,
  8: optional map<string, string> m,
}

union Choice {
  1: i32 num,
  2: string text,
  3: Point pt,
  4: list<string> words,
  5: bool yes,
}

exception NotFound {
  1: string message,
  2: i32 code,
}

exception Invalid {
  1: string why,
  2: optional Item item,
}

// Sparse, out-of-order field ids: compact long-form field headers (delta > 15),
// the largest short-form delta (15), the first long-form delta (16) and,
// when written in declaration order, negative deltas.
struct Wide {
  1: i32 first,
  20: string twenty,
  300: i64 threeHundred,
  5: bool five,
  16: i16 sixteen,          // 1 -> 16 is delta 15 (short form)
  32: byte thirtyTwo,       // 16 -> 32 is delta 16 (long form)
  32767: double last,       // max i16 field id
  2: Point two,
  17: bool seventeen,
  1000: list<i32> thousand,
}

service Golden {
  void ping(),
  Scalars echoScalars(1: Scalars s),
  Containers echoContainers(1: Containers c),
  Item getItem(1: i32 id, 2: string name) throws (1: NotFound notFound, 2: Invalid invalid),
  Optionals echoOptionals(1: Optionals o),
  Choice pick(1: Choice c, 2: list<Choice> more),
  Wide echoWide(1: Wide w),
  bool check(1: list<bool> bits, 2: bool strict),
  string name(),
  oneway void fire(1: Wide w, 2: Choice c, 3: string note),
}
