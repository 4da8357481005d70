/*
 * Catalog service: products, variants (SKUs), media, inventory and the
 * merchandising taxonomy. The storefront, search indexer and order service
 * all read products through this contract.
 */

include "../common/base.thrift"
include "../common/money.thrift"
include "../common/geo.thrift"
include "../common/pricing.thrift"

namespace java com.meridian.commerce.catalog
namespace cpp meridian.commerce.catalog
namespace py meridian.commerce.catalog
namespace go meridian.commerce.catalog

typedef string ProductId
typedef string SkuId
typedef string CategoryId
typedef string BrandId
typedef string WarehouseId
/** GS1 Global Trade Item Number (8, 12, 13 or 14 digits). */
typedef string Gtin

const i32 MAX_MEDIA_PER_PRODUCT = 40
const i32 MAX_VARIANTS_PER_PRODUCT = 250
const set<string> SUPPORTED_MEDIA_TYPES = ["image/jpeg", "image/png", "image/webp", "video/mp4"]
const map<string, string> DEFAULT_UNITS = {"weight": "g", "length": "mm", "volume": "ml"}

enum ProductStatus {
  DRAFT = 1,
  PENDING_REVIEW = 2,
  ACTIVE = 3,
  SUSPENDED = 4,
  DISCONTINUED = 5,
  ARCHIVED = 6,
}

enum Condition {
  NEW = 1,
  REFURBISHED = 2,
  USED_LIKE_NEW = 3,
  USED_GOOD = 4,
  USED_ACCEPTABLE = 5,
}

enum MediaKind {
  IMAGE = 1,
  VIDEO_CLIP = 2,
  SPIN_360 = 3,
  DOCUMENT = 4,
  MODEL_3D = 5,
}

enum FulfilmentMode {
  SHIP_FROM_WAREHOUSE = 1,
  SHIP_FROM_STORE = 2,
  DROP_SHIP = 3,
  DIGITAL_DELIVERY = 4,
  PICKUP_ONLY = 5,
}

enum AgeRestriction {
  NONE = 0,
  AGE_16 = 16,
  AGE_18 = 18,
  AGE_21 = 21,
}

enum StockState {
  IN_STOCK = 1,
  LOW_STOCK = 2,
  OUT_OF_STOCK = 3,
  BACKORDER = 4,
  PREORDER = 5,
}

struct Dimensions {
  1: optional double lengthMm,
  2: optional double widthMm,
  3: optional double heightMm,
  4: optional double weightGrams,
  5: optional double volumeMl,
}

struct MediaAsset {
  1: required string url,
  2: MediaKind kind = MediaKind.IMAGE,
  3: optional string altText,
  4: optional i32 width,
  5: optional i32 height,
  6: optional string mimeType,
  7: optional i32 sortOrder,
  8: optional string checksumSha256,
  9: optional i64 bytes,
  10: bool primary = false,
  11: map<string, string> renditions,
}

struct AttributeValue {
  1: required string name,
  2: optional string text,
  3: optional double number,
  4: optional bool flag,
  5: optional string unit,
  6: list<string> values,
  7: bool filterable = false,
  8: bool variantDefining = false,
}

struct Brand {
  1: required BrandId brandId,
  2: required string name,
  3: optional string logoUrl,
  4: optional string website,
  5: optional geo.CountryCode originCountry,
  6: bool verified = false,
}

struct Category {
  1: required CategoryId categoryId,
  2: required string name,
  3: optional CategoryId parentId,
  4: list<CategoryId> path,
  5: optional string googleTaxonomyId,
  6: i32 depth,
  7: bool leaf = true,
  8: map<string, string> localizedNames,
  9: list<string> requiredAttributes,
}

struct Review {
  1: required string reviewId,
  2: required ProductId productId,
  3: optional SkuId skuId,
  4: required i32 stars,
  5: optional string title,
  6: optional string body,
  7: optional string authorName,
  8: bool verifiedPurchase = false,
  9: i32 helpfulVotes,
  10: optional base.TimestampMillis createdAt,
  11: list<MediaAsset> media,
  12: optional string language,
}

struct RatingSummary {
  1: double average,
  2: i64 count,
  3: map<i32, i64> histogram,
}

struct InventoryLevel {
  1: required SkuId skuId,
  2: required WarehouseId warehouseId,
  3: i64 onHand,
  4: i64 reserved,
  5: i64 inbound,
  6: i64 safetyStock,
  7: StockState state = StockState.IN_STOCK,
  8: optional base.TimestampMillis restockEta,
  9: optional base.TimestampMillis updatedAt,
}

struct Warehouse {
  1: required WarehouseId warehouseId,
  2: required string name,
  3: required geo.PostalAddress address,
  4: set<FulfilmentMode> modes,
  5: optional geo.TimeZoneName timeZone,
  6: i32 cutoffHourLocal = 14,
  7: list<geo.CountryCode> shipsTo,
  8: bool active = true,
}

