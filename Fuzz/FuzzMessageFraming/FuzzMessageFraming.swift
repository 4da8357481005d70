import ApusRPC
import ApusThrift

/// Finding message boundaries in a byte stream. The first input byte picks the
/// configuration, the second seeds the chunk splits, the rest is the stream.
///
/// - `UnframedMessageScanner` fed growing prefixes gives, call by call, exactly what
///   `MessageBoundary.message` says about the same prefix (its documented contract), and
///   stays within its linear-work bound.
/// - `MessageReader` (`MessageFramer` underneath) cuts the same messages, with the same
///   protocols and the same final error or leftover, whether the stream arrives in one read
///   or in many; each message it hands out is a whole message of its kind.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let config = data[0]
    var random = SplitRandom(seed: data[1])
    let stream = UnsafeRawBufferPointer(start: data + 2, count: size - 2)
    let limits = config & 0x80 != 0
        ? ThriftLimits(maxFrameSize: 64, maxMessageSize: 96, maxDepth: 3, maxStringSize: 16, maxContainerSize: 8)
        : ThriftLimits.default
    let splits = random.splits(of: stream.count)

    checkScanner(stream, protocol: config & 1 == 0 ? .binary : .compact, limits: limits, splits: splits)

    let framing: ThriftFraming? = [nil, .framed, .buffered][Int(config >> 1 & 3) % 3]
    let protocolID: ThriftProtocolID? = [nil, .binary, .compact][Int(config >> 3 & 3) % 3]
    let whole = read(stream, framing: framing, protocol: protocolID, limits: limits, splits: [stream.count])
    let pieces = read(stream, framing: framing, protocol: protocolID, limits: limits, splits: splits)
    precondition(whole.messages.count == pieces.messages.count,
                 "\(whole.messages.count) messages in one read, \(pieces.messages.count) in chunks \(splits)")
    for (a, b) in zip(whole.messages, pieces.messages) {
        precondition(a.bytes == b.bytes && a.protocolID == b.protocolID, "a message differs between one read and chunks \(splits)")
    }
    precondition(sameEnding(whole.error, pieces.error),
                 "one read ended with \(String(describing: whole.error)), chunks with \(String(describing: pieces.error))")
    precondition(whole.leftover == pieces.leftover, "\(whole.leftover) bytes left over in one read, \(pieces.leftover) in chunks")
    return 0
}

/// Both fail alike, except that a message still incomplete at the size limit fails as too
/// large in pieces, where one read may first find a malformed token past the limit.
func sameEnding(_ whole: ThriftError.Kind?, _ pieces: ThriftError.Kind?) -> Bool {
    guard let whole, let pieces else { return whole == nil && pieces == nil }
    return whole == pieces || whole == .sizeLimit || pieces == .sizeLimit
}

/// Deterministic split points from one seed byte, so a crash reproduces from its input.
struct SplitRandom {
    var state: UInt64
    init(seed: UInt8) { state = 0x9E37_79B9_7F4A_7C15 &* (UInt64(seed) &+ 1) }
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 33
    }
    /// Increasing chunk ends, the last one `count`: mostly small chunks, so that tokens and
    /// frame headers are cut in every place, with a few large ones.
    mutating func splits(of count: Int) -> [Int] {
        var ends: [Int] = []
        var at = 0
        while at < count, ends.count < 48 {
            let step = next() % 4 == 0 ? Int(next() % 64) + 1 : Int(next() % 5) + 1
            at = min(count, at + step)
            ends.append(at)
        }
        if ends.last != count { ends.append(count) }
        return ends
    }
}

enum Outcome: Equatable {
    case needMore
    case complete(Int)
    case failed(ThriftError.Kind)
}

func boundary(_ bytes: UnsafeRawBufferPointer, _ protocolID: ThriftProtocolID, _ limits: ThriftLimits) -> Outcome {
    do throws(ThriftError) {
        return try MessageBoundary.message(in: bytes, protocol: protocolID, limits: limits).map(Outcome.complete) ?? .needMore
    } catch { return .failed(error.kind) }
}

func checkScanner(_ stream: UnsafeRawBufferPointer, protocol protocolID: ThriftProtocolID, limits: ThriftLimits, splits: [Int]) {
    var scanner = UnframedMessageScanner(protocol: protocolID, limits: limits)
    var calls = 0
    for end in splits {
        let prefix = UnsafeRawBufferPointer(rebasing: stream[..<end])
        calls += 1
        let scanned: Outcome
        do throws(ThriftError) {
            scanned = try scanner.scan(prefix).map(Outcome.complete) ?? .needMore
        } catch { scanned = .failed(error.kind) }
        let expected = boundary(prefix, protocolID, limits)
        precondition(scanned == expected, "\(protocolID): scanner says \(scanned), MessageBoundary \(expected) at \(end) bytes (splits \(splits))")
        let bound = end + 9 * calls
        precondition(scanner.bytesExamined <= bound, "scanner examined \(scanner.bytesExamined) bytes, bound \(bound)")
        if case .needMore = scanned { continue }
        // Complete: asking again (more bytes after) gives the same length without rescanning.
        if case .complete(let length) = scanned {
            do throws(ThriftError) {
                let unchanged = try scanner.scan(stream) == length
                precondition(unchanged, "a complete scanner changed its answer")
            } catch { preconditionFailure("a complete scanner threw \(error)") }
        }
        return
    }
}

struct Read {
    var messages: [(bytes: [UInt8], protocolID: ThriftProtocolID)] = []
    var error: ThriftError.Kind?
    var leftover = 0
}

func read(_ stream: UnsafeRawBufferPointer, framing: ThriftFraming?, protocol protocolID: ThriftProtocolID?,
          limits: ThriftLimits, splits: [Int]) -> Read {
    var reader = MessageReader(framing: framing, protocol: protocolID, limits: limits)
    var result = Read()
    var start = 0
    for end in splits {
        var input = MessageReader.Input(UnsafeRawBufferPointer(rebasing: stream[start..<end]))
        start = end
        while true {
            let message: MessageReader.Message?
            do throws(ThriftError) {
                message = try reader.next(from: &input)
            } catch {
                result.error = error.kind
                return result
            }
            guard let message else { break }
            checkMessage(message, framing: reader.framing, limits: limits)
            result.messages.append((Array(message.bytes), message.protocolID))
        }
        precondition(input.isExhausted, "MessageReader returned nil with input left")
    }
    result.leftover = reader.bufferedBytes
    return result
}

/// What a framer hands out is a whole message: a non-empty frame payload within the
/// frame limit, or exactly one unframed message that walks to its last byte.
func checkMessage(_ message: MessageReader.Message, framing: ThriftFraming?, limits: ThriftLimits) {
    switch framing {
    case .framed:
        precondition(!message.bytes.isEmpty && message.bytes.count <= limits.maxFrameSize, "bad frame of \(message.bytes.count) bytes")
    case .buffered:
        let found = boundary(message.bytes, message.protocolID, limits)
        precondition(found == .complete(message.bytes.count), "an unframed message of \(message.bytes.count) bytes walks as \(found)")
    case nil:
        preconditionFailure("a message before the framing was known")
    }
}
