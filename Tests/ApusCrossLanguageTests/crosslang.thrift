// The cross-language contract: every Thrift type Apache's Python library
// supports, nested containers, unions, exceptions, defaults, optional and
// required fields. ApusCrossLanguageTests encodes random values of
// `Everything` with Apus's generated code and scripts/interop/crosslang.py
// decodes them with Apache Thrift's Python library, and the other way round.
// No uuid: Apache Thrift 0.17's Python library has no uuid type. No struct
// set elements or map keys: Python's generated structs are not hashable.
namespace py apus_crosslang
namespace cpp apus_crosslang

enum Suit {
  CLUBS = 1
  DIAMONDS = 2
  HEARTS = 3
  SPADES = 4
}

enum Status {
  UNKNOWN = 0
  ACTIVE = 1
  SUSPENDED = -1
  DELETED = 1000
}

typedef i64 AccountID
typedef string Label
typedef list<Label> Labels
typedef binary Digest
typedef map<string, list<i32>> Histogram

const i32 DEFAULT_LIMIT = 25

struct Point {
  1: double x
  2: double y
  3: optional double z
}

typedef Point Coordinate

/** One field of every base type, each also through a typedef where one exists. */
struct Scalars {
  1: bool flag
  2: byte tiny
  3: i8 small
  4: i16 short
  5: i32 medium
  6: i64 large
  7: double real
  8: string text
  9: binary blob
  10: Suit suit
  11: AccountID account
  12: Label label
  13: Digest digest
  14: Coordinate where
}

/** Defaults of every kind; both sides must agree on `Defaults()`. */
struct Defaults {
  1: bool enabled = true
  2: byte retries = -3
  3: i16 port = 8080
  4: i32 limit = DEFAULT_LIMIT
  5: i64 quota = 9007199254740993
  6: double ratio = 0.25
  7: string greeting = "grüß dich, 世界 🌍"
  8: binary magic = "APUS"
  9: Suit suit = Suit.HEARTS
  10: Status status = Status.SUSPENDED
  11: list<i32> primes = [2, 3, 5, 7]
  12: set<string> colours = ["red", "green"]
  13: map<string, i16> weights = {"a": 1, "b": -2}
  14: Point origin = {"x": 1.5, "y": -2.0}
  15: optional i32 retryAfter = 7
  16: Labels labels = ["x"]
  17: required string owner = "nobody"
  18: list<Suit> trumps = [Suit.SPADES, Suit.CLUBS]
}

exception Fault {
  1: required i32 code
  2: string message
  3: optional map<string, string> details
}

union Payload {
  1: string text
  2: i64 number
  3: binary raw
  4: Point point
  5: list<Suit> suits
  6: Fault fault
  7: map<string, double> measurements
  8: bool flag
  9: Scalars scalars
}

/**
 * Declared out of ID order with gaps past 15: Apus writes fields in
 * declaration order and Apache's Python in ID order, so compact's long-form
 * field headers and negative deltas are read both ways.
 */
struct Sparse {
  20: i32 twenty
  1: string one
  32767: bool last
  16: optional i64 sixteen
  300: list<i16> far
  2: bool early
}

struct Marker {}

/** Recursive through a list and through a union. */
struct Post {
  1: string author
  2: list<Post> replies
  3: optional Payload attachment
}

struct Containers {
  1: list<bool> flags
  2: list<byte> octets
  3: list<i16> shorts
  4: list<i64> longs
  5: list<double> reals
  6: list<string> words
  7: list<binary> chunks
  8: set<Suit> suits
  9: set<i32> ints
  10: set<string> tags
  11: set<binary> digests
  12: map<string, i64> counters
  13: map<i32, set<string>> index
  14: map<string, Point> places
  15: list<map<string, list<i32>>> histograms
  16: list<list<string>> table
  17: map<Suit, list<Point>> hands
  18: map<string, map<i64, binary>> shards
  19: list<set<i16>> groups
  20: list<Payload> payloads
  21: map<i64, Fault> faults
  22: list<Histogram> typedefs
  23: map<Status, Labels> byStatus
  24: map<bool, double> switches
  25: list<list<list<byte>>> cube
}

struct Everything {
  1: required AccountID id
  2: required string name
  3: optional string nickname
  4: Scalars scalars
  5: optional Scalars previous
  6: Containers containers
  7: Defaults defaults
  8: Payload payload
  9: optional Payload spare
  10: required Fault lastFault
  11: optional Fault fault
  12: optional list<Post> thread
  13: Status status = Status.ACTIVE
  14: optional set<Suit> favourites
  15: optional Histogram histogram
  16: optional Labels labels
  17: optional binary signature
  18: optional double score
  19: optional bool verified
  20: optional byte level
  21: optional i16 rank
  22: optional i64 balance
  23: optional Suit trump
  24: required Point location
  25: map<Label, Labels> aliases
  26: optional map<string, Payload> extras
  27: Sparse sparse
  28: optional Marker marker
  29: list<Marker> markers
}

service CrossLang {
  Everything echo(1: Everything value) throws (1: Fault fault)
  Defaults defaults()
}
