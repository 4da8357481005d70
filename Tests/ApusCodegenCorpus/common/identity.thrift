/*
 * Who is calling: members, devices, sessions and consent.
 *
 * Personal data lives here so that privacy review has one file to read.
 * Fields marked (pii = "true") are dropped by the log scrubber.
 */

include "base.thrift"
include "geo.thrift"

namespace java com.meridian.common.identity
namespace cpp meridian.common.identity
namespace py meridian.common.identity
namespace go meridian.common.identity

typedef string MemberId
typedef string DeviceId
typedef string SessionId
/** An email address, lower-cased; validated by the identity service only. */
typedef string EmailAddress (pii = "true")

enum DevicePlatform {
  UNKNOWN_PLATFORM = 0,
  IOS = 1,
  ANDROID = 2,
  WEB = 3,
  WINDOWS = 4,
  MACOS = 5,
  LINUX = 6,
  SMART_TV = 7,
  CONSOLE = 8,
  WEARABLE = 9,
}

enum ConnectionType {
  UNKNOWN_CONNECTION = 0,
  ETHERNET = 1,
  WIFI_CONNECTION = 2,
  CELLULAR_2G = 3,
  CELLULAR_3G = 4,
  CELLULAR_4G = 5,
  CELLULAR_5G = 6,
}

enum AgeBracket {
  UNDISCLOSED = 0,
  UNDER_13 = 1,
  AGE_13_17 = 2,
  AGE_18_24 = 3,
  AGE_25_34 = 4,
  AGE_35_44 = 5,
  AGE_45_54 = 6,
  AGE_55_64 = 7,
  AGE_65_PLUS = 8,
}

enum ConsentPurpose {
  STORAGE = 1,
  BASIC_ADS = 2,
  PERSONALIZED_ADS = 3,
  PERSONALIZED_CONTENT = 4,
  MEASUREMENT = 5,
  MARKET_RESEARCH = 6,
  PRODUCT_DEVELOPMENT = 7,
}

enum MemberTier {
  FREE = 1,
  PLUS = 2,
  PREMIUM = 3,
  BUSINESS = 4,
  STAFF = 99,
}

struct DeviceInfo {
  1: optional DeviceId deviceId,
  2: DevicePlatform platform = DevicePlatform.UNKNOWN_PLATFORM,
  3: optional string osVersion,
  4: optional string make,
  5: optional string model,
  6: optional string hardwareVersion,
  7: optional i32 screenWidth,
  8: optional i32 screenHeight,
  9: optional double pixelRatio,
  10: optional i32 pixelsPerInch,
  11: optional string userAgent,
  12: optional string ipv4 (pii = "true"),
  13: optional string ipv6 (pii = "true"),
  14: ConnectionType connection = ConnectionType.UNKNOWN_CONNECTION,
  15: optional string carrier,
  16: optional string mobileCountryCode,
  17: optional string mobileNetworkCode,
  18: optional string language,
  19: optional geo.GeoPoint location,
  20: optional string advertisingId (pii = "true"),
  21: bool limitAdTracking = false,
  22: bool doNotTrack = false,
  23: optional string appVersion,
  24: optional string appBuild,
  25: optional geo.TimeZoneName timeZone,
  26: optional bool javascriptEnabled,
  27: optional i64 totalMemoryBytes,
  28: optional i32 batteryPercent,
  29: optional bool charging,
  30: optional bool jailbroken,
}

struct ConsentRecord {
  1: required ConsentPurpose purpose,
  2: required bool granted,
  3: required base.TimestampMillis recordedAt,
  4: optional string source,
  5: optional string policyVersion,
  6: optional string consentString,
}

struct Principal {
  1: required MemberId memberId,
  2: optional EmailAddress email,
  3: optional string displayName,
  4: MemberTier tier = MemberTier.FREE,
  5: set<string> roles,
  6: set<string> scopes,
  7: optional base.TenantId tenantId,
  8: AgeBracket ageBracket = AgeBracket.UNDISCLOSED,
  9: optional geo.CountryCode homeCountry,
  10: optional string preferredLanguage,
  11: list<ConsentRecord> consents,
  12: optional base.TimestampMillis createdAt,
  13: bool emailVerified = false,
  14: bool phoneVerified = false,
  15: optional base.Attributes claims,
}

struct SessionInfo {
  1: required SessionId sessionId,
  2: required MemberId memberId,
  3: required base.TimestampMillis startedAt,
  4: optional base.TimestampMillis expiresAt,
  5: optional DeviceInfo device,
  6: optional string authMethod,
  7: bool multiFactor = false,
  8: optional string refererHost,
}

exception Unauthenticated {
  1: string message,
  2: optional string challenge,
}
