import ApusExamples
import ApusRPC
import ApusThrift
import Logging
import Metrics
import MetricsTestKit
import InMemoryTracing
import Synchronization
import Testing
import Tracing

/// Server middleware, each through the real dispatcher (bytes in, reply bytes out).
@Suite struct MiddlewareTests {
    func dispatcher<H: RPCHandler>(_ echo: ScriptedEcho = ScriptedEcho(), _ chain: (Router) -> H) -> ServerDispatcher {
        let router = exampleRouter(echo: echo)
        return ServerDispatcher(router: router, handler: chain(router), logger: ServerContext.silentLogger)
    }

    func echo(_ dispatcher: ServerDispatcher, _ message: String, sink: CollectingSink, sequenceID: Int32 = 1) {
        dispatch(dispatcher, callBytes("echo", Echo.EchoArgs(message: message), sequenceID: sequenceID), sink: sink)
    }

    @Test func timeoutAnswersDeadlineExceededAndCancelsTheHandler() async throws {
        let handler = ScriptedEcho()
        let dispatcher = dispatcher(handler) { $0.layer(TimeoutMiddleware(.milliseconds(50))) }
        let sink = CollectingSink()
        echo(dispatcher, "slow:60000", sink: sink)
        // The reply can only be the timeout's: the handler would sleep for a minute.
        let reply = try parseReply(try #require(await sink.waitFor(1, timeout: .seconds(30)).first))
        #expect(RPCError(try #require(reply.exception)).code == .deadlineExceeded)
        #expect(await dispatcher.waitForInFlightCalls(gracePeriod: .seconds(30)))
        #expect(handler.cancelled.load(ordering: .relaxed) == 1)
    }

    @Test func timeoutLetsFastCallsThroughAndSetsTheDeadline() async throws {
        final class Seen: Sendable { let deadline = Mutex<ContinuousClock.Instant?>(nil) }
        let seen = Seen()
        struct Probe: RPCMiddleware {
            let seen: Seen
            func intercept<Next: RPCHandler>(_ request: ServerRequest, context: ServerContext, next: Next) async throws -> ServerResponse {
                seen.deadline.withLock { $0 = context.deadline }
                return try await next.handle(request, context: context)
            }
        }
        let before = ContinuousClock.now
        let dispatcher = ServerDispatcher(router: exampleRouter(), handler: exampleRouter().layer(Probe(seen: seen)).layer(TimeoutMiddleware(.seconds(3))),
                                          logger: ServerContext.silentLogger)
        let sink = CollectingSink()
        echo(dispatcher, "quick", sink: sink)
        let reply = try parseReply(try #require(await sink.waitFor(1).first))
        #expect(reply.type == .reply)
        let deadline = try #require(seen.deadline.withLock { $0 })
        #expect(deadline > before + .seconds(2) && deadline <= ContinuousClock.now + .seconds(3))
    }

    @Test func concurrencyLimitRejectsCallsBeyondTheLimitAndAdmitsAgainLater() async throws {
        let limit = ConcurrencyLimitMiddleware(maxConcurrentCalls: 2)
        let dispatcher = dispatcher { $0.layer(limit) }
        let sink = CollectingSink()
        echo(dispatcher, "slow:300", sink: sink, sequenceID: 1)
        echo(dispatcher, "slow:300", sink: sink, sequenceID: 2)
        echo(dispatcher, "third", sink: sink, sequenceID: 3)
        let first = try parseReply(try #require(await sink.waitFor(1).first))
        #expect(first.sequenceID == 3)
        #expect(RPCError(try #require(first.exception)).code == .resourceExhausted)
        #expect(first.exception?.message.contains("concurrency limit reached (2 calls at once)") == true)
        let all = await sink.waitFor(3)
        #expect(try all.dropFirst().map { try parseReply($0).type } == [.reply, .reply])
        #expect(limit.runningCalls == 0)
        echo(dispatcher, "again", sink: sink, sequenceID: 4)
        #expect(try parseReply(try #require(await sink.waitFor(4).last)).type == .reply)
    }

    @Test func rateLimitAllowsTheBurstThenRejects() async throws {
        let dispatcher = dispatcher { $0.layer(RateLimitMiddleware(ratePerSecond: 0.001, burst: 3)) }
        let sink = CollectingSink()
        for seq in 1...5 { echo(dispatcher, "x", sink: sink, sequenceID: Int32(seq)) }
        let replies = try await sink.waitFor(5).map { try parseReply($0) }.sorted { $0.sequenceID < $1.sequenceID }
        #expect(replies.map(\.type) == [.reply, .reply, .reply, .exception, .exception])
        #expect(replies[3].exception?.message.contains("rate limit") == true)
    }

    @Test func rateLimitRefillsOverTime() async throws {
        let limiter = RateLimitMiddleware(ratePerSecond: 50, burst: 1)
        let dispatcher = dispatcher { $0.layer(limiter) }
        let sink = CollectingSink()
        echo(dispatcher, "a", sink: sink, sequenceID: 1)
        echo(dispatcher, "b", sink: sink, sequenceID: 2)
        try await Task.sleep(for: .milliseconds(60))
        echo(dispatcher, "c", sink: sink, sequenceID: 3)
        let types = try await sink.waitFor(3).map { try parseReply($0) }.sorted { $0.sequenceID < $1.sequenceID }.map(\.type)
        #expect(types == [.reply, .exception, .reply])
    }

    @Test func loggingRecordsMethodOutcomeAndPeer() async throws {
        let records = LogRecords()
        let logger = Logger(label: "test") { _ in RecordingLogHandler(records: records) }
        let dispatcher = dispatcher { $0.layer(LoggingMiddleware(logger: logger, level: .info)) }
        let sink = CollectingSink()
        echo(dispatcher, "hi", sink: sink, sequenceID: 1)
        echo(dispatcher, "rpc-error", sink: sink, sequenceID: 2)
        _ = await sink.waitFor(2)
        let lines = records.all
        #expect(lines.count == 2)
        #expect(lines.contains { $0.level == .info && $0.metadata["method"] == "Echo.echo" && $0.metadata["outcome"] == "ok" && $0.metadata["peer"] == "test:1" })
        #expect(lines.contains { $0.level == .warning && ($0.metadata["outcome"] ?? "").hasPrefix("resource exhausted") })
    }

    @Test func metricsCountRequestsErrorsByCodeAndLatency() async throws {
        let metrics = TestMetrics()
        let dispatcher = dispatcher { $0.layer(MetricsMiddleware(factory: metrics)) }
        let sink = CollectingSink()
        echo(dispatcher, "a", sink: sink, sequenceID: 1)
        echo(dispatcher, "b", sink: sink, sequenceID: 2)
        echo(dispatcher, "rpc-error", sink: sink, sequenceID: 3)
        echo(dispatcher, "fail", sink: sink, sequenceID: 4)
        _ = await sink.waitFor(4)
        let dimensions = [("service", "Echo"), ("method", "echo")]
        let requests = try metrics.expectCounter("apus_rpc_calls_total", dimensions)
        #expect(requests.totalValue == 4)
        #expect(try metrics.expectCounter("apus_rpc_errors_total", dimensions + [("code", "resource exhausted")]).totalValue == 1)
        #expect(try metrics.expectCounter("apus_rpc_errors_total", dimensions + [("code", "exception")]).totalValue == 1)
        #expect(try metrics.expectTimer("apus_rpc_duration_seconds", dimensions).values.count == 4)
        #expect(try metrics.expectMeter("apus_rpc_in_flight", dimensions).lastValue == 0)
    }

    /// The handles are made once per method (and error code), not per call: a backend sees one
    /// registration for each, however many calls.
    @Test func metricsMakeEachHandleOnce() async throws {
        final class CountingFactory: MetricsFactory, Sendable {
            let base = TestMetrics()
            let made = Mutex<[String: Int]>([:])
            func note(_ label: String) { made.withLock { $0[label, default: 0] += 1 } }
            func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
                note(label); return base.makeCounter(label: label, dimensions: dimensions)
            }
            func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
                note(label); return base.makeFloatingPointCounter(label: label, dimensions: dimensions)
            }
            func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
                note(label); return base.makeMeter(label: label, dimensions: dimensions)
            }
            func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
                note(label); return base.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
            }
            func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
                note(label); return base.makeTimer(label: label, dimensions: dimensions)
            }
            func destroyCounter(_ handler: any CounterHandler) {}
            func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
            func destroyMeter(_ handler: any MeterHandler) {}
            func destroyRecorder(_ handler: any RecorderHandler) {}
            func destroyTimer(_ handler: any TimerHandler) {}
        }
        let factory = CountingFactory()
        let dispatcher = dispatcher { $0.layer(MetricsMiddleware(factory: factory)) }
        let sink = CollectingSink()
        for sequenceID in 1...50 { echo(dispatcher, sequenceID % 10 == 0 ? "rpc-error" : "x", sink: sink, sequenceID: Int32(sequenceID)) }
        _ = await sink.waitFor(50)
        #expect(factory.made.withLock { $0 } == ["apus_rpc_calls_total": 1, "apus_rpc_in_flight": 1, "apus_rpc_duration_seconds": 1,
                                                 "apus_rpc_errors_total": 1])
        let dimensions = [("service", "Echo"), ("method", "echo")]
        #expect(try factory.base.expectCounter("apus_rpc_calls_total", dimensions).totalValue == 50)
        #expect(try factory.base.expectCounter("apus_rpc_errors_total", dimensions + [("code", "resource exhausted")]).totalValue == 5)
        #expect(try factory.base.expectTimer("apus_rpc_duration_seconds", dimensions).values.count == 50)
    }

    @Test func tracingOpensAServerSpanPerCallAndRecordsErrors() async throws {
        let tracer = InMemoryTracer()
        let dispatcher = dispatcher { $0.layer(TracingMiddleware(tracer: tracer)) }
        let sink = CollectingSink()
        echo(dispatcher, "ok", sink: sink, sequenceID: 21)
        echo(dispatcher, "fail", sink: sink, sequenceID: 22)
        _ = await sink.waitFor(2)
        let spans = tracer.finishedSpans
        #expect(spans.count == 2)
        #expect(spans.allSatisfy { $0.operationName == "Echo/echo" && $0.kind == .server })
        #expect(spans.contains { $0.attributes["rpc.thrift.seqid"]?.toSpanAttribute() == .int64(21) && $0.status == nil })
        #expect(spans.contains { $0.attributes["rpc.thrift.seqid"]?.toSpanAttribute() == .int64(22) && $0.status?.code == .error && $0.errors.count == 1 })
    }
}

struct LogRecord: Sendable {
    var level: Logger.Level
    var message: String
    var metadata: [String: String]
}

final class LogRecords: Sendable {
    private let storage = Mutex<[LogRecord]>([])
    func append(_ record: LogRecord) { storage.withLock { $0.append(record) } }
    var all: [LogRecord] { storage.withLock { $0 } }
}

struct RecordingLogHandler: LogHandler {
    let records: LogRecords
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        for (key, value) in event.metadata ?? [:] { all[key] = value }
        records.append(LogRecord(level: event.level, message: "\(event.message)", metadata: all.mapValues { "\($0)" }))
    }
}
