/*
 * Payments ledger: double-entry accounts, journal entries, transfers,
 * payouts, settlements and disputes.
 *
 * Invariant: for every committed JournalEntry the postings sum to zero per
 * currency. Amounts are signed minor units (debits positive).
 */

include "../commerce/orders.thrift"
include "../common/base.thrift"
include "../common/money.thrift"
include "../common/identity.thrift"
include "../common/geo.thrift"

namespace java com.meridian.payments.ledger
namespace cpp meridian.payments.ledger
namespace py meridian.payments.ledger
namespace go meridian.payments.ledger

typedef string LedgerAccountId
typedef string JournalEntryId
typedef string TransferId
typedef string PayoutId
typedef string DisputeId
typedef string SettlementBatchId
/** ISO 13616 IBAN without spaces. */
typedef string Iban (pii = "true")

const i32 MAX_POSTINGS_PER_ENTRY = 500
const i64 LARGE_TRANSFER_THRESHOLD_MINOR = 1000000000
const map<money.CurrencyCode, i64> DAILY_PAYOUT_LIMITS_MINOR = {"USD": 50000000, "EUR": 45000000, "GBP": 40000000}

enum AccountType {
  ASSET = 1,
  LIABILITY = 2,
  EQUITY = 3,
  REVENUE = 4,
  EXPENSE = 5,
  CONTRA_ASSET = 6,
}

enum AccountPurpose {
  CUSTOMER_BALANCE = 1,
  MERCHANT_BALANCE = 2,
  SETTLEMENT_CLEARING = 3,
  FEES_EARNED = 4,
  RESERVES = 5,
  CHARGEBACK_LOSSES = 6,
  FX_GAINS_LOSSES = 7,
  SUSPENSE = 8,
  PROCESSOR_RECEIVABLE = 9,
  TAX_PAYABLE = 10,
}

enum EntryState {
  PENDING = 1,
  POSTED = 2,
  REVERSED = 3,
  VOIDED = 4,
}

enum TransferState {
  CREATED = 1,
  PROCESSING = 2,
  SUCCEEDED = 3,
  FAILED = 4,
  CANCELED = 5,
  RETURNED = 6,
}

enum PayoutRail {
  ACH = 1,
  SEPA_CREDIT = 2,
  SEPA_INSTANT = 3,
  FASTER_PAYMENTS = 4,
  WIRE = 5,
  CARD_PUSH = 6,
  RTP = 7,
}

enum DisputeStage {
  INQUIRY = 1,
  CHARGEBACK = 2,
  PRE_ARBITRATION = 3,
  ARBITRATION = 4,
  WON_DISPUTE = 5,
  LOST_DISPUTE = 6,
  ACCEPTED = 7,
}

enum DisputeCategory {
  FRAUDULENT = 1,
  PRODUCT_NOT_RECEIVED = 2,
  PRODUCT_UNACCEPTABLE = 3,
  DUPLICATE = 4,
  SUBSCRIPTION_CANCELED = 5,
  CREDIT_NOT_PROCESSED = 6,
  GENERAL = 7,
}

struct LedgerAccount {
  1: required LedgerAccountId accountId,
  2: required string name,
  3: required AccountType type,
  4: AccountPurpose purpose = AccountPurpose.SUSPENSE,
  5: required money.CurrencyCode currency,
  6: optional base.TenantId owner,
  7: optional LedgerAccountId parentId,
  8: bool allowNegative = false,
  9: bool frozen = false,
  10: optional base.TimestampMillis openedAt,
  11: optional base.TimestampMillis closedAt,
  12: map<string, string> labels,
}

struct Balance {
  1: required LedgerAccountId accountId,
  2: required money.CurrencyCode currency,
  3: money.MinorUnits posted,
  4: money.MinorUnits pending,
  5: money.MinorUnits available,
  6: money.MinorUnits reserved,
  7: i64 entryCount,
  8: optional base.TimestampMillis asOf,
  9: optional JournalEntryId lastEntryId,
}

struct Posting {
  1: required LedgerAccountId accountId,
  2: required money.MinorUnits amount,
  3: required money.CurrencyCode currency,
  4: optional string memo,
  5: optional i32 lineNumber,
}

