// Built by ApusGenPlugin at build time: this target shows the plugin working
// the way a user's package would use it (see README, "Generating code").
include "money.thrift"

enum Kind { TOOL = 1, PART = 2 }

struct Stock {
  1: required string sku
  2: Kind kind = Kind.PART
  3: optional money.Price price
  4: list<string> tags
}

exception OutOfStock { 1: string sku }

service Inventory {
  Stock lookup(1: string sku) throws (1: OutOfStock missing)
  oneway void restock(1: string sku, 2: i32 count)
}
