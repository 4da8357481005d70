/*
 * Social feed: posts, comments, reactions, follows and the ranked home feed.
 *
 * The ranker scores candidates with RankingFeatures; the feature struct is
 * append-only because models trained on old logs read it by field id.
 */

include "../common/base.thrift"
include "../common/identity.thrift"
include "../common/geo.thrift"

namespace java com.meridian.social.feed
namespace cpp meridian.social.feed
namespace py meridian.social.feed
namespace go meridian.social.feed

typedef string PostId
typedef string CommentId
typedef string MediaId
typedef string HashtagText
typedef i64 ScoreMicros

const i32 MAX_POST_LENGTH = 5000
const i32 MAX_ATTACHMENTS = 10
const i32 FEED_PAGE_SIZE = 25
const map<string, double> DEFAULT_REACTION_WEIGHTS = {"LIKE": 1.0, "LOVE": 1.5, "LAUGH": 1.2, "WOW": 1.1, "SAD": 0.8, "ANGRY": 0.6}

enum Visibility {
  PUBLIC = 1,
  FOLLOWERS = 2,
  CLOSE_FRIENDS = 3,
  ONLY_ME = 4,
  UNLISTED = 5,
}

enum ReactionKind {
  LIKE = 1,
  LOVE = 2,
  LAUGH = 3,
  WOW = 4,
  SAD = 5,
  ANGRY = 6,
  CARE = 7,
}

enum ModerationState {
  UNREVIEWED = 0,
  APPROVED = 1,
  LIMITED = 2,
  REMOVED = 3,
  APPEALED = 4,
}

enum FeedSurface {
  HOME = 1,
  FOLLOWING = 2,
  EXPLORE = 3,
  PROFILE = 4,
  HASHTAG = 5,
  NEARBY = 6,
}

enum CandidateSource {
  FOLLOWED_AUTHOR = 1,
  FRIEND_OF_FRIEND = 2,
  TRENDING = 3,
  TOPIC_MATCH = 4,
  SPONSORED = 5,
  RESURFACED = 6,
}

struct MediaAttachment {
  1: required MediaId mediaId,
  2: required string url,
  3: optional string thumbnailUrl,
  4: optional string mimeType,
  5: optional i32 width,
  6: optional i32 height,
  7: optional i32 durationMs,
  8: optional string altText,
  9: optional string blurHash,
  10: bool sensitive = false,
}

struct LinkPreview {
  1: required string url,
  2: optional string title,
  3: optional string description,
  4: optional string imageUrl,
  5: optional string siteName,
}

struct Poll {
  1: list<string> options,
  2: map<i32, i64> votes,
  3: optional base.TimestampMillis closesAt,
  4: bool multipleChoice = false,
}

union PostBody {
  1: string text,
  2: list<MediaAttachment> gallery,
  3: LinkPreview link,
  4: Poll poll,
  5: PostId repostOf,
}

struct FeedPost {
  1: required PostId postId,
  2: required identity.MemberId authorId,
  3: required PostBody body,
  4: optional string caption,
  5: list<HashtagText> hashtags,
  6: list<identity.MemberId> mentions,
  7: Visibility visibility = Visibility.PUBLIC,
  8: optional geo.GeoPoint location,
  9: optional string language,
  10: required base.TimestampMillis createdAt,
  11: optional base.TimestampMillis editedAt,
  12: i64 likeCount,
  13: i64 commentCount,
  14: i64 shareCount,
  15: i64 viewCount,
  16: map<ReactionKind, i64> reactionCounts,
  17: ModerationState moderation = ModerationState.UNREVIEWED,
  18: bool commentsDisabled = false,
  19: bool pinned = false,
  20: optional PostId replyTo,
  21: optional string clientPostId,
}

struct FeedComment {
  1: required CommentId commentId,
  2: required PostId postId,
  3: required identity.MemberId authorId,
  4: required string text,
  5: optional CommentId parentId,
  6: required base.TimestampMillis createdAt,
  7: i64 likeCount,
  8: i32 replyCount,
  9: ModerationState moderation = ModerationState.UNREVIEWED,
  10: list<identity.MemberId> mentions,
}

struct Reaction {
  1: required PostId postId,
  2: required identity.MemberId memberId,
  3: required ReactionKind kind,
  4: required base.TimestampMillis at,
}

struct FollowEdge {
  1: required identity.MemberId follower,
  2: required identity.MemberId followee,
  3: required base.TimestampMillis since,
  4: bool closeFriend = false,
  5: bool muted = false,
  6: bool notificationsOn = false,
}