struct JournalEntry {
  1: required JournalEntryId entryId,
  2: list<Posting> postings,
  3: EntryState state = EntryState.PENDING,
  4: required base.TimestampMillis effectiveAt,
  5: optional base.TimestampMillis postedAt,
  6: optional string description,
  7: optional string externalReference,
  8: optional orders.OrderId orderId,
  9: optional JournalEntryId reverses,
  10: optional JournalEntryId reversedBy,
  11: optional base.AuditStamp created,
  12: map<string, string> metadata,
  13: optional string idempotencyKey,
}

struct BankAccount {
  1: required string holderName (pii = "true"),
  2: optional Iban iban,
  3: optional string accountNumber (pii = "true"),
  4: optional string routingNumber,
  5: optional string bic,
  6: optional string bankName,
  7: required geo.CountryCode country,
  8: required money.CurrencyCode currency,
  9: optional geo.PostalAddress holderAddress,
  10: bool verified = false,
}

struct Transfer {
  1: required TransferId transferId,
  2: required LedgerAccountId source,
  3: required LedgerAccountId destination,
  4: required money.Money amount,
  5: TransferState state = TransferState.CREATED,
  6: optional money.ExchangeRate fxRate,
  7: optional money.Money destinationAmount,
  8: optional string description,
  9: optional JournalEntryId entryId,
  10: optional base.TimestampMillis createdAt,
  11: optional base.TimestampMillis completedAt,
  12: optional string failureCode,
  13: optional string failureMessage,
  14: optional string idempotencyKey,
}

/** A payout to a merchant's bank account, through one rail. */
struct Payout {
  1: required PayoutId payoutId,
  2: required LedgerAccountId fromAccount,
  3: required BankAccount destination,
  4: required money.Money amount,
  5: PayoutRail rail = PayoutRail.ACH,
  6: TransferState state = TransferState.CREATED,
  7: optional money.Money fee,
  8: optional string statementDescriptor,
  9: optional string traceNumber,
  10: optional base.TimestampMillis expectedArrival,
  11: optional base.TimestampMillis arrivedAt,
  12: optional string failureCode,
  13: bool instant = false,
  14: optional JournalEntryId entryId,
  15: optional SettlementBatchId batchId,
}

struct CardDetails {
  1: optional string brand,
  2: optional string last4,
  3: optional i32 expiryMonth,
  4: optional i32 expiryYear,
  5: optional string fingerprint,
  6: optional geo.CountryCode issuerCountry,
  7: optional string funding,
  8: optional string network,
  9: optional bool threeDSecureUsed,
  10: optional string walletType,
}

struct Evidence {
  1: optional string customerCommunication,
  2: optional string receiptUrl,
  3: optional string shippingTrackingNumber,
  4: optional string shippingCarrier,
  5: optional base.TimestampMillis shippedAt,
  6: optional string refundPolicy,
  7: optional string cancellationPolicy,
  8: optional string serviceDocumentation,
  9: list<string> attachmentUrls,
  10: optional string uncategorizedText,
}

/** A card dispute, from the first inquiry to the final ruling. */
struct Dispute {
  1: required DisputeId disputeId,
  2: required string paymentId,
  3: optional orders.OrderId orderId,
  4: required money.Money amount,
  5: DisputeStage stage = DisputeStage.INQUIRY,
  6: DisputeCategory category = DisputeCategory.GENERAL,
  7: optional string networkReasonCode,
  8: optional CardDetails card,
  9: optional Evidence evidence,
  10: optional base.TimestampMillis openedAt,
  11: optional base.TimestampMillis evidenceDueBy,
  12: optional base.TimestampMillis resolvedAt,
  13: bool evidenceSubmitted = false,
  14: optional money.Money feeCharged,
  15: optional JournalEntryId holdEntryId,
  16: optional JournalEntryId resolutionEntryId,
  17: list<base.AuditStamp> history,
  18: optional string acquirerReference,
  19: optional string issuerReference,
  20: bool networkLiabilityShift = false,
}

struct SettlementLine {
  1: required string paymentId,
  2: required money.Money gross,
  3: required money.Money fee,
  4: required money.Money net,
  5: optional money.Money interchange,
  6: optional money.Money schemeFee,
  7: optional orders.OrderId orderId,
  8: optional string cardBrand,
  9: optional geo.CountryCode cardCountry,
  10: optional string processor,
  11: optional base.TimestampMillis capturedAt,
  12: optional string type,
}

