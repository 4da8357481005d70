/*
 * Order service: carts, checkout, orders, fulfilment and returns.
 *
 * An order is immutable once placed except through the state transitions
 * below; every transition appends an OrderEvent.
 */

include "catalog.thrift"
include "../common/base.thrift"
include "../common/money.thrift"
include "../common/geo.thrift"
include "../common/identity.thrift"
include "../common/pricing.thrift"

namespace java com.meridian.commerce.orders
namespace cpp meridian.commerce.orders
namespace py meridian.commerce.orders
namespace go meridian.commerce.orders

typedef string OrderId
typedef string CartId
typedef string ShipmentId
typedef string ReturnId
typedef string PromotionCode

const i32 CART_TTL_DAYS = 30
const i32 MAX_LINES_PER_ORDER = 200
const list<string> CANCELLABLE_STATES = ["PLACED", "PAYMENT_PENDING", "CONFIRMED"]

enum OrderState {
  PLACED = 1,
  PAYMENT_PENDING = 2,
  CONFIRMED = 3,
  PARTIALLY_SHIPPED = 4,
  SHIPPED = 5,
  DELIVERED = 6,
  CANCELLED = 7,
  REFUNDED = 8,
  PARTIALLY_REFUNDED = 9,
  ON_HOLD = 10,
}

enum SalesChannel {
  STOREFRONT_WEB = 1,
  STOREFRONT_APP = 2,
  MARKETPLACE = 3,
  POINT_OF_SALE = 4,
  CALL_CENTER = 5,
  SUBSCRIPTION_RENEWAL = 6,
}

enum ShippingSpeed {
  ECONOMY = 1,
  STANDARD_SHIPPING = 2,
  EXPRESS = 3,
  NEXT_DAY = 4,
  SAME_DAY = 5,
}

enum ShipmentState {
  LABEL_CREATED = 1,
  PICKED_UP = 2,
  IN_TRANSIT = 3,
  OUT_FOR_DELIVERY = 4,
  DELIVERED_TO_RECIPIENT = 5,
  DELIVERY_FAILED = 6,
  RETURNED_TO_SENDER = 7,
  LOST = 8,
}

enum ReturnReason {
  DAMAGED = 1,
  WRONG_ITEM = 2,
  NOT_AS_DESCRIBED = 3,
  NO_LONGER_NEEDED = 4,
  ARRIVED_LATE = 5,
  SIZE_OR_FIT = 6,
  QUALITY = 7,
  OTHER_REASON = 99,
}

enum CancellationReason {
  CUSTOMER_REQUEST = 1,
  PAYMENT_DECLINED = 2,
  FRAUD_SUSPECTED = 3,
  OUT_OF_STOCK_CANCEL = 4,
  ADDRESS_UNDELIVERABLE = 5,
  MERCHANT_REQUEST = 6,
}

struct GiftOptions {
  1: bool giftWrap = false,
  2: optional string message,
  3: optional string fromName,
  4: bool hidePrices = true,
}

struct LineItem {
  1: required string lineId,
  2: required catalog.SkuId skuId,
  3: required catalog.ProductId productId,
  4: required i32 quantity,
  5: required money.Money unitPrice,
  6: optional money.Money listUnitPrice,
  7: list<pricing.Discount> discounts,
  8: optional money.Money discountTotal,
  9: list<money.TaxLine> taxes,
  10: required money.Money lineTotal,
  11: optional string title,
  12: optional string imageUrl,
  13: list<catalog.AttributeValue> options,
  14: optional catalog.WarehouseId fulfilFrom,
  15: catalog.FulfilmentMode fulfilment = catalog.FulfilmentMode.SHIP_FROM_WAREHOUSE,
  16: optional GiftOptions gift,
  17: i32 quantityShipped,
  18: i32 quantityCancelled,
  19: i32 quantityReturned,
  20: optional string sellerId,
  21: optional base.Attributes customizations,
}

struct ShippingMethod {
  1: required string methodId,
  2: required string carrier,
  3: ShippingSpeed speed = ShippingSpeed.STANDARD_SHIPPING,
  4: required money.Money price,
  5: optional i32 minTransitDays,
  6: optional i32 maxTransitDays,
  7: bool trackingIncluded = true,
  8: bool signatureRequired = false,
}

