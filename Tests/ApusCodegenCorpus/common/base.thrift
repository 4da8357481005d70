/*
 * Meridian platform: shared primitives for every service IDL.
 *
 * Request envelopes, paging, time ranges, the error taxonomy and the
 * BaseService every service extends. Owned by the platform team.
 *
 * Compatibility rules (enforced in review):
 *   - never renumber or retype a field; retire it and leave a comment
 *   - new fields are optional or have a default
 *   - enums are open: readers must tolerate values they do not know
 */

namespace java com.meridian.common.base
namespace cpp meridian.common
namespace py meridian.common.base
namespace go meridian.common.base
namespace rb Meridian.Common

/** Milliseconds since the Unix epoch, UTC. */
typedef i64 TimestampMillis

/** A duration in milliseconds; never negative. */
typedef i64 DurationMillis

/** Opaque, client-chosen; echoed in logs and responses. */
typedef string RequestId

/** W3C trace-context trace id, 32 lowercase hex characters. */
typedef string TraceId

typedef string TenantId

/** Free-form key/value metadata; keys are lowercase dotted names. */
typedef map<string, string> Attributes

/** Server-issued paging cursor; clients must treat it as opaque bytes. */
typedef binary PageCursor

const i32 DEFAULT_PAGE_SIZE = 50
const i32 MAX_PAGE_SIZE = 1000
const string API_VERSION = "2024-06"
const list<string> RESERVED_ATTRIBUTE_PREFIXES = ["meridian.", "internal.", "x-"]
const DurationMillis DEFAULT_DEADLINE_MS = 2500

/** Canonical error codes; the numbering follows the platform's HTTP gateway mapping. */
enum ErrorCode {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
  /** Returned by the edge when a tenant is over its contractual rate. */
  RATE_LIMITED = 100,
  TENANT_SUSPENDED = 101,
  MAINTENANCE = 102,
}

enum Environment {
  DEVELOPMENT = 1,
  STAGING = 2,
  CANARY = 3,
  PRODUCTION = 4,
}

enum SortDirection {
  ASCENDING = 1,
  DESCENDING = 2,
}

enum HealthState {
  SERVING = 1,
  DEGRADED = 2,
  NOT_SERVING = 3,
  DRAINING = 4,
}

/** Set by the edge proxy on every inbound call; services pass it downstream unchanged. */
struct RequestContext {
  1: required RequestId requestId,
  2: optional TraceId traceId,
  3: optional string spanId,
  4: required TenantId tenantId,
  5: optional string callerService,
  6: optional string callerVersion,
  7: Environment environment = Environment.PRODUCTION,
  8: optional DurationMillis deadlineMs,
  9: optional TimestampMillis receivedAt,
  10: optional string clientIp,
  11: optional string userAgent,
  12: optional string locale,
  13: bool dryRun = false,
  14: optional Attributes baggage,
  // 15: retired (was `string authToken`; tokens never travel in the envelope)
  16: optional i32 retryAttempt,
  17: optional string idempotencyKey,
}

struct PageRequest {
  1: i32 pageSize = DEFAULT_PAGE_SIZE,
  2: optional PageCursor cursor,
  3: optional string orderBy,
  4: SortDirection direction = SortDirection.ASCENDING,
}

struct PageInfo {
  1: optional PageCursor nextCursor,
  2: optional PageCursor previousCursor,
  3: optional i64 totalEstimate,
  4: bool hasMore,
}

/** Half-open: [startMillis, endMillis). */
struct TimeRange {
  1: required TimestampMillis startMillis,
  2: required TimestampMillis endMillis,
}

/** Which fields of a resource a read returns or an update touches (dotted paths). */
struct FieldMask {
  1: list<string> paths,
}

struct AuditStamp {
  1: required TimestampMillis at,
  2: optional string actor,
  3: optional string reason,
  4: optional RequestId requestId,
}

struct ErrorDetail {
  1: required ErrorCode code,
  2: optional string field,
  3: optional string description,
  4: optional Attributes metadata,
}

struct HealthReport {
  1: required HealthState state,
  2: optional string message,
  3: map<string, HealthState> dependencies,
  4: optional TimestampMillis checkedAt,
  5: optional string buildSha,
}

exception InvalidArgument {
  1: string message,
  2: list<ErrorDetail> violations,
}

exception ResourceNotFound {
  1: string resourceType,
  2: string resourceId,
}

exception PermissionDenied {
  1: string message,
  2: optional string requiredPermission,
}

exception QuotaExceeded {
  1: string quotaName,
  2: i64 limit,
  3: optional DurationMillis retryAfterMs,
}

exception ServiceUnavailable {
  1: string message,
  2: optional DurationMillis retryAfterMs,
  3: ErrorCode code = ErrorCode.UNAVAILABLE,
}

exception ConflictError {
  1: string message,
  2: optional i64 currentVersion,
}

/** Every Meridian service extends this; the load balancer calls health(). */
service BaseService {
  HealthReport health(),
  /** The semantic version of the running build. */
  string version(),
  map<string, string> buildInfo(),
  oneway void reloadConfiguration(1: string reason),
  bool isServing() (idempotent = "true"),
}
