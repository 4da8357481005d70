/*
 * Money, currencies and exchange rates.
 *
 * Amounts are integers of the currency's minor unit or of micros, never
 * floating point: every service that adds money together uses these types.
 */

include "base.thrift"

namespace java com.meridian.common.money
namespace cpp meridian.common.money
namespace py meridian.common.money
namespace go meridian.common.money

/** ISO 4217 alphabetic code, upper case: "EUR", "JPY". */
typedef string CurrencyCode

/** One millionth of the currency's major unit. */
typedef i64 Micros

/** The currency's minor unit: cents for USD, yen for JPY, fils/1000 for BHD. */
typedef i64 MinorUnits

/** Basis points: 1/100 of a percent. */
typedef i32 BasisPoints

const CurrencyCode DEFAULT_CURRENCY = "USD"
const i32 MICROS_PER_UNIT = 1000000
const map<CurrencyCode, i16> MINOR_UNIT_DIGITS = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "KWD": 3, "BHD": 3, "CLF": 4}

enum RoundingMode {
  HALF_EVEN = 1,
  HALF_UP = 2,
  HALF_DOWN = 3,
  UP = 4,
  DOWN = 5,
  CEILING = 6,
  FLOOR = 7,
}

enum TaxCategory {
  STANDARD = 1,
  REDUCED = 2,
  ZERO_RATED = 3,
  EXEMPT = 4,
  REVERSE_CHARGE = 5,
  DIGITAL_SERVICES = 6,
}

/**
 * An amount in one currency: `units` whole units plus `nanos` billionths,
 * with the same sign (-1.75 is units = -1, nanos = -750000000).
 */
struct Money {
  1: required CurrencyCode currency,
  2: required i64 units,
  3: i32 nanos = 0,
}

struct MoneyRange {
  1: optional Money minimum,
  2: optional Money maximum,
}

struct ExchangeRate {
  1: required CurrencyCode fromCurrency,
  2: required CurrencyCode toCurrency,
  /** toCurrency per fromCurrency, scaled by 10^9. */
  3: required i64 rateNanos,
  4: required base.TimestampMillis observedAt,
  5: optional string source,
  6: optional base.DurationMillis validFor,
}

struct TaxLine {
  1: required string jurisdiction,
  2: TaxCategory category = TaxCategory.STANDARD,
  3: BasisPoints rate,
  4: required Money amount,
  5: optional string registrationNumber,
  6: bool inclusive = false,
}

struct AmountBreakdown {
  1: required Money subtotal,
  2: optional Money discountTotal,
  3: optional Money shippingTotal,
  4: optional Money handlingTotal,
  5: list<TaxLine> taxes,
  6: optional Money taxTotal,
  7: optional Money tipTotal,
  8: optional Money roundingAdjustment,
  9: required Money grandTotal,
  10: RoundingMode rounding = RoundingMode.HALF_EVEN,
  11: optional ExchangeRate appliedRate,
  12: optional Money grandTotalInSettlementCurrency,
}

const Money ZERO_USD = {"currency": "USD", "units": 0, "nanos": 0}

exception CurrencyMismatch {
  1: CurrencyCode expected,
  2: CurrencyCode actual,
}