struct Cart {
  1: required CartId cartId,
  2: optional identity.MemberId memberId,
  3: list<LineItem> lines,
  4: list<PromotionCode> promotionCodes,
  5: optional geo.PostalAddress shippingAddress,
  6: optional ShippingMethod shippingMethod,
  7: optional money.AmountBreakdown totals,
  8: money.CurrencyCode currency = money.DEFAULT_CURRENCY,
  9: optional base.TimestampMillis createdAt,
  10: optional base.TimestampMillis updatedAt,
  11: optional base.TimestampMillis expiresAt,
  12: SalesChannel channel = SalesChannel.STOREFRONT_WEB,
}

struct TrackingEvent {
  1: required base.TimestampMillis at,
  2: required ShipmentState state,
  3: optional string description,
  4: optional geo.GeoPoint location,
  5: optional string carrierCode,
}

struct Shipment {
  1: required ShipmentId shipmentId,
  2: required OrderId orderId,
  3: map<string, i32> lineQuantities,
  4: ShipmentState state = ShipmentState.LABEL_CREATED,
  5: optional string carrier,
  6: optional string trackingNumber,
  7: optional string trackingUrl,
  8: optional catalog.WarehouseId shippedFrom,
  9: optional geo.PostalAddress shipTo,
  10: optional base.TimestampMillis shippedAt,
  11: optional base.TimestampMillis estimatedDelivery,
  12: optional base.TimestampMillis deliveredAt,
  13: list<TrackingEvent> events,
  14: optional catalog.Dimensions parcel,
  15: optional money.Money labelCost,
  16: optional string proofOfDeliveryUrl,
}

struct ReturnLine {
  1: required string lineId,
  2: required i32 quantity,
  3: ReturnReason reason = ReturnReason.OTHER_REASON,
  4: optional string comment,
  5: list<string> photoUrls,
  6: bool restockable = true,
}

struct ReturnRequest {
  1: required ReturnId returnId,
  2: required OrderId orderId,
  3: list<ReturnLine> lines,
  4: optional money.Money refundAmount,
  5: optional money.Money restockingFee,
  6: optional string returnLabelUrl,
  7: optional base.TimestampMillis requestedAt,
  8: optional base.TimestampMillis receivedAt,
  9: bool approved = false,
  10: optional base.AuditStamp decision,
}

union OrderEventDetail {
  1: OrderState stateChanged,
  2: Shipment shipmentUpdated,
  3: ReturnRequest returnRequested,
  4: string noteAdded,
  5: money.Money refundIssued,
  6: CancellationReason cancelled,
  7: geo.PostalAddress addressChanged,
}

struct OrderEvent {
  1: required i64 sequence,
  2: required base.TimestampMillis at,
  3: required OrderEventDetail detail,
  4: optional string actor,
  5: optional base.RequestId requestId,
}

struct FraudAssessment {
  1: double score,
  2: optional string model,
  3: list<string> signals,
  4: bool manualReviewRequired = false,
  5: optional string decision,
}

/** A placed order. */
struct Order {
  1: required OrderId orderId,
  2: optional string orderNumber,
  3: required base.TenantId tenantId,
  4: optional identity.MemberId memberId,
  5: optional identity.EmailAddress email,
  6: OrderState state = OrderState.PLACED,
  7: SalesChannel channel = SalesChannel.STOREFRONT_WEB,
  8: list<LineItem> lines,
  9: required money.AmountBreakdown totals,
  10: money.CurrencyCode currency = money.DEFAULT_CURRENCY,
  11: optional geo.PostalAddress billingAddress,
  12: optional geo.PostalAddress shippingAddress,
  13: optional ShippingMethod shippingMethod,
  14: list<Shipment> shipments,
  15: list<ReturnRequest> returns,
  16: list<PromotionCode> promotionCodes,
  17: list<pricing.Discount> orderDiscounts,
  18: optional string paymentIntentId,
  19: optional string paymentMethodSummary,
  20: optional money.Money amountAuthorized,
  21: optional money.Money amountCaptured,
  22: optional money.Money amountRefunded,
  23: optional FraudAssessment fraud,
  24: optional GiftOptions gift,
  25: optional string customerNote,
  26: optional string internalNote,
  27: optional base.TimestampMillis placedAt,
  28: optional base.TimestampMillis confirmedAt,
  29: optional base.TimestampMillis cancelledAt,
  30: optional CancellationReason cancellationReason,
  31: optional base.TimestampMillis completedAt,
  32: optional base.TimestampMillis promisedDeliveryBy,
  33: list<OrderEvent> events,
  34: optional identity.DeviceInfo device,
  35: optional string ipAddress (pii = "true"),
  36: optional string userAgent,
  37: optional string affiliateId,
  38: optional string campaignId,
  39: optional string utmSource,
  40: optional string utmMedium,
  41: optional string utmCampaign,
  42: optional string referrerUrl,
  43: optional CartId sourceCartId,
  44: optional OrderId parentOrderId,
  45: list<OrderId> splitOrderIds,
  46: optional string subscriptionId,
  47: optional i32 subscriptionCycle,
  48: bool testOrder = false,
  49: bool taxExempt = false,
  50: optional string taxExemptionCertificate,
  51: optional string invoiceNumber,
  52: optional string invoiceUrl,
  53: optional string locale,
  54: optional geo.TimeZoneName customerTimeZone,
  55: i64 version,
  56: optional base.AuditStamp lastModified,
  57: map<string, string> tags,
  58: optional money.Money loyaltyPointsValue,
  59: optional i64 loyaltyPointsEarned,
  60: optional i64 loyaltyPointsRedeemed,
  61: optional string salesAssociateId,
  62: optional string storeId,
  63: optional i32 itemsCount,
  64: optional double weightGrams,
  65: bool requiresAgeVerification = false,
  66: optional base.Attributes ext,
}

