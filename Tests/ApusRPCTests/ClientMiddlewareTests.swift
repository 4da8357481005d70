import ApusExamples
import ApusRPC
import ApusThrift
import Synchronization
import Testing

/// A transport that fails attempts as scripted, then answers echo with "ok".
final class ScriptedTransport: ClientTransport {
    let attempts = Atomic<Int>(0)
    let failures: [(any Error)?]
    let lastTimeout = Mutex<Duration?>(nil)

    init(failures: [(any Error)?]) { self.failures = failures }

    var attemptCount: Int { attempts.load(ordering: .relaxed) }

    func call<Reply: Sendable>(
        _ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions,
        decode: @escaping @Sendable (borrowing IncomingMessage) throws(RPCError) -> Reply
    ) async throws -> Reply {
        lastTimeout.withLock { $0 = options.timeout }
        let attempt = attempts.wrappingAdd(1, ordering: .relaxed).oldValue
        if attempt < failures.count, let failure = failures[attempt] { throw failure }
        let bytes = try OutgoingMessage(name: method.method, type: .reply, sequenceID: 1, body: Echo.EchoResult(success: "ok"))
            .encoded(protocol: .binary)
        return try bytes.withUnsafeBytes { raw in
            try decode(try IncomingMessage(parsing: raw, protocol: .binary, limits: .default))
        }
    }

    func callOneway(_ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions) async throws {
        let attempt = attempts.wrappingAdd(1, ordering: .relaxed).oldValue
        if attempt < failures.count, let failure = failures[attempt] { throw failure }
    }
}

let lost = RPCError(.unavailable, "connection lost")
let notSent = RPCError(.unavailable, "cannot connect", requestWasNotSent: true)
let fastRetries = RetryPolicy(maxAttempts: 3, initialBackoff: .milliseconds(1), maxBackoff: .milliseconds(2))
let idempotentCall = CallOptions(idempotent: true)

@Suite struct RetryTests {
    @Test func retriesAnIdempotentCallUntilItSucceeds() async throws {
        let transport = ScriptedTransport(failures: [lost, lost])
        let client = Echo.Client(Retry(transport, policy: fastRetries))
        #expect(try await client.echo(message: "x", options: idempotentCall) == "ok")
        #expect(transport.attemptCount == 3)
    }

    @Test func givesUpAfterMaxAttempts() async throws {
        let transport = ScriptedTransport(failures: Array(repeating: lost, count: 10))
        let client = Echo.Client(Retry(transport, policy: fastRetries))
        await expectRPCError(.unavailable) { try await client.echo(message: "x", options: idempotentCall) }
        #expect(transport.attemptCount == 3)
    }

    @Test func doesNotRetryACallThatMayHaveRunUnlessIdempotent() async throws {
        let transport = ScriptedTransport(failures: [lost])
        let client = Echo.Client(Retry(transport, policy: fastRetries))
        await expectRPCError(.unavailable) { try await client.echo(message: "x") }
        #expect(transport.attemptCount == 1)
    }

    @Test func retriesACallThatWasNeverSentWhateverItsIdempotency() async throws {
        let transport = ScriptedTransport(failures: [notSent])
        let client = Echo.Client(Retry(transport, policy: fastRetries))
        #expect(try await client.echo(message: "x") == "ok")
        #expect(transport.attemptCount == 2)
    }

    @Test func retriesAOnewayCallOnlyWhenItWasNotSent() async throws {
        let unsent = ScriptedTransport(failures: [notSent])
        try await Echo.Client(Retry(unsent, policy: fastRetries)).fire(id: 1)
        #expect(unsent.attemptCount == 2)
        let sent = ScriptedTransport(failures: [lost])
        await expectRPCError(.unavailable) { try await Echo.Client(Retry(sent, policy: fastRetries)).fire(id: 1) }
        #expect(sent.attemptCount == 1)
    }

    @Test func neverRetriesDeclaredExceptionsOrRequestErrors() async throws {
        let declared = ScriptedTransport(failures: [NotFound(key: "k")])
        await #expect(throws: NotFound.self) { try await Echo.Client(Retry(declared, policy: fastRetries)).echo(message: "x", options: idempotentCall) }
        #expect(declared.attemptCount == 1)
        let unknown = ScriptedTransport(failures: [RPCError(.unknownMethod, "no")])
        await expectRPCError(.unknownMethod) { try await Echo.Client(Retry(unknown, policy: fastRetries)).echo(message: "x", options: idempotentCall) }
        #expect(unknown.attemptCount == 1)
    }

