# Included by everything.thrift through the -I search path.
namespace swift ApusCodegenFixtures
namespace py shared

/** How sure the server is. */
enum Confidence {
  LOW = 1,
  MEDIUM,
  HIGH = 10
}

const i32 DEFAULT_LIMIT = 0x40

struct Stamp {
  1: required i64 millis
  2: optional string zone = "UTC"
}

exception SharedError {
  1: string reason
  2: i32 code = DEFAULT_LIMIT
}

service Base {
  /** Is anyone there? */
  bool alive()
  string version() (idempotent = "true")
}
