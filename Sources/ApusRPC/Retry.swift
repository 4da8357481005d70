import ApusThrift
import Synchronization

/// When and how often `Retry` tries again.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maxAttempts: Int
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    public var multiplier: Double
    /// Codes worth retrying for calls that may have run already, when the method is idempotent.
    public var retryableCodes: Set<RPCError.Code>

    public init(
        maxAttempts: Int = 3, initialBackoff: Duration = .milliseconds(10), maxBackoff: Duration = .seconds(1),
        multiplier: Double = 2, retryableCodes: Set<RPCError.Code> = [.unavailable, .resourceExhausted, .deadlineExceeded]
    ) {
        precondition(maxAttempts >= 1, "maxAttempts counts the first attempt, so it is at least 1")
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.multiplier = multiplier
        self.retryableCodes = retryableCodes
    }

    /// Full-jitter exponential backoff before attempt `attempt` (2, 3, ...).
    public func backoff(beforeAttempt attempt: Int) -> Duration {
        let exponent = Double(attempt - 2)
        let ceiling = min(initialBackoff * pow2(multiplier, exponent), maxBackoff)
        return ceiling * Double.random(in: 0...1)
    }

    private func pow2(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        for _ in 0..<Int(exponent) { result *= base }
        return result
    }
}

/// Caps retries at a fraction of calls, so a struggling server is not hit by
/// a retry storm (the retry budget of Finagle and gRPC): every call deposits
/// `ratio` tokens, every retry withdraws one; no token, no retry.
public final class RetryBudget: Sendable {
    public let ratio: Double
    public let maxTokens: Double
    private let tokens: Mutex<Double>

    public init(ratio: Double = 0.1, maxTokens: Double = 10, initialTokens: Double? = nil) {
        self.ratio = ratio
        self.maxTokens = maxTokens
        self.tokens = Mutex(initialTokens ?? maxTokens)
    }

    func deposit() { tokens.withLock { $0 = min(maxTokens, $0 + ratio) } }

    func withdraw() -> Bool {
        tokens.withLock { tokens in
            guard tokens >= 1 else { return false }
            tokens -= 1
            return true
        }
    }

    /// Tokens available now.
    public var available: Double { tokens.withLock { $0 } }
}

/// Retries failed calls with exponential backoff, within a budget.
///
/// A call is retried only when that cannot run it twice unexpectedly: the
/// request was never sent (`RPCError.requestWasNotSent`: no connection), or
/// the method is idempotent (IDL annotation or `CallOptions.idempotent`) and
/// the error's code is in `policy.retryableCodes`. Declared exceptions and
/// other errors pass through at once.
public struct Retry<Inner: ClientTransport>: ClientTransport {
    public let inner: Inner
    public let policy: RetryPolicy
    public let budget: RetryBudget

    public init(_ inner: Inner, policy: RetryPolicy = RetryPolicy(), budget: RetryBudget = RetryBudget()) {
        self.inner = inner
        self.policy = policy
        self.budget = budget
    }

    func shouldRetry(_ error: any Error, method: MethodDescriptor, options: CallOptions, attempt: Int) -> Bool {
        guard attempt < policy.maxAttempts, let error = error as? RPCError, !Task.isCancelled else { return false }
        let idempotent = options.idempotent ?? method.isIdempotent
        guard error.requestWasNotSent || (idempotent && policy.retryableCodes.contains(error.code)) else { return false }
        return budget.withdraw()
    }

    private func withRetries<T>(method: MethodDescriptor, options: CallOptions, _ attempt: () async throws -> T) async throws -> T {
        budget.deposit()
        var number = 1
        while true {
            do {
                return try await attempt()
            } catch {
                guard shouldRetry(error, method: method, options: options, attempt: number) else { throw error }
                number += 1
                try await Task.sleep(for: policy.backoff(beforeAttempt: number))
            }
        }
    }

    public func call<Reply: Sendable>(
        _ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions,
        decode: @escaping @Sendable (borrowing IncomingMessage) throws(RPCError) -> Reply
    ) async throws -> Reply {
        try await withRetries(method: method, options: options) {
            try await inner.call(request, method: method, options: options, decode: decode)
        }
    }

    public func callOneway(_ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions) async throws {
        try await withRetries(method: method, options: options) {
            try await inner.callOneway(request, method: method, options: options)
        }
    }
}
