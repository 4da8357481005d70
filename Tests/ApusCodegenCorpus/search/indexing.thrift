/*
 * Search and indexing: the document model the indexers write, the query
 * API the storefront and internal tools read, and index administration.
 *
 * Product documents are derived from catalog.Product; other document kinds
 * (help articles, stores, brands) share the same index schema.
 */

include "../commerce/catalog.thrift"
include "../common/base.thrift"
include "../common/geo.thrift"
include "../common/money.thrift"

namespace java com.meridian.search.indexing
namespace cpp meridian.search.indexing
namespace py meridian.search.indexing
namespace go meridian.search.indexing

typedef string DocumentId
typedef string IndexName
typedef string ShardId
typedef string FieldName
typedef list<double> Vector

const i32 MAX_QUERY_LENGTH = 512
const i32 MAX_RESULTS = 10000
const double DEFAULT_VECTOR_WEIGHT = 0.35
const list<FieldName> DEFAULT_SEARCH_FIELDS = ["title^3", "brand^2", "categories", "description", "keywords"]
const map<string, list<string>> SYNONYMS = {"tv": ["television", "telly"], "sofa": ["couch", "settee"], "phone": ["mobile", "smartphone"]}

enum DocumentKind {
  PRODUCT_DOCUMENT = 1,
  HELP_ARTICLE = 2,
  STORE_LOCATION = 3,
  BRAND_PAGE = 4,
  COLLECTION = 5,
}

enum MatchMode {
  ALL_TERMS = 1,
  ANY_TERM = 2,
  PHRASE = 3,
  FUZZY = 4,
  SEMANTIC = 5,
  HYBRID = 6,
}

enum SortField {
  RELEVANCE = 1,
  PRICE = 2,
  NEWEST = 3,
  RATING = 4,
  POPULARITY = 5,
  DISTANCE = 6,
}

enum FacetKind {
  TERMS = 1,
  RANGE = 2,
  HIERARCHY = 3,
  BOOLEAN = 4,
}

enum IndexState {
  CREATING = 1,
  BUILDING = 2,
  READY = 3,
  READ_ONLY = 4,
  DELETING = 5,
  FAILED_INDEX = 6,
}

enum WriteOp {
  UPSERT = 1,
  PARTIAL_UPDATE = 2,
  DELETE = 3,
}

/** One indexed document; fields not used by a kind are left unset. */
struct SearchDocument {
  1: required DocumentId documentId,
  2: DocumentKind kind = DocumentKind.PRODUCT_DOCUMENT,
  3: required string title,
  4: optional string subtitle,
  5: optional string description,
  6: optional string body,
  7: list<string> keywords,
  8: list<string> categoryPath,
  9: list<catalog.CategoryId> categoryIds,
  10: optional string brand,
  11: optional catalog.BrandId brandId,
  12: optional catalog.ProductId productId,
  13: list<catalog.SkuId> skuIds,
  14: optional money.Money price,
  15: optional money.Money salePrice,
  16: optional double priceUsd,
  17: optional double discountPercent,
  18: optional double rating,
  19: optional i64 ratingCount,
  20: optional i64 salesRank,
  21: optional double popularity,
  22: optional double conversionRate,
  23: optional double returnRate,
  24: bool inStock = true,
  25: optional i64 stockQuantity,
  26: set<catalog.FulfilmentMode> fulfilment,
  27: list<geo.CountryCode> availableIn,
  28: optional geo.LatLng location,
  29: optional string city,
  30: optional geo.CountryCode country,
  31: optional string language,
  32: map<string, string> localizedTitles,
  33: map<string, list<string>> facets,
  34: map<string, double> numericFacets,
  35: set<string> tags,
  36: optional string imageUrl,
  37: optional string url,
  38: optional base.TimestampMillis publishedAt,
  39: optional base.TimestampMillis updatedAt,
  40: optional base.TimestampMillis indexedAt,
  41: optional Vector titleEmbedding,
  42: optional Vector imageEmbedding,
  43: optional string embeddingModel,
  44: optional double qualityScore,
  45: optional double boost,
  46: bool adult = false,
  47: bool hidden = false,
  48: optional string sellerId,
  49: optional double sellerRating,
  50: optional catalog.Condition condition,
  51: optional string color,
  52: optional string size,
  53: optional string material,
  54: optional string gender,
  55: optional string ageGroup,
  56: optional string pattern,
  57: optional double weightGrams,
  58: list<string> certifications,
  59: optional double carbonFootprintKg,
  60: optional i64 clicks7d,
  61: optional i64 addToCarts7d,
  62: optional i64 orders7d,
  63: optional i64 revenue7dMicros,
  64: optional string merchandisingSlot,
  65: i64 version,
  66: optional base.Attributes ext,
}