    @Test func anEmptyBudgetStopsRetrying() async throws {
        let budget = RetryBudget(ratio: 0, maxTokens: 1, initialTokens: 1)
        let transport = ScriptedTransport(failures: Array(repeating: lost, count: 10))
        let client = Echo.Client(Retry(transport, policy: RetryPolicy(maxAttempts: 5, initialBackoff: .milliseconds(1)), budget: budget))
        await expectRPCError(.unavailable) { try await client.echo(message: "x", options: idempotentCall) }
        #expect(transport.attemptCount == 2) // the first attempt and the one retry the budget paid for
        #expect(budget.available < 1)
        await expectRPCError(.unavailable) { try await client.echo(message: "x", options: idempotentCall) }
        #expect(transport.attemptCount == 3) // no token left: no retry at all
    }

    @Test func backoffGrowsExponentiallyUpToTheCap() {
        let policy = RetryPolicy(maxAttempts: 10, initialBackoff: .milliseconds(10), maxBackoff: .milliseconds(50), multiplier: 2)
        for _ in 0..<50 {
            #expect(policy.backoff(beforeAttempt: 2) <= .milliseconds(10))
            #expect(policy.backoff(beforeAttempt: 3) <= .milliseconds(20))
            #expect(policy.backoff(beforeAttempt: 8) <= .milliseconds(50))
        }
    }
}

@Suite struct CircuitBreakerTests {
    @Test func opensAfterConsecutiveFailuresAndThenFailsFast() async throws {
        let transport = ScriptedTransport(failures: Array(repeating: lost, count: 3))
        let state = CircuitBreakerState(failureThreshold: 3, openDuration: .seconds(60))
        let client = Echo.Client(CircuitBreaker(transport, state: state))
        for _ in 0..<3 { await expectRPCError(.unavailable) { try await client.echo(message: "x") } }
        #expect(state.phase == .open)
        let error = await expectRPCError(.unavailable) { try await client.echo(message: "x") }
        #expect(error?.message.contains("circuit breaker open") == true)
        #expect(error?.requestWasNotSent == true)
        #expect(transport.attemptCount == 3)
    }

    @Test func halfOpensAfterTheOpenDurationAndClosesWhenTheProbeSucceeds() async throws {
        let transport = ScriptedTransport(failures: [lost, lost])
        let state = CircuitBreakerState(failureThreshold: 2, openDuration: .milliseconds(50))
        let client = Echo.Client(CircuitBreaker(transport, state: state))
        for _ in 0..<2 { await expectRPCError(.unavailable) { try await client.echo(message: "x") } }
        #expect(state.phase == .open)
        try await Task.sleep(for: .milliseconds(70))
        #expect(state.phase == .halfOpen)
        #expect(try await client.echo(message: "x") == "ok")
        #expect(state.phase == .closed)
    }

    @Test func aFailedProbeOpensItAgain() async throws {
        let transport = ScriptedTransport(failures: [lost, lost, lost])
        let state = CircuitBreakerState(failureThreshold: 2, openDuration: .milliseconds(30))
        let client = Echo.Client(CircuitBreaker(transport, state: state))
        for _ in 0..<2 { await expectRPCError(.unavailable) { try await client.echo(message: "x") } }
        try await Task.sleep(for: .milliseconds(40))
        await expectRPCError(.unavailable) { try await client.echo(message: "x") } // the probe, failing
        #expect(state.phase == .open)
        #expect(transport.attemptCount == 3)
    }

    @Test func declaredExceptionsAndRequestErrorsDoNotCount() async throws {
        let transport = ScriptedTransport(failures: [NotFound(key: "a"), RPCError(.unknownMethod, "x"), NotFound(key: "b")])
        let state = CircuitBreakerState(failureThreshold: 2, openDuration: .seconds(60))
        let client = Echo.Client(CircuitBreaker(transport, state: state))
        for _ in 0..<3 { _ = try? await client.echo(message: "x") }
        #expect(state.phase == .closed)
        #expect(try await client.echo(message: "x") == "ok")
    }

    @Test func aSuccessResetsTheFailureCount() async throws {
        let transport = ScriptedTransport(failures: [lost, nil, lost, nil, lost])
        let state = CircuitBreakerState(failureThreshold: 2, openDuration: .seconds(60))
        let client = Echo.Client(CircuitBreaker(transport, state: state))
        for _ in 0..<5 { _ = try? await client.echo(message: "x") }
        #expect(state.phase == .closed)
    }
}

@Suite struct ClientTimeoutTests {
    @Test func givesCallsADefaultTimeoutAndKeepsAnExplicitOne() async throws {
        let transport = ScriptedTransport(failures: [])
        let client = Echo.Client(ClientTimeout(transport, timeout: .seconds(2)))
        _ = try await client.echo(message: "x")
        #expect(transport.lastTimeout.withLock { $0 } == .seconds(2))
        _ = try await client.echo(message: "x", options: CallOptions(timeout: .milliseconds(5)))
        #expect(transport.lastTimeout.withLock { $0 } == .milliseconds(5))
    }
}