/** Dense features for one (viewer, candidate) pair; never renumber. */
struct RankingFeatures {
  1: double authorAffinity,
  2: double authorFollowerCountLog,
  3: double authorPostRate7d,
  4: double authorEngagementRate30d,
  5: double authorReportRate30d,
  6: double viewerAuthorInteractions30d,
  7: double viewerAuthorDirectMessages30d,
  8: double viewerAuthorProfileVisits30d,
  9: double viewerAuthorMutualFollows,
  10: double viewerSessionLengthMin,
  11: double viewerSessionDepth,
  12: double viewerDailyActiveDays28d,
  13: double viewerLikeRate7d,
  14: double viewerCommentRate7d,
  15: double viewerShareRate7d,
  16: double viewerHideRate30d,
  17: double postAgeMinutes,
  18: double postLikeVelocity1h,
  19: double postCommentVelocity1h,
  20: double postShareVelocity1h,
  21: double postViewVelocity1h,
  22: double postCompletionRate,
  23: double postAverageDwellMs,
  24: double postNegativeFeedbackRate,
  25: double postTextLength,
  26: double postMediaCount,
  27: double postHasVideo,
  28: double postHasLink,
  29: double postHasPoll,
  30: double postHashtagCount,
  31: double postMentionCount,
  32: double postLanguageMatch,
  33: double postTopicSimilarity,
  34: double postEmbeddingSimilarity,
  35: double postQualityScore,
  36: double postClickbaitScore,
  37: double postToxicityScore,
  38: double postNsfwScore,
  39: double postMisinformationScore,
  40: double postOriginality,
  41: double geoDistanceKm,
  42: double sameCity,
  43: double sameCountry,
  44: double timeOfDaySin,
  45: double timeOfDayCos,
  46: double dayOfWeekSin,
  47: double dayOfWeekCos,
  48: double networkQuality,
  49: double deviceIsTablet,
  50: double appVersionAge,
  51: double predictedLike,
  52: double predictedComment,
  53: double predictedShare,
  54: double predictedHide,
  55: double predictedDwell,
  56: double predictedFollow,
  57: double predictedProfileClick,
  58: double predictedReport,
  59: double candidateSourceWeight,
  60: double diversityPenalty,
  61: double seenAuthorInSession,
  62: double seenTopicInSession,
  63: double positionInCandidateList,
  64: optional double experimentalFeatureA,
  65: optional double experimentalFeatureB,
  66: optional double experimentalFeatureC,
  67: list<double> authorEmbedding,
  68: list<double> postEmbedding,
  69: map<string, double> sparseFeatures,
}

enum NotificationKind {
  NEW_FOLLOWER = 1,
  POST_LIKED = 2,
  POST_COMMENTED = 3,
  MENTIONED = 4,
  REPOSTED = 5,
  DIGEST = 6,
}

struct FeedNotification {
  1: required string notificationId,
  2: required identity.MemberId recipientId,
  3: required NotificationKind kind,
  4: list<identity.MemberId> actors,
  5: optional PostId postId,
  6: optional CommentId commentId,
  7: required base.TimestampMillis createdAt,
  8: bool read = false,
  9: optional string title,
  10: optional string body,
  11: optional string deepLink,
  12: optional string imageUrl,
  13: i32 groupedCount = 1,
}

struct MemberProfile {
  1: required identity.MemberId memberId,
  2: required string handle,
  3: optional string displayName,
  4: optional string bio,
  5: optional string avatarUrl,
  6: optional string bannerUrl,
  7: optional string website,
  8: optional geo.GeoPoint location,
  9: i64 followerCount,
  10: i64 followingCount,
  11: i64 postCount,
  12: bool verified = false,
  13: bool privateAccount = false,
  14: list<PostId> pinnedPosts,
  15: optional base.TimestampMillis joinedAt,
  16: set<string> interests,
  17: optional string pronouns,
  18: map<string, string> links,
}

enum ModerationAction {
  NO_ACTION = 0,
  LABEL = 1,
  REDUCE_DISTRIBUTION = 2,
  REMOVE_CONTENT = 3,
  SUSPEND_AUTHOR = 4,
}

struct ModerationCase {
  1: required string caseId,
  2: required PostId postId,
  3: list<string> reportIds,
  4: list<string> policyIds,
  5: optional double classifierScore,
  6: optional string classifier,
  7: ModerationAction action = ModerationAction.NO_ACTION,
  8: optional string reviewerId,
  9: optional base.TimestampMillis openedAt,
  10: optional base.TimestampMillis decidedAt,
  11: bool appealed = false,
  12: optional string notes,
}

struct RankedItem {
  1: required FeedPost post,
  2: required ScoreMicros score,
  3: CandidateSource source = CandidateSource.FOLLOWED_AUTHOR,
  4: optional RankingFeatures features,
  5: optional string explanation,
  6: optional string experimentBucket,
  7: list<FeedComment> previewComments,
  8: optional ReactionKind viewerReaction,
  9: bool sponsored = false,
}

