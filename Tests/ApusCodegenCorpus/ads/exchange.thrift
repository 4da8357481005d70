/*
 * Meridian Ad Exchange: the real-time bidding contract between the exchange
 * and demand partners (DSPs), plus the deal desk and reporting calls.
 *
 * Field names are snake_case because partners map them one to one onto their
 * JSON bid request schemas. Every auction carries one AuctionRequest; bidders
 * answer with one AuctionResponse within `tmax_ms`.
 */

include "../common/base.thrift"
include "../common/geo.thrift"
include "../common/identity.thrift"
include "../common/pricing.thrift"
include "../common/money.thrift"

namespace java com.meridian.ads.exchange
namespace cpp meridian.ads.exchange
namespace py meridian.ads.exchange
namespace go meridian.ads.exchange

typedef string AuctionId
typedef string ImpressionId
typedef string SeatId
typedef string CreativeId
typedef string DealId
typedef string CampaignRef
/** IAB content taxonomy id, e.g. "IAB1-6". */
typedef string ContentCategory

const i32 DEFAULT_TMAX_MS = 120
const i32 MAX_IMPRESSIONS_PER_AUCTION = 32
const list<ContentCategory> ALWAYS_BLOCKED_CATEGORIES = ["IAB25-3", "IAB26"]
const map<string, i32> BIDDER_TIMEOUT_BUDGET_MS = {"us-east": 100, "eu-west": 110, "ap-south": 140}

enum AuctionType {
  FIRST_PRICE = 1,
  SECOND_PRICE = 2,
  FIXED_PRICE = 3,
}

enum AdFormat {
  BANNER = 1,
  VIDEO = 2,
  AUDIO = 3,
  NATIVE = 4,
  INTERSTITIAL = 5,
  REWARDED = 6,
}

enum AdPosition {
  UNKNOWN_POSITION = 0,
  ABOVE_THE_FOLD = 1,
  BELOW_THE_FOLD = 3,
  HEADER = 4,
  FOOTER = 5,
  SIDEBAR = 6,
  FULL_SCREEN = 7,
}

enum VideoProtocol {
  VAST_2 = 2,
  VAST_3 = 3,
  VAST_4 = 7,
  VAST_4_WRAPPER = 8,
  DAAST_1 = 9,
}

enum PlaybackMethod {
  AUTO_PLAY_SOUND_ON = 1,
  AUTO_PLAY_SOUND_OFF = 2,
  CLICK_TO_PLAY = 3,
  MOUSE_OVER = 4,
  ENTER_VIEWPORT_SOUND_ON = 5,
  ENTER_VIEWPORT_SOUND_OFF = 6,
}

enum CreativeAttribute {
  AUDIO_AUTO_PLAY = 1,
  AUDIO_USER_INITIATED = 2,
  EXPANDABLE_AUTOMATIC = 3,
  EXPANDABLE_CLICK = 4,
  EXPANDABLE_ROLLOVER = 5,
  IN_BANNER_VIDEO_AUTO = 6,
  IN_BANNER_VIDEO_USER = 7,
  POP = 8,
  PROVOCATIVE = 9,
  FLASHING = 10,
  SURVEYS = 11,
  TEXT_ONLY = 12,
  USER_INTERACTIVE = 13,
  ALERT_STYLE = 14,
  HAS_AUDIO_TOGGLE = 15,
  HAS_SKIP_BUTTON = 16,
}

enum NoBidReason {
  UNKNOWN_ERROR = 0,
  TECHNICAL_ERROR = 1,
  INVALID_REQUEST = 2,
  KNOWN_SPIDER = 3,
  SUSPECTED_NON_HUMAN = 4,
  PROXY_IP = 5,
  UNSUPPORTED_DEVICE = 6,
  BLOCKED_PUBLISHER = 7,
  UNMATCHED_USER = 8,
  DAILY_CAP_MET = 9,
  BUDGET_EXHAUSTED = 10,
}

enum LossReason {
  WON = 0,
  INTERNAL_ERROR = 1,
  EXPIRED = 2,
  INVALID_BID_RESPONSE = 3,
  BELOW_FLOOR = 100,
  BELOW_DEAL_FLOOR = 101,
  LOST_TO_HIGHER_BID = 102,
  LOST_TO_DEAL = 103,
  SEAT_BLOCKED = 104,
  CREATIVE_FILTERED_ADVERTISER = 200,
  CREATIVE_FILTERED_CATEGORY = 201,
  CREATIVE_FILTERED_SIZE = 202,
  CREATIVE_FILTERED_PENDING_REVIEW = 203,
  CREATIVE_FILTERED_DISAPPROVED = 204,
}

