/*
 * Places: coordinates, postal addresses, administrative regions, geofences.
 */

include "base.thrift"

namespace java com.meridian.common.geo
namespace cpp meridian.common.geo
namespace py meridian.common.geo
namespace go meridian.common.geo

/** ISO 3166-1 alpha-2, upper case. */
typedef string CountryCode

/** ISO 3166-2 subdivision, e.g. "US-CA", "DE-BY". */
typedef string SubdivisionCode

/** IANA time zone name, e.g. "Europe/Berlin". */
typedef string TimeZoneName

typedef double Degrees

const list<CountryCode> EU_COUNTRIES = [
  "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
  "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"
]
const double EARTH_RADIUS_METERS = 6371008.8

enum DistanceUnit {
  METERS = 1,
  KILOMETERS = 2,
  MILES = 3,
  FEET = 4,
}

enum AddressKind {
  RESIDENTIAL = 1,
  COMMERCIAL = 2,
  PO_BOX = 3,
  PICKUP_POINT = 4,
  MILITARY = 5,
}

/** How precisely a location is known, coarsest last. */
enum LocationPrecision {
  ROOFTOP = 1,
  STREET = 2,
  POSTAL_CODE = 3,
  CITY = 4,
  REGION = 5,
  COUNTRY = 6,
}

enum LocationSource {
  GPS = 1,
  IP_LOOKUP = 2,
  USER_PROVIDED = 3,
  WIFI = 4,
  CELL_TOWER = 5,
}

struct LatLng {
  1: required Degrees latitude,
  2: required Degrees longitude,
}

struct BoundingBox {
  1: required LatLng southWest,
  2: required LatLng northEast,
}

struct Circle {
  1: required LatLng center,
  2: required double radius,
  3: DistanceUnit unit = DistanceUnit.METERS,
}

struct Polygon {
  /** The outer ring, counter-clockwise, first point not repeated. */
  1: list<LatLng> ring,
  2: list<list<LatLng>> holes,
}

union Geofence {
  1: Circle circle,
  2: Polygon polygon,
  3: BoundingBox box,
  4: list<CountryCode> countries,
  5: list<string> postalCodes,
}

struct PostalAddress {
  1: optional string recipient,
  2: optional string organization,
  3: list<string> streetLines,
  4: optional string dependentLocality,
  5: optional string locality,
  6: optional string sortingCode,
  7: optional string postalCode,
  8: optional SubdivisionCode subdivision,
  9: required CountryCode country,
  10: optional string phone,
  11: AddressKind kind = AddressKind.RESIDENTIAL,
  12: optional LatLng coordinates,
  13: optional string deliveryInstructions,
  14: optional string languageCode,
  15: bool validated = false,
  16: optional base.TimestampMillis validatedAt,
}

struct GeoPoint {
  1: required LatLng position,
  2: optional double accuracyMeters,
  3: optional double altitudeMeters,
  4: LocationPrecision precision = LocationPrecision.CITY,
  5: optional LocationSource source,
  6: optional CountryCode country,
  7: optional SubdivisionCode subdivision,
  8: optional string city,
  9: optional string postalCode,
  10: optional TimeZoneName timeZone,
  11: optional i32 metroCode,
  12: optional base.TimestampMillis observedAt,
}
