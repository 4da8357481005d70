// The demo and benchmark contract: served by `apus serve`, called by
// `apus bench`, the Python interop checks and the C++ comparison server.
namespace py apus_echo
namespace cpp apus_echo

struct Item {
  1: required i64 id,
  2: required string title,
  3: optional map<string,string> extra,
}

exception NotFound {
  1: string key,
}

service Echo {
  string echo(1: string message),
  binary echoBinary(1: binary payload),
  Item echoItem(1: Item item),
  void ping(),
  oneway void fire(1: i64 id),
  i64 firedCount(),
}

service KV {
  void put(1: string key, 2: binary value),
  binary get(1: string key) throws (1: NotFound notFound),
  bool remove(1: string key),
  i64 count(),
}