enum DealType {
  OPEN_AUCTION = 1,
  PRIVATE_AUCTION = 2,
  PREFERRED_DEAL = 3,
  PROGRAMMATIC_GUARANTEED = 4,
}

struct Format {
  1: required i32 w,
  2: required i32 h,
  3: optional i32 w_ratio,
  4: optional i32 h_ratio,
  5: optional i32 w_min,
}

struct Banner {
  1: list<Format> formats,
  2: optional i32 w,
  3: optional i32 h,
  4: set<CreativeAttribute> blocked_attributes,
  5: AdPosition position = AdPosition.UNKNOWN_POSITION,
  6: list<string> mimes,
  7: bool top_frame = false,
  8: list<i32> expandable_directions,
  9: list<i32> api_frameworks,
  10: optional string banner_id,
  11: bool is_companion = false,
}

struct VideoPlacement {
  1: list<string> mimes,
  2: optional i32 min_duration_s,
  3: optional i32 max_duration_s,
  4: set<VideoProtocol> protocols,
  5: optional i32 w,
  6: optional i32 h,
  7: optional i32 start_delay_s,
  8: optional i32 placement_type,
  9: optional i32 linearity,
  10: bool skippable = false,
  11: optional i32 skip_min_s,
  12: optional i32 skip_after_s,
  13: optional i32 sequence,
  14: set<CreativeAttribute> blocked_attributes,
  15: optional i32 max_extended_s,
  16: optional i32 min_bitrate_kbps,
  17: optional i32 max_bitrate_kbps,
  18: bool boxing_allowed = true,
  19: list<PlaybackMethod> playback_methods,
  20: list<i32> delivery_methods,
  21: AdPosition position = AdPosition.UNKNOWN_POSITION,
  22: list<Banner> companions,
  23: list<i32> api_frameworks,
  24: optional i32 pod_id,
  25: optional i32 pod_duration_s,
}

struct NativeAsset {
  1: required i32 asset_id,
  2: bool required_asset = false,
  3: optional string title_text,
  4: optional i32 title_max_length,
  5: optional i32 image_type,
  6: optional i32 image_w,
  7: optional i32 image_h,
  8: optional i32 data_type,
  9: optional i32 data_max_length,
  10: optional VideoPlacement video,
}

struct NativePlacement {
  1: optional string request_json,
  2: optional string version,
  3: list<NativeAsset> assets,
  4: optional i32 context_type,
  5: optional i32 placement_type,
  6: i32 placement_count = 1,
  7: set<CreativeAttribute> blocked_attributes,
}

struct DealTerms {
  1: required DealId deal_id,
  2: optional money.Money floor,
  3: DealType type = DealType.PRIVATE_AUCTION,
  4: list<SeatId> allowed_seats,
  5: list<string> allowed_advertiser_domains,
  6: AuctionType auction_type = AuctionType.FIRST_PRICE,
  7: optional i64 guaranteed_impressions,
  8: optional base.TimeRange flight,
}

struct Impression {
  1: required ImpressionId id,
  2: optional Banner banner,
  3: optional VideoPlacement video,
  4: optional NativePlacement native_placement,
  5: optional string display_manager,
  6: optional string display_manager_version,
  7: bool interstitial = false,
  8: optional string tag_id,
  9: optional money.Money bid_floor,
  10: bool secure = true,
  11: list<string> iframe_busters,
  12: bool private_auction = false,
  13: list<DealTerms> deals,
  14: optional i32 expected_exposure_s,
  15: bool click_browser_external = false,
  16: bool rewarded = false,
  17: optional string gpid,
  18: optional base.Attributes ext,
  19: optional double viewability_prediction,
  20: optional double click_through_prediction,
  21: optional i32 slot_in_page,
  22: set<AdFormat> accepted_formats,
}

struct Publisher {
  1: required string publisher_id,
  2: optional string name,
  3: list<ContentCategory> categories,
  4: optional string domain,
  5: optional string seller_json_id,
}