struct Sku {
  1: required SkuId skuId,
  2: required ProductId productId,
  3: optional Gtin gtin,
  4: optional string mpn,
  5: optional string title,
  6: list<AttributeValue> options,
  7: required money.Money price,
  8: optional money.Money compareAtPrice,
  9: optional money.Money cost,
  10: list<pricing.PriceRule> priceRules,
  11: optional Dimensions dimensions,
  12: optional Dimensions packageDimensions,
  13: list<MediaAsset> media,
  14: StockState stock = StockState.IN_STOCK,
  15: i64 availableQuantity,
  16: i32 maxPerOrder = 10,
  17: bool taxable = true,
  18: money.TaxCategory taxCategory = money.TaxCategory.STANDARD,
  19: optional string hsCode,
  20: optional geo.CountryCode countryOfOrigin,
  21: bool active = true,
  22: optional i32 sortOrder,
}

/** The product as merchandising edits it; SKUs carry what differs per variant. */
struct Product {
  1: required ProductId productId,
  2: required string title,
  3: optional string subtitle,
  4: optional string description,
  5: optional string descriptionHtml,
  6: ProductStatus status = ProductStatus.DRAFT,
  7: Condition condition = Condition.NEW,
  8: optional Brand brand,
  9: optional CategoryId primaryCategory,
  10: list<CategoryId> categories,
  11: list<Sku> skus,
  12: list<MediaAsset> media,
  13: list<AttributeValue> attributes,
  14: set<string> tags,
  15: optional string slug,
  16: optional string canonicalUrl,
  17: optional string metaTitle,
  18: optional string metaDescription,
  19: list<string> searchKeywords,
  20: optional RatingSummary rating,
  21: list<Review> featuredReviews,
  22: optional money.MoneyRange priceRange,
  23: optional money.Money lowestPrice30d,
  24: set<FulfilmentMode> fulfilment,
  25: list<geo.CountryCode> sellableIn,
  26: list<geo.CountryCode> blockedIn,
  27: AgeRestriction ageRestriction = AgeRestriction.NONE,
  28: bool hazardous = false,
  29: optional string hazardClass,
  30: bool requiresShipping = true,
  31: bool giftWrapAvailable = false,
  32: bool returnable = true,
  33: i32 returnWindowDays = 30,
  34: optional string warrantyText,
  35: optional i32 warrantyMonths,
  36: optional string careInstructions,
  37: optional string materials,
  38: optional string modelNumber,
  39: optional string manufacturer,
  40: optional geo.CountryCode manufacturerCountry,
  41: optional string sellerId,
  42: optional string sellerName,
  43: bool marketplace = false,
  44: optional double commissionRate,
  45: optional base.TimestampMillis publishedAt,
  46: optional base.TimestampMillis createdAt,
  47: optional base.TimestampMillis updatedAt,
  48: optional base.AuditStamp lastEdit,
  49: i64 version,
  50: optional string templateId,
  51: map<string, string> localizedTitles,
  52: map<string, string> localizedDescriptions,
  53: list<ProductId> relatedProducts,
  54: list<ProductId> accessories,
  55: list<ProductId> replacements,
  56: optional ProductId supersededBy,
  57: optional i64 viewCount30d,
  58: optional i64 orderCount30d,
  59: optional double conversionRate30d,
  60: optional double returnRate90d,
  61: optional i32 popularityRank,
  62: bool featured = false,
  63: bool exclusive = false,
  64: optional base.TimeRange availabilityWindow,
  65: optional pricing.Discount launchDiscount,
  66: optional string sizeChartUrl,
  67: list<string> certifications,
  68: optional string energyLabel,
  69: optional double carbonFootprintKg,
  70: optional base.Attributes ext,
}

/** A merchandised set of products: "Summer sale", "New in". */
struct Collection {
  1: required string collectionId,
  2: required string title,
  3: optional string description,
  4: optional string slug,
  5: list<ProductId> productIds,
  6: optional ProductFilter rule,
  7: optional MediaAsset hero,
  8: bool published = false,
  9: optional base.TimeRange schedule,
  10: i32 sortOrder,
  11: optional string sortBy,
  12: map<string, string> localizedTitles,
  13: optional base.AuditStamp lastEdit,
}

enum ImportState {
  QUEUED = 1,
  RUNNING = 2,
  COMPLETED = 3,
  COMPLETED_WITH_ERRORS = 4,
  FAILED_IMPORT = 5,
}

struct ImportError {
  1: required i32 row,
  2: optional string column,
  3: required string message,
}