struct OrderSummary {
  1: required OrderId orderId,
  2: optional string orderNumber,
  3: OrderState state,
  4: required money.Money grandTotal,
  5: optional base.TimestampMillis placedAt,
  6: i32 itemsCount,
}

struct OrderQuery {
  1: optional identity.MemberId memberId,
  2: set<OrderState> states,
  3: optional base.TimeRange placed,
  4: set<SalesChannel> channels,
  5: optional string textQuery,
  6: optional base.PageRequest page,
}

struct CheckoutRequest {
  1: required CartId cartId,
  2: required geo.PostalAddress billingAddress,
  3: optional geo.PostalAddress shippingAddress,
  4: required string shippingMethodId,
  5: required string paymentMethodToken,
  6: optional GiftOptions gift,
  7: optional string customerNote,
  8: bool acceptTerms = false,
  9: optional string idempotencyKey,
}

enum SubscriptionState {
  TRIALING = 1,
  ACTIVE_SUBSCRIPTION = 2,
  PAST_DUE = 3,
  PAUSED = 4,
  CANCELED_SUBSCRIPTION = 5,
}

/** A repeating order; each cycle places an Order with channel SUBSCRIPTION_RENEWAL. */
struct Subscription {
  1: required string subscriptionId,
  2: required identity.MemberId memberId,
  3: list<LineItem> lines,
  4: pricing.BillingPeriod period = pricing.BillingPeriod.MONTHLY,
  5: i32 intervalCount = 1,
  6: SubscriptionState state = SubscriptionState.TRIALING,
  7: optional base.TimestampMillis trialEndsAt,
  8: optional base.TimestampMillis currentPeriodStart,
  9: optional base.TimestampMillis currentPeriodEnd,
  10: optional base.TimestampMillis nextRenewalAt,
  11: bool cancelAtPeriodEnd = false,
  12: optional geo.PostalAddress shippingAddress,
  13: optional string paymentMethodToken,
  14: i32 cyclesCompleted,
  15: optional i32 maxCycles,
  16: list<OrderId> orderIds,
}

exception OrderNotFound {
  1: OrderId orderId,
}

exception CartNotFound {
  1: CartId cartId,
}

exception InvalidStateTransition {
  1: OrderState fromState,
  2: OrderState toState,
  3: string message,
}

exception PaymentDeclined {
  1: string declineCode,
  2: optional string message,
  3: bool retryable = false,
}