struct SettlementBatch {
  1: required SettlementBatchId batchId,
  2: required string processor,
  3: required money.CurrencyCode currency,
  4: list<SettlementLine> lines,
  5: required money.Money grossTotal,
  6: required money.Money feeTotal,
  7: required money.Money netTotal,
  8: optional base.TimestampMillis settledAt,
  9: optional string bankReference,
  10: bool reconciled = false,
  11: list<string> unmatchedPaymentIds,
  12: optional JournalEntryId entryId,
}

enum PaymentStatus {
  REQUIRES_ACTION = 1,
  AUTHORIZED = 2,
  CAPTURED = 3,
  PARTIALLY_CAPTURED = 4,
  VOIDED_PAYMENT = 5,
  DECLINED = 6,
  PAYMENT_REFUNDED = 7,
  CHARGED_BACK = 8,
}

/** One card or wallet payment as the processor integration records it. */
struct PaymentRecord {
  1: required string paymentId,
  2: required base.TenantId merchantId,
  3: optional orders.OrderId orderId,
  4: required money.Money amount,
  5: PaymentStatus status = PaymentStatus.REQUIRES_ACTION,
  6: optional money.Money amountCaptured,
  7: optional money.Money amountRefunded,
  8: optional money.Money applicationFee,
  9: optional money.Money processorFee,
  10: optional money.ExchangeRate settlementRate,
  11: optional money.CurrencyCode settlementCurrency,
  12: optional string processor,
  13: optional string processorReference,
  14: optional string authorizationCode,
  15: optional string networkTransactionId,
  16: optional string responseCode,
  17: optional string responseMessage,
  18: optional string avsResult,
  19: optional string cvcResult,
  20: optional CardDetails card,
  21: optional string walletProvider,
  22: optional string bankTransferReference,
  23: optional string mandateId,
  24: bool threeDSecureAttempted = false,
  25: optional string threeDSecureVersion,
  26: optional string eci,
  27: optional string cavv,
  28: optional string exemption,
  29: optional double riskScore,
  30: optional string riskLevel,
  31: list<string> riskRulesTriggered,
  32: optional identity.DeviceInfo device,
  33: optional string customerIp (pii = "true"),
  34: optional identity.EmailAddress customerEmail,
  35: optional geo.PostalAddress billingAddress,
  36: optional string statementDescriptor,
  37: optional string statementDescriptorSuffix,
  38: bool capturedAutomatically = true,
  39: optional base.TimestampMillis authorizedAt,
  40: optional base.TimestampMillis capturedAt,
  41: optional base.TimestampMillis voidedAt,
  42: optional base.TimestampMillis expiresAt,
  43: optional base.TimestampMillis settledAt,
  44: optional SettlementBatchId batchId,
  45: optional JournalEntryId authorizationEntryId,
  46: optional JournalEntryId captureEntryId,
  47: list<JournalEntryId> refundEntryIds,
  48: optional DisputeId disputeId,
  49: bool recurring = false,
  50: optional string subscriptionId,
  51: optional i32 installmentCount,
  52: optional string installmentPlan,
  53: bool merchantInitiated = false,
  54: optional string previousPaymentId,
  55: i32 attempt = 1,
  56: optional string idempotencyKey,
  57: optional base.RequestId requestId,
  58: optional string integrationVersion,
  59: map<string, string> metadata,
  60: optional string description,
  61: optional string receiptEmail,
  62: optional string receiptNumber,
  63: bool livemode = true,
  64: optional base.Attributes ext,
}

union LedgerEvent {
  1: JournalEntry entryPosted,
  2: Transfer transferUpdated,
  3: Payout payoutUpdated,
  4: Dispute disputeUpdated,
  5: SettlementBatch batchSettled,
  6: LedgerAccountId accountFrozen,
}

struct ReconciliationReport {
  1: required base.TimeRange range,
  2: required money.CurrencyCode currency,
  3: money.MinorUnits expected,
  4: money.MinorUnits actual,
  5: list<string> missingEntries,
  6: list<string> unexpectedEntries,
  7: map<LedgerAccountId, money.MinorUnits> differences,
  8: bool balanced,
}

exception UnbalancedEntry {
  1: JournalEntryId entryId,
  2: map<money.CurrencyCode, money.MinorUnits> imbalance,
}

