/*
 * Prices as catalog, ads and billing quote them: price rules, tiers,
 * discounts and jurisdictions. Builds on money.thrift and geo.thrift.
 */

include "money.thrift"
include "geo.thrift"

namespace java com.meridian.common.pricing
namespace cpp meridian.common.pricing
namespace py meridian.common.pricing
namespace go meridian.common.pricing

typedef string PriceListId

enum PriceKind {
  LIST = 1,
  SALE = 2,
  MEMBER = 3,
  WHOLESALE = 4,
  CLEARANCE = 5,
}

enum BillingPeriod {
  ONE_TIME = 0,
  DAILY = 1,
  WEEKLY = 2,
  MONTHLY = 3,
  QUARTERLY = 4,
  YEARLY = 5,
}

struct PriceTier {
  1: required i32 minimumQuantity,
  2: required money.Money unitPrice,
}

struct PercentOff {
  1: required money.BasisPoints basisPoints,
  2: optional money.Money cap,
}

struct BuyXGetY {
  1: required i32 buy,
  2: required i32 get,
  3: money.BasisPoints discountOnFree = 10000,
}

union Discount {
  1: PercentOff percentOff,
  2: money.Money amountOff,
  3: money.Money fixedPrice,
  4: BuyXGetY buyXGetY,
  5: bool freeShipping,
}

struct TaxJurisdiction {
  1: required geo.CountryCode country,
  2: optional geo.SubdivisionCode subdivision,
  3: optional string county,
  4: optional string city,
  5: map<money.TaxCategory, money.BasisPoints> rates,
  6: bool pricesIncludeTax = false,
}

struct PriceRule {
  1: required string ruleId,
  2: PriceKind kind = PriceKind.LIST,
  3: required money.Money price,
  4: list<PriceTier> tiers,
  5: optional Discount discount,
  6: optional geo.Geofence eligibleArea,
  7: optional i64 startsAtMillis,
  8: optional i64 endsAtMillis,
  9: BillingPeriod period = BillingPeriod.ONE_TIME,
  10: i32 priority = 100,
  11: set<string> memberTiers,
  12: optional PriceListId priceList,
}

struct PriceQuote {
  1: required money.Money unitPrice,
  2: i32 quantity = 1,
  3: optional money.Money listUnitPrice,
  4: list<Discount> appliedDiscounts,
  5: optional money.AmountBreakdown breakdown,
  6: optional TaxJurisdiction jurisdiction,
  7: optional string appliedRuleId,
  8: optional i64 validUntilMillis,
  9: BillingPeriod period = BillingPeriod.ONE_TIME,
  10: money.RoundingMode rounding = money.RoundingMode.HALF_EVEN,
}

const Discount WELCOME_DISCOUNT = {"percentOff": {"basisPoints": 1500, "cap": {"currency": "USD", "units": 25}}}