service CartService extends base.BaseService {
  Cart createCart(1: base.RequestContext context, 2: identity.MemberId memberId),
  Cart getCart(1: base.RequestContext context, 2: CartId cartId) throws (1: CartNotFound notFound),
  Cart addLine(1: base.RequestContext context, 2: CartId cartId, 3: catalog.SkuId skuId, 4: i32 quantity)
    throws (1: CartNotFound notFound, 2: catalog.SkuNotFound skuNotFound, 3: catalog.InsufficientStock insufficient),
  Cart updateLineQuantity(1: base.RequestContext context, 2: CartId cartId, 3: string lineId, 4: i32 quantity)
    throws (1: CartNotFound notFound, 2: catalog.InsufficientStock insufficient),
  Cart removeLine(1: base.RequestContext context, 2: CartId cartId, 3: string lineId) throws (1: CartNotFound notFound),
  Cart applyPromotion(1: base.RequestContext context, 2: CartId cartId, 3: PromotionCode code)
    throws (1: CartNotFound notFound, 2: base.InvalidArgument invalid),
  Cart removePromotion(1: base.RequestContext context, 2: CartId cartId, 3: PromotionCode code) throws (1: CartNotFound notFound),
  Cart setShippingAddress(1: base.RequestContext context, 2: CartId cartId, 3: geo.PostalAddress address)
    throws (1: CartNotFound notFound, 2: base.InvalidArgument invalid),
  list<ShippingMethod> shippingOptions(1: base.RequestContext context, 2: CartId cartId) throws (1: CartNotFound notFound),
  Cart mergeCarts(1: base.RequestContext context, 2: CartId source, 3: CartId target) throws (1: CartNotFound notFound),
}

service OrderService extends CartService {
  Order checkout(1: base.RequestContext context, 2: CheckoutRequest request)
    throws (1: CartNotFound notFound, 2: PaymentDeclined declined, 3: catalog.InsufficientStock insufficient,
            4: base.InvalidArgument invalid),
  Order getOrder(1: base.RequestContext context, 2: OrderId orderId, 3: base.FieldMask mask)
    throws (1: OrderNotFound notFound, 2: base.PermissionDenied denied),
  list<OrderSummary> listOrders(1: base.RequestContext context, 2: OrderQuery query) throws (1: base.InvalidArgument invalid),
  Order cancelOrder(1: base.RequestContext context, 2: OrderId orderId, 3: CancellationReason reason, 4: string note)
    throws (1: OrderNotFound notFound, 2: InvalidStateTransition invalidTransition),
  Order holdOrder(1: base.RequestContext context, 2: OrderId orderId, 3: string reason)
    throws (1: OrderNotFound notFound, 2: InvalidStateTransition invalidTransition),
  Order releaseHold(1: base.RequestContext context, 2: OrderId orderId)
    throws (1: OrderNotFound notFound, 2: InvalidStateTransition invalidTransition),
  Shipment createShipment(1: base.RequestContext context, 2: OrderId orderId, 3: map<string, i32> lineQuantities, 4: string carrier)
    throws (1: OrderNotFound notFound, 2: InvalidStateTransition invalidTransition),
  Shipment updateShipment(1: base.RequestContext context, 2: ShipmentId shipmentId, 3: TrackingEvent event)
    throws (1: base.ResourceNotFound notFound),
  ReturnRequest requestReturn(1: base.RequestContext context, 2: OrderId orderId, 3: list<ReturnLine> lines)
    throws (1: OrderNotFound notFound, 2: base.InvalidArgument invalid),
  ReturnRequest decideReturn(1: base.RequestContext context, 2: ReturnId returnId, 3: bool approve, 4: string note)
    throws (1: base.ResourceNotFound notFound, 2: base.PermissionDenied denied),
  Order refund(1: base.RequestContext context, 2: OrderId orderId, 3: money.Money amount, 4: string reason)
    throws (1: OrderNotFound notFound, 2: money.CurrencyMismatch mismatch, 3: base.PermissionDenied denied),
  list<OrderEvent> orderHistory(1: base.RequestContext context, 2: OrderId orderId, 3: i64 afterSequence)
    throws (1: OrderNotFound notFound),
  Order addNote(1: base.RequestContext context, 2: OrderId orderId, 3: string note) throws (1: OrderNotFound notFound),
  Order changeShippingAddress(1: base.RequestContext context, 2: OrderId orderId, 3: geo.PostalAddress address)
    throws (1: OrderNotFound notFound, 2: InvalidStateTransition invalidTransition),
  Subscription subscribe(1: base.RequestContext context, 2: CartId cartId, 3: pricing.BillingPeriod period)
    throws (1: CartNotFound notFound, 2: PaymentDeclined declined),
  Subscription pauseSubscription(1: base.RequestContext context, 2: string subscriptionId, 3: base.TimestampMillis resumeAt)
    throws (1: base.ResourceNotFound notFound),
  FraudAssessment assessFraud(1: base.RequestContext context, 2: OrderId orderId) throws (1: OrderNotFound notFound),
  oneway void orderViewed(1: OrderId orderId, 2: identity.MemberId memberId),
}