struct ContentInfo {
  1: optional string content_id,
  2: optional string episode,
  3: optional string title,
  4: optional string series,
  5: optional string season,
  6: optional string artist,
  7: optional string genre,
  8: optional string album,
  9: optional string isrc,
  10: optional string url,
  11: list<ContentCategory> categories,
  12: optional i32 production_quality,
  13: optional i32 context,
  14: optional string content_rating,
  15: optional string user_rating,
  16: optional i32 media_rating,
  17: list<string> keywords,
  18: bool live_stream = false,
  19: bool source_relationship_direct = true,
  20: optional i32 length_s,
  21: optional string language,
  22: bool embeddable = true,
}

struct SiteInfo {
  1: required string site_id,
  2: optional string name,
  3: optional string domain,
  4: list<ContentCategory> categories,
  5: list<ContentCategory> section_categories,
  6: list<ContentCategory> page_categories,
  7: optional string page_url,
  8: optional string referrer_url,
  9: optional string search_string,
  10: bool mobile_optimized = false,
  11: bool privacy_policy = true,
  12: optional Publisher publisher,
  13: optional ContentInfo content,
  14: list<string> keywords,
  15: bool amp = false,
}

struct AppInfo {
  1: required string app_id,
  2: optional string name,
  3: optional string bundle,
  4: optional string domain,
  5: optional string store_url,
  6: list<ContentCategory> categories,
  7: optional string version,
  8: bool privacy_policy = true,
  9: bool paid = false,
  10: optional Publisher publisher,
  11: optional ContentInfo content,
  12: list<string> keywords,
}

struct UserSegment {
  1: required string segment_id,
  2: optional string name,
  3: optional string value,
  4: optional double score,
}

struct AudienceData {
  1: required string provider_id,
  2: optional string provider_name,
  3: list<UserSegment> segments,
}

struct BidderUser {
  1: optional string exchange_user_id,
  2: optional string buyer_user_id,
  3: optional i32 year_of_birth,
  4: identity.AgeBracket age_bracket = identity.AgeBracket.UNDISCLOSED,
  5: optional string gender,
  6: list<string> interests,
  7: optional geo.GeoPoint home,
  8: list<AudienceData> data,
  9: optional string consent_string,
  10: list<identity.ConsentRecord> consents,
  11: map<string, string> extended_ids,
}

struct Regulations {
  1: bool coppa = false,
  2: bool gdpr_applies = false,
  3: optional string us_privacy,
  4: optional string gpp_string,
  5: list<i32> gpp_section_ids,
}

/** The bid request: everything a bidder may use to price an auction. */
struct AuctionRequest {
  1: required AuctionId auction_id,
  2: list<Impression> impressions,
  3: optional SiteInfo site,
  4: optional AppInfo app,
  5: optional identity.DeviceInfo device,
  6: optional BidderUser user,
  7: bool test = false,
  8: AuctionType auction_type = AuctionType.FIRST_PRICE,
  9: i32 tmax_ms = DEFAULT_TMAX_MS,
  10: list<SeatId> allowed_seats,
  11: list<SeatId> blocked_seats,
  12: bool all_impressions = false,
  13: list<money.CurrencyCode> currencies,
  14: list<string> languages,
  15: list<ContentCategory> blocked_categories,
  16: list<string> blocked_advertiser_domains,
  17: list<string> blocked_app_bundles,
  18: optional Regulations regulations,
  19: optional string source_transaction_id,
  20: bool final_decision_upstream = true,
  21: optional string schain_json,
  22: optional base.RequestContext context,
  23: optional string exchange_region,
  24: optional string datacenter,
  25: optional i64 received_at_micros,
  26: optional string publisher_account,
  27: optional double fraud_score,
  28: optional double brand_safety_score,
  29: optional string floor_experiment,
  30: optional money.Money reserve_price,
  31: map<ImpressionId, money.Money> impression_floors,
  32: optional string page_view_id,
  33: optional i32 page_impression_count,
  34: optional i32 session_depth,
  35: optional string referrer_domain,
  36: optional geo.GeoPoint ip_location,
  37: optional string ip_truncated,
  38: optional string isp,
  39: optional bool is_proxy,
  40: optional bool is_datacenter_ip,
  41: optional string browser,
  42: optional string browser_version,
  43: optional string os_family,
  44: optional i32 viewport_w,
  45: optional i32 viewport_h,
  46: list<string> supported_apis,
  47: optional string prebid_version,
  48: optional string header_bidding_wrapper,
  49: bool first_party_data_shared = false,
  50: map<string, list<string>> first_party_data,
  51: list<string> topics,
  52: optional string contextual_segment,
  53: optional double predicted_ctr,
  54: optional double predicted_viewability,
  55: optional double predicted_completion,
  56: optional i32 ad_slots_on_page,
  57: optional string ab_bucket,
  58: set<string> feature_flags,
  59: optional base.TimestampMillis page_loaded_at,
  60: optional i32 scroll_depth_percent,
  61: bool is_reload = false,
  62: optional i32 refresh_count,
  63: optional string carbon_score,
  64: optional pricing.PriceRule floor_rule,
  65: optional base.Attributes ext,
}