/** A bulk product import from a supplier feed (CSV or GS1 XML). */
struct ImportJob {
  1: required string jobId,
  2: required string sourceUrl,
  3: optional string format,
  4: ImportState state = ImportState.QUEUED,
  5: i64 rowsTotal,
  6: i64 rowsImported,
  7: i64 rowsFailed,
  8: list<ImportError> errors,
  9: bool dryRun = false,
  10: bool overwriteExisting = false,
  11: optional base.TimestampMillis startedAt,
  12: optional base.TimestampMillis finishedAt,
  13: optional base.AuditStamp requested,
}

struct ProductFilter {
  1: list<CategoryId> categories,
  2: list<BrandId> brands,
  3: set<ProductStatus> statuses,
  4: optional money.MoneyRange price,
  5: optional string textQuery,
  6: set<string> tags,
  7: optional base.TimestampMillis updatedSince,
  8: bool inStockOnly = false,
}

struct ProductPage {
  1: list<Product> products,
  2: optional base.PageInfo page,
}

struct InventoryAdjustment {
  1: required SkuId skuId,
  2: required WarehouseId warehouseId,
  3: required i64 delta,
  4: required string reason,
  5: optional string referenceId,
  6: optional base.AuditStamp stamp,
}

exception ProductNotFound {
  1: ProductId productId,
}

exception SkuNotFound {
  1: SkuId skuId,
}

exception InsufficientStock {
  1: SkuId skuId,
  2: i64 requested,
  3: i64 available,
}

service CatalogService extends base.BaseService {
  Product getProduct(1: base.RequestContext context, 2: ProductId productId, 3: base.FieldMask mask)
    throws (1: ProductNotFound notFound),
  list<Product> getProducts(1: base.RequestContext context, 2: list<ProductId> productIds, 3: base.FieldMask mask),
  Product getProductBySlug(1: base.RequestContext context, 2: string slug)
    throws (1: ProductNotFound notFound),
  ProductPage listProducts(1: base.RequestContext context, 2: ProductFilter filter, 3: base.PageRequest page)
    throws (1: base.InvalidArgument invalid),
  Product createProduct(1: base.RequestContext context, 2: Product product)
    throws (1: base.InvalidArgument invalid, 2: base.ConflictError conflict, 3: base.PermissionDenied denied),
  Product updateProduct(1: base.RequestContext context, 2: Product product, 3: base.FieldMask mask, 4: i64 expectedVersion)
    throws (1: base.InvalidArgument invalid, 2: ProductNotFound notFound, 3: base.ConflictError conflict),
  void deleteProduct(1: base.RequestContext context, 2: ProductId productId)
    throws (1: ProductNotFound notFound, 2: base.PermissionDenied denied),
  Product publishProduct(1: base.RequestContext context, 2: ProductId productId)
    throws (1: ProductNotFound notFound, 2: base.InvalidArgument invalid),
  Sku getSku(1: base.RequestContext context, 2: SkuId skuId) throws (1: SkuNotFound notFound),
  Sku upsertSku(1: base.RequestContext context, 2: Sku sku) throws (1: base.InvalidArgument invalid, 2: ProductNotFound notFound),
  list<InventoryLevel> inventory(1: base.RequestContext context, 2: list<SkuId> skuIds, 3: list<WarehouseId> warehouses),
  InventoryLevel adjustInventory(1: base.RequestContext context, 2: InventoryAdjustment adjustment)
    throws (1: SkuNotFound notFound, 2: InsufficientStock insufficient),
  map<SkuId, i64> reserveStock(1: base.RequestContext context, 2: map<SkuId, i64> quantities, 3: string orderReference)
    throws (1: InsufficientStock insufficient),
  void releaseStock(1: base.RequestContext context, 2: string orderReference),
  Collection getCollection(1: string collectionId) throws (1: base.ResourceNotFound notFound),
  Collection saveCollection(1: base.RequestContext context, 2: Collection collection) throws (1: base.InvalidArgument invalid),
  ImportJob startImport(1: base.RequestContext context, 2: string sourceUrl, 3: string format, 4: bool dryRun)
    throws (1: base.InvalidArgument invalid, 2: base.QuotaExceeded quota),
  ImportJob importStatus(1: string jobId) throws (1: base.ResourceNotFound notFound),
  list<Category> categoryTree(1: CategoryId root, 2: i32 maxDepth = 3),
  Category getCategory(1: CategoryId categoryId) throws (1: base.ResourceNotFound notFound),
  list<Brand> listBrands(1: base.PageRequest page),
  list<Warehouse> listWarehouses(1: geo.CountryCode country),
  list<Review> listReviews(1: ProductId productId, 2: base.PageRequest page, 3: i32 minStars),
  Review submitReview(1: base.RequestContext context, 2: Review review)
    throws (1: base.InvalidArgument invalid, 2: base.QuotaExceeded quota),
  pricing.PriceQuote quote(1: base.RequestContext context, 2: SkuId skuId, 3: i32 quantity, 4: geo.PostalAddress shipTo)
    throws (1: SkuNotFound notFound),
  oneway void recordView(1: ProductId productId, 2: string sessionId),
}