struct FeedRequest {
  1: required identity.MemberId viewerId,
  2: FeedSurface surface = FeedSurface.HOME,
  3: optional base.PageRequest page,
  4: optional geo.GeoPoint viewerLocation,
  5: optional identity.DeviceInfo device,
  6: set<PostId> seenPostIds,
  7: bool includeFeatures = false,
  8: optional HashtagText hashtag,
  9: optional identity.MemberId profileOf,
  10: map<string, string> experimentOverrides,
}

struct FeedResponse {
  1: list<RankedItem> items,
  2: optional base.PageInfo page,
  3: optional string rankerVersion,
  4: optional i64 latencyMicros,
  5: i32 candidateCount,
  6: map<CandidateSource, i32> candidatesBySource,
}

exception PostNotFound {
  1: PostId postId,
}

exception ContentRejected {
  1: string reason,
  2: list<string> policyIds,
}

exception Blocked {
  1: identity.MemberId by,
}

service FeedService extends base.BaseService {
  FeedResponse feed(1: base.RequestContext context, 2: FeedRequest request)
    throws (1: base.InvalidArgument invalid, 2: identity.Unauthenticated unauthenticated),
  FeedPost createPost(1: base.RequestContext context, 2: FeedPost post)
    throws (1: ContentRejected rejected, 2: base.QuotaExceeded quota, 3: identity.Unauthenticated unauthenticated),
  FeedPost getPost(1: base.RequestContext context, 2: PostId postId) throws (1: PostNotFound notFound, 2: Blocked blocked),
  list<FeedPost> getPosts(1: base.RequestContext context, 2: list<PostId> postIds),
  FeedPost editPost(1: base.RequestContext context, 2: PostId postId, 3: PostBody body, 4: string caption)
    throws (1: PostNotFound notFound, 2: ContentRejected rejected, 3: base.PermissionDenied denied),
  void deletePost(1: base.RequestContext context, 2: PostId postId) throws (1: PostNotFound notFound, 2: base.PermissionDenied denied),
  FeedComment comment(1: base.RequestContext context, 2: PostId postId, 3: string text, 4: CommentId parentId)
    throws (1: PostNotFound notFound, 2: ContentRejected rejected, 3: Blocked blocked),
  list<FeedComment> comments(1: base.RequestContext context, 2: PostId postId, 3: base.PageRequest page)
    throws (1: PostNotFound notFound),
  void react(1: base.RequestContext context, 2: PostId postId, 3: ReactionKind kind) throws (1: PostNotFound notFound),
  void unreact(1: base.RequestContext context, 2: PostId postId) throws (1: PostNotFound notFound),
  list<Reaction> reactions(1: base.RequestContext context, 2: PostId postId, 3: ReactionKind kind, 4: base.PageRequest page),
  void follow(1: base.RequestContext context, 2: identity.MemberId followee) throws (1: Blocked blocked),
  void unfollow(1: base.RequestContext context, 2: identity.MemberId followee),
  list<FollowEdge> followers(1: base.RequestContext context, 2: identity.MemberId memberId, 3: base.PageRequest page),
  list<FollowEdge> following(1: base.RequestContext context, 2: identity.MemberId memberId, 3: base.PageRequest page),
  void block(1: base.RequestContext context, 2: identity.MemberId memberId),
  void mute(1: base.RequestContext context, 2: identity.MemberId memberId, 3: base.DurationMillis duration),
  MemberProfile profile(1: base.RequestContext context, 2: identity.MemberId memberId) throws (1: base.ResourceNotFound notFound, 2: Blocked blocked),
  list<FeedNotification> notifications(1: base.RequestContext context, 2: base.PageRequest page, 3: bool unreadOnly),
  void markNotificationsRead(1: base.RequestContext context, 2: list<string> notificationIds),
  list<HashtagText> trendingHashtags(1: geo.CountryCode country, 2: i32 limit = 20),
  void report(1: base.RequestContext context, 2: PostId postId, 3: string policyId, 4: string note),
  ModerationCase moderationCase(1: base.RequestContext context, 2: string caseId) throws (1: base.ResourceNotFound notFound, 2: base.PermissionDenied denied),
  ModerationCase decide(1: base.RequestContext context, 2: string caseId, 3: ModerationAction action, 4: string notes)
    throws (1: base.ResourceNotFound notFound, 2: base.PermissionDenied denied),
  oneway void logImpressions(1: identity.MemberId viewerId, 2: list<PostId> postIds, 3: FeedSurface surface),
  oneway void logDwell(1: identity.MemberId viewerId, 2: PostId postId, 3: i64 dwellMs),
}
