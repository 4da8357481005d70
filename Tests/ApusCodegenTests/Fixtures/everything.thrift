// Every construct the generator handles, in one file; its output is
// compiled by the ApusCodegenFixtures target (its sources are Snapshots/).
include "shared.thrift"
cpp_include "<vector>"
namespace swift ApusCodegenFixtures
namespace * everything
namespace cpp everything.cpp

/**
 * A colour.
 *
 * Values added later still decode.
 */
enum Color {
  RED,
  GREEN = 5;
  BLUE
  /** Below zero on purpose. */
  INFRA_RED = -1
  default = 42
}

typedef i64 UserID
typedef list<string> Tags
typedef shared.Stamp Timestamp
typedef binary Blob

const i8 SMALL = -128
const byte ALSO_SMALL = 127
const i16 MEDIUM = 0x7fff
const i64 BIG = -9223372036854775808
const double PI = 3.14159
const double AVOGADRO = 6.022e23
const double WHOLE = 2
const string GREETING = "hello \"world\"\n"
const string SINGLE = 'it\'s "quoted"'
const bool YES = true
const bool NO = 0
const list<i32> PRIMES = [2, 3, 5; 7]
const set<string> WORDS = ["a", "b", "a"]
const map<string, i32> REPEATED = {"k": 1, "k": 2}
const map<string, list<i32>> TABLE = {"one": [1], "two": [1, 2]}
const map<i32, string> EMPTY = {}
const Color FAVOURITE = Color.BLUE
const Color OTHER = Color.RED
const i32 ALIAS = shared.DEFAULT_LIMIT
const i32 LIMIT_COPY = ALIAS
const shared.Confidence SURE = shared.Confidence.HIGH
const UserID ROOT = 0
const uuid NIL_ID = "00000000-0000-0000-0000-000000000001"
const Blob MAGIC = "été"
const shared.Stamp EPOCH = {"millis": 0, "zone": "Z"}

/** A user, with every kind of field. */
struct User {
  /** The key. */
  1: required UserID id
  2: required string name (min = "1")
  3: optional string nickname
  4: i32 age = 18
  5: Color color = Color.GREEN
  6: optional Color secondColor
  7: list<Tags> tagGroups
  8: set<i64> friends
  9: map<string, Timestamp> logins
  10: optional map<Color, list<binary>> avatars
  11: binary photo
  12: uuid externalID
  13: i8 flags
  14: i16 level
  15: double score = 1.5
  16: bool active = true
  17: list<list<i32>> matrix
  18: map<list<string>, set<i32>> nested
  19: optional shared.Stamp created
  20: shared.Confidence confidence = shared.Confidence.MEDIUM
  21: optional Choice choice
  22: list<map<string, binary>> blobs
  23: Blob raw = "raw"
  24: list<Color> palette = [Color.RED, 5]
  25: optional UserID referrer
} (annotated = "yes")

/** Keywords and names the generated code itself uses. */
struct Awkward {
  1: string self
  2: string Type
  3: string default
  4: string token
  5: optional string writer
  6: i32 field
  7: string encode
  8: string user_name
  9: string userName
  10: string reader
  11: list<list<string>> list0
  12: list<i32> seen
}

struct Empty {}

union Choice {
  1: string text
  2: i64 number
  3: Awkward awkward
  4: list<binary> chunks
}

union Maybe {
  1: string none
  2: string some
  3: string default
}

union Tree {
  1: i32 leaf
  2: list<Tree> branches
}

/** Recursion through a union: Expr is emitted `indirect`. */
union Expr {
  1: i64 literal
  2: Pair sum
}

struct Pair {
  1: Expr left
  2: Expr right
}

exception Overloaded {
  1: i32 retryAfter
  2: optional string message
}

exception NotFound {
  1: required string key
}

struct ImplicitIDs {
  string first,
  i32 second;
}

struct WithRequiredChoice {
  1: required i32 one
  2: optional Empty empty
}

/** Users and more. */
service Users extends shared.Base {
  /** Finds a user. */
  User get(1: UserID id) throws (1: NotFound notFound, 2: Overloaded overloaded),
  void put(1: User user, 2: optional bool overwrite = true) throws (1: Overloaded overloaded)
  oneway void touch(1: UserID id)
  list<User> search(1: string query, 2: i32 limit = 10, 3: set<Color> colors) (idempotent = "true")
  void reset()
  map<Color, i32> histogram(1: string context, 2: string options, 3: string result)
  Choice pick(1: Choice choice)
  Empty nothing(1: Empty empty)
}

service Admin extends Users {
  void shutdown(1: i32 delaySeconds)
}

service Lonely {}

service Keywords {
  Maybe default(1: string self, 2: Maybe in, 3: i32 token) (idempotent = "true")
  void all()
  void transport(1: string transport)
}

/** Handlers that read their arguments in place (`apus.views`), beside one that does not. */
service Lookup {
  i32 count(1: string query, 2: list<Timestamp> stamps, 3: User user) throws (1: NotFound notFound) (apus.views)
  oneway void note(1: binary what) (apus.views = "true")
  string plain(1: string x)
}