struct RangeFilter {
  1: required FieldName field,
  2: optional double greaterOrEqual,
  3: optional double lessThan,
}

struct GeoFilter {
  1: required geo.LatLng center,
  2: required double radiusKm,
}

union Filter {
  1: map<FieldName, list<string>> terms,
  2: RangeFilter range,
  3: GeoFilter nearby,
  4: list<Filter> allOf,
  5: list<Filter> anyOf,
  6: Filter negated,
  7: FieldName exists,
}

struct FacetRequest {
  1: required FieldName field,
  2: FacetKind kind = FacetKind.TERMS,
  3: i32 size = 10,
  4: list<double> rangeBoundaries,
  5: bool includeZeroCounts = false,
}

struct FacetBucket {
  1: required string value,
  2: required i64 count,
  3: bool selected = false,
  4: list<FacetBucket> children,
}

struct FacetResult {
  1: required FieldName field,
  2: list<FacetBucket> buckets,
  3: optional i64 otherCount,
}

struct SearchQuery {
  1: optional string text,
  2: MatchMode mode = MatchMode.HYBRID,
  3: list<FieldName> fields,
  4: list<Filter> filters,
  5: list<FacetRequest> facets,
  6: SortField sort = SortField.RELEVANCE,
  7: base.SortDirection direction = base.SortDirection.DESCENDING,
  8: i32 offset = 0,
  9: i32 limit = 24,
  10: optional Vector queryVector,
  11: double vectorWeight = DEFAULT_VECTOR_WEIGHT,
  12: optional geo.LatLng userLocation,
  13: optional string language,
  14: bool explain = false,
  15: bool spellCorrect = true,
  16: set<DocumentKind> kinds,
  17: optional string personalizationId,
  18: optional string rankingProfile,
  19: map<string, string> experimentOverrides,
}

struct Highlight {
  1: required FieldName field,
  2: list<string> fragments,
}

struct SearchHit {
  1: required DocumentId documentId,
  2: required double score,
  3: optional SearchDocument document,
  4: list<Highlight> highlights,
  5: optional double distanceKm,
  6: optional string explanation,
  7: optional ShardId shard,
}

struct SearchResult {
  1: list<SearchHit> hits,
  2: i64 totalHits,
  3: bool totalIsLowerBound = false,
  4: list<FacetResult> facets,
  5: optional string correctedQuery,
  6: list<string> relatedQueries,
  7: optional i64 tookMicros,
  8: list<ShardId> failedShards,
}

struct WriteRequest {
  1: required WriteOp op,
  2: required DocumentId documentId,
  3: optional SearchDocument document,
  4: optional base.FieldMask mask,
  5: optional i64 expectedVersion,
}

struct WriteResult {
  1: required DocumentId documentId,
  2: bool ok,
  3: optional string error,
  4: optional i64 version,
}

struct IndexSettings {
  1: i32 shards = 12,
  2: i32 replicas = 2,
  3: i32 refreshIntervalMs = 1000,
  4: map<string, list<string>> synonyms,
  5: list<string> stopWords,
  6: optional string analyzer,
  7: optional i32 vectorDimensions,
  8: optional string vectorMetric,
}

struct IndexInfo {
  1: required IndexName name,
  2: IndexState state = IndexState.CREATING,
  3: required IndexSettings settings,
  4: i64 documentCount,
  5: i64 sizeBytes,
  6: optional base.TimestampMillis createdAt,
  7: list<string> aliases,
  8: map<ShardId, string> shardNodes,
  9: list<ShardStats> shardStats,
}

/** One served query, as the analytics pipeline receives it. */
struct QueryLogEntry {
  1: required string queryId,
  2: required base.TimestampMillis at,
  3: optional string sessionId,
  4: optional string memberId,
  5: required IndexName index,
  6: optional string rawText,
  7: optional string normalizedText,
  8: optional string correctedText,
  9: MatchMode mode = MatchMode.HYBRID,
  10: list<string> appliedFilters,
  11: i64 totalHits,
  12: list<DocumentId> shownDocumentIds,
  13: list<DocumentId> clickedDocumentIds,
  14: optional DocumentId purchasedDocumentId,
  15: optional i64 tookMicros,
  16: optional string rankingProfile,
  17: optional string experimentBucket,
  18: bool zeroResults = false,
  19: optional geo.CountryCode country,
  20: optional string language,
  21: optional string device,
  22: i32 page = 1,
}