exception AccountFrozen {
  1: LedgerAccountId accountId,
  2: optional string reason,
}

exception InsufficientFunds {
  1: LedgerAccountId accountId,
  2: money.MinorUnits available,
  3: money.MinorUnits requested,
}

exception DuplicateRequest {
  1: string idempotencyKey,
  2: string existingId,
}

service LedgerService extends base.BaseService {
  LedgerAccount openAccount(1: base.RequestContext context, 2: LedgerAccount account)
    throws (1: base.InvalidArgument invalid, 2: base.ConflictError conflict),
  LedgerAccount getAccount(1: base.RequestContext context, 2: LedgerAccountId accountId)
    throws (1: base.ResourceNotFound notFound),
  void freezeAccount(1: base.RequestContext context, 2: LedgerAccountId accountId, 3: string reason)
    throws (1: base.ResourceNotFound notFound, 2: base.PermissionDenied denied),
  void unfreezeAccount(1: base.RequestContext context, 2: LedgerAccountId accountId)
    throws (1: base.ResourceNotFound notFound, 2: base.PermissionDenied denied),
  Balance balance(1: base.RequestContext context, 2: LedgerAccountId accountId, 3: base.TimestampMillis asOf)
    throws (1: base.ResourceNotFound notFound),
  map<LedgerAccountId, Balance> balances(1: base.RequestContext context, 2: list<LedgerAccountId> accountIds),
  JournalEntry post(1: base.RequestContext context, 2: JournalEntry entry)
    throws (1: UnbalancedEntry unbalanced, 2: AccountFrozen frozen, 3: InsufficientFunds insufficient,
            4: DuplicateRequest duplicate),
  JournalEntry reverse(1: base.RequestContext context, 2: JournalEntryId entryId, 3: string reason)
    throws (1: base.ResourceNotFound notFound, 2: base.ConflictError conflict),
  list<JournalEntry> entries(1: base.RequestContext context, 2: LedgerAccountId accountId, 3: base.TimeRange range,
                             4: base.PageRequest page),
  Transfer transfer(1: base.RequestContext context, 2: Transfer transfer)
    throws (1: InsufficientFunds insufficient, 2: AccountFrozen frozen, 3: money.CurrencyMismatch mismatch,
            4: DuplicateRequest duplicate),
  Transfer getTransfer(1: base.RequestContext context, 2: TransferId transferId) throws (1: base.ResourceNotFound notFound),
  Payout createPayout(1: base.RequestContext context, 2: Payout payout)
    throws (1: InsufficientFunds insufficient, 2: base.QuotaExceeded limit, 3: base.InvalidArgument invalid),
  Payout cancelPayout(1: base.RequestContext context, 2: PayoutId payoutId)
    throws (1: base.ResourceNotFound notFound, 2: base.ConflictError conflict),
  list<Payout> listPayouts(1: base.RequestContext context, 2: LedgerAccountId accountId, 3: base.PageRequest page),
  PaymentRecord getPayment(1: base.RequestContext context, 2: string paymentId) throws (1: base.ResourceNotFound notFound),
  list<PaymentRecord> listPayments(1: base.RequestContext context, 2: base.TenantId merchantId, 3: base.TimeRange range,
                                   4: base.PageRequest page),
  Dispute getDispute(1: base.RequestContext context, 2: DisputeId disputeId) throws (1: base.ResourceNotFound notFound),
  Dispute submitEvidence(1: base.RequestContext context, 2: DisputeId disputeId, 3: Evidence evidence)
    throws (1: base.ResourceNotFound notFound, 2: base.InvalidArgument invalid),
  Dispute acceptDispute(1: base.RequestContext context, 2: DisputeId disputeId) throws (1: base.ResourceNotFound notFound),
  SettlementBatch ingestSettlement(1: base.RequestContext context, 2: SettlementBatch batch)
    throws (1: DuplicateRequest duplicate, 2: base.InvalidArgument invalid),
  ReconciliationReport reconcile(1: base.RequestContext context, 2: LedgerAccountId accountId, 3: base.TimeRange range)
    (idempotent = "true"),
  list<LedgerEvent> events(1: base.RequestContext context, 2: i64 afterSequence, 3: i32 limit = 500),
  oneway void acknowledgeEvents(1: string consumer, 2: i64 upToSequence),
}