struct Bid {
  1: required string bid_id,
  2: required ImpressionId impression_id,
  3: required money.Micros price_micros,
  4: optional string notice_url,
  5: optional string billing_url,
  6: optional string loss_url,
  7: optional string ad_markup,
  8: optional string ad_id,
  9: list<string> advertiser_domains,
  10: optional string bundle,
  11: optional string image_url,
  12: optional CampaignRef campaign_id,
  13: optional CreativeId creative_id,
  14: optional string tactic,
  15: list<ContentCategory> categories,
  16: set<CreativeAttribute> attributes,
  17: optional i32 api_framework,
  18: optional VideoProtocol protocol,
  19: optional i32 media_rating,
  20: optional string language,
  21: optional DealId deal_id,
  22: optional i32 w,
  23: optional i32 h,
  24: optional i32 w_ratio,
  25: optional i32 h_ratio,
  26: optional i32 expiry_s,
  27: optional AdFormat format,
  28: optional i32 duration_s,
  29: optional string advertiser_name,
  30: optional string brand_name,
  31: optional string agency_name,
  32: optional string buyer_member_id,
  33: optional string dsp_name,
  34: optional double predicted_ctr,
  35: optional double predicted_cvr,
  36: optional money.Micros bid_shading_reduction_micros,
  37: optional money.Micros original_price_micros,
  38: optional string shading_model,
  39: optional string pacing_state,
  40: optional i32 frequency_count,
  41: optional string line_item_id,
  42: optional string insertion_order_id,
  43: optional string strategy_id,
  44: optional string creative_version,
  45: optional string vast_url,
  46: optional string landing_page_url,
  47: optional string landing_page_domain,
  48: list<string> click_trackers,
  49: list<string> impression_trackers,
  50: list<string> viewability_vendors,
  51: optional string privacy_icon_url,
  52: optional string privacy_landing_url,
  53: bool political = false,
  54: optional string political_sponsor,
  55: optional string ssl_compliance,
  56: optional i32 max_ad_pod_slots,
  57: optional string audio_markup,
  58: optional string native_response_json,
  59: optional geo.Geofence target_area,
  60: optional base.TimestampMillis created_at,
  61: optional i64 latency_micros,
  62: optional base.Attributes ext,
}

struct SeatBid {
  1: required SeatId seat,
  2: list<Bid> bids,
  3: bool group = false,
}

struct AuctionResponse {
  1: required AuctionId auction_id,
  2: list<SeatBid> seat_bids,
  3: optional string bidder_response_id,
  4: money.CurrencyCode currency = "USD",
  5: optional string custom_data,
  6: optional NoBidReason no_bid_reason,
  7: optional i64 processing_micros,
  8: optional base.Attributes ext,
}

struct AuctionOutcome {
  1: required AuctionId auction_id,
  2: required string bid_id,
  3: LossReason reason = LossReason.WON,
  4: optional money.Money clearing_price,
  5: optional money.Money winning_price,
  6: optional SeatId winning_seat,
  7: optional base.TimestampMillis decided_at,
}

struct CreativeReview {
  1: required CreativeId creative_id,
  2: required SeatId seat,
  3: bool approved,
  4: list<ContentCategory> detected_categories,
  5: set<CreativeAttribute> detected_attributes,
  6: list<string> detected_advertiser_domains,
  7: optional string rejection_reason,
  8: optional base.AuditStamp reviewed,
}