/** Per-index relevance tuning: field weights, boosts and business rules. */
struct RankingProfile {
  1: required string name,
  2: map<FieldName, double> fieldWeights,
  3: double recencyHalfLifeDays = 30.0,
  4: double popularityWeight = 0.2,
  5: double ratingWeight = 0.1,
  6: double vectorWeight = DEFAULT_VECTOR_WEIGHT,
  7: list<Filter> buryFilters,
  8: list<Filter> boostFilters,
  9: map<DocumentId, i32> pinnedPositions,
  10: set<DocumentId> hiddenDocuments,
  11: optional string learnedModel,
  12: optional base.AuditStamp lastEdit,
}

struct QueryRedirect {
  1: required string query,
  2: required string targetUrl,
  3: bool exactMatch = true,
  4: optional base.TimeRange active,
}

struct ShardStats {
  1: required ShardId shard,
  2: optional string node,
  3: i64 documents,
  4: i64 deletedDocuments,
  5: i64 sizeBytes,
  6: i32 segments,
  7: optional double queryRatePerSecond,
  8: optional double p99LatencyMs,
  9: optional base.TimestampMillis lastRefreshAt,
  10: bool primary = true,
}

exception IndexNotFound {
  1: IndexName name,
}

exception QueryTooComplex {
  1: string message,
  2: i32 clauseCount,
  3: i32 maxClauses,
}

service SearchService extends base.BaseService {
  SearchResult search(1: base.RequestContext context, 2: IndexName index, 3: SearchQuery query)
    throws (1: IndexNotFound notFound, 2: QueryTooComplex tooComplex, 3: base.InvalidArgument invalid)
    (idempotent = "true"),
  list<string> suggest(1: base.RequestContext context, 2: IndexName index, 3: string prefix, 4: i32 limit = 10)
    throws (1: IndexNotFound notFound),
  SearchDocument getDocument(1: IndexName index, 2: DocumentId documentId)
    throws (1: IndexNotFound notFound, 2: base.ResourceNotFound missing),
  list<SearchHit> moreLikeThis(1: base.RequestContext context, 2: IndexName index, 3: DocumentId documentId, 4: i32 limit)
    throws (1: IndexNotFound notFound),
  oneway void logQuery(1: QueryLogEntry entry),
  i64 count(1: base.RequestContext context, 2: IndexName index, 3: list<Filter> filters) throws (1: IndexNotFound notFound),
}

service IndexerService extends SearchService {
  list<WriteResult> write(1: base.RequestContext context, 2: IndexName index, 3: list<WriteRequest> requests)
    throws (1: IndexNotFound notFound, 2: base.QuotaExceeded quota),
  oneway void writeAsync(1: IndexName index, 2: list<WriteRequest> requests),
  IndexInfo createIndex(1: base.RequestContext context, 2: IndexName name, 3: IndexSettings settings)
    throws (1: base.ConflictError exists, 2: base.InvalidArgument invalid),
  void deleteIndex(1: base.RequestContext context, 2: IndexName name) throws (1: IndexNotFound notFound),
  IndexInfo indexInfo(1: IndexName name) throws (1: IndexNotFound notFound),
  list<IndexInfo> listIndexes(),
  void swapAlias(1: base.RequestContext context, 2: string aliasName, 3: IndexName fromIndex, 4: IndexName toIndex)
    throws (1: IndexNotFound notFound),
  IndexInfo updateSettings(1: base.RequestContext context, 2: IndexName name, 3: IndexSettings settings)
    throws (1: IndexNotFound notFound, 2: base.InvalidArgument invalid),
  void refresh(1: IndexName name) throws (1: IndexNotFound notFound),
  RankingProfile getRankingProfile(1: IndexName index, 2: string name) throws (1: IndexNotFound notFound, 2: base.ResourceNotFound missing),
  void saveRankingProfile(1: base.RequestContext context, 2: IndexName index, 3: RankingProfile profile)
    throws (1: IndexNotFound notFound, 2: base.InvalidArgument invalid),
  list<QueryRedirect> redirects(1: IndexName index),
  void saveRedirect(1: base.RequestContext context, 2: IndexName index, 3: QueryRedirect redirect) throws (1: IndexNotFound notFound),
  i64 reindexFromCatalog(1: base.RequestContext context, 2: IndexName target, 3: base.TimestampMillis updatedSince)
    throws (1: IndexNotFound notFound),
}