struct DeliveryReportRow {
  1: required string day,
  2: optional SeatId seat,
  3: optional DealId deal_id,
  4: optional string publisher_id,
  5: optional geo.CountryCode country,
  6: optional identity.DevicePlatform platform,
  7: i64 requests,
  8: i64 bids,
  9: i64 wins,
  10: i64 impressions,
  11: i64 clicks,
  12: i64 viewable_impressions,
  13: i64 completed_views,
  14: money.Micros spend_micros,
  15: money.Micros revenue_micros,
  16: optional double average_latency_ms,
  17: optional double timeout_rate,
}

struct DeliveryReportQuery {
  1: required base.TimeRange range,
  2: list<string> group_by,
  3: list<SeatId> seats,
  4: list<DealId> deals,
  5: list<geo.CountryCode> countries,
  6: optional base.PageRequest page,
}

struct DeliveryReport {
  1: list<DeliveryReportRow> rows,
  2: optional DeliveryReportRow totals,
  3: optional base.PageInfo page,
  4: bool sampled = false,
}

exception AuctionExpired {
  1: AuctionId auction_id,
  2: i64 late_by_micros,
}

exception SeatNotAllowed {
  1: SeatId seat,
  2: string reason,
}

/** What the exchange calls on a bidder. */
service Bidder extends base.BaseService {
  AuctionResponse bid(1: AuctionRequest request) throws (1: AuctionExpired expired),
  oneway void notifyOutcome(1: AuctionOutcome outcome),
  oneway void notifyOutcomes(1: list<AuctionOutcome> outcomes),
  list<CreativeId> pendingCreatives(1: SeatId seat),
}

/** The exchange's own API for partners and the deal desk. */
service AdExchange extends base.BaseService {
  AuctionResponse simulateAuction(1: AuctionRequest request, 2: list<SeatId> bidders)
    throws (1: base.InvalidArgument invalid, 2: SeatNotAllowed seatNotAllowed),
  DealTerms createDeal(1: base.RequestContext context, 2: DealTerms deal)
    throws (1: base.InvalidArgument invalid, 2: base.ConflictError conflict, 3: base.PermissionDenied denied),
  DealTerms getDeal(1: base.RequestContext context, 2: DealId dealId)
    throws (1: base.ResourceNotFound notFound),
  DealTerms updateDeal(1: base.RequestContext context, 2: DealTerms deal, 3: base.FieldMask mask, 4: i64 expectedVersion)
    throws (1: base.InvalidArgument invalid, 2: base.ResourceNotFound notFound, 3: base.ConflictError conflict),
  void archiveDeal(1: base.RequestContext context, 2: DealId dealId)
    throws (1: base.ResourceNotFound notFound),
  list<DealTerms> listDeals(1: base.RequestContext context, 2: SeatId seat, 3: base.PageRequest page),
  CreativeReview submitCreative(1: base.RequestContext context, 2: SeatId seat, 3: CreativeId creativeId, 4: string markup)
    throws (1: base.InvalidArgument invalid, 2: base.QuotaExceeded quota),
  CreativeReview getCreativeReview(1: SeatId seat, 2: CreativeId creativeId)
    throws (1: base.ResourceNotFound notFound),
  list<CreativeReview> listCreativeReviews(1: SeatId seat, 2: bool pendingOnly, 3: base.PageRequest page),
  DeliveryReport deliveryReport(1: base.RequestContext context, 2: DeliveryReportQuery query)
    throws (1: base.InvalidArgument invalid, 2: base.QuotaExceeded quota) (idempotent = "true"),
  void blockDomain(1: base.RequestContext context, 2: string publisherId, 3: string advertiserDomain),
  void unblockDomain(1: base.RequestContext context, 2: string publisherId, 3: string advertiserDomain),
  set<string> blockedDomains(1: string publisherId),
  map<SeatId, double> seatTimeoutRates(1: base.TimeRange range),
  void setFloor(1: base.RequestContext context, 2: string publisherId, 3: ImpressionId tagId, 4: money.Money floor)
    throws (1: base.PermissionDenied denied),
  oneway void recordClick(1: AuctionId auctionId, 2: string bidId, 3: i64 atMicros),
  oneway void recordImpression(1: AuctionId auctionId, 2: string bidId, 3: i64 atMicros),
}
