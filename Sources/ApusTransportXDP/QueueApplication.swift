import ApusNet
import ApusRPC

/// What runs on a queue engine: a server's connections (`XDPServerConnections`)
/// or a client's pool (`XDPClientPool`). The engine owns the loop, the stack,
/// the device and time; the application turns TCP streams into Thrift calls
/// through the stream core. Every method runs on the queue's thread.
protocol QueueApplication: AnyObject {
    /// Before the first pass (a server listens here).
    func start(_ stack: inout NetStack)
    /// In-order payload straight from a frame, during `NetStack.receive`: the stack is busy, so
    /// this only reads and records; returns the bytes taken (the rest stays in the stack).
    func deliver(_ bytes: UnsafeRawBufferPointer, on handle: TCPHandle, at now: NetInstant) -> Int
    func handle(_ event: NetEvent, stack: inout NetStack, at now: NetInstant)
    /// Whether `flush` has anything to do.
    var hasOutput: Bool { get }
    /// Applies what was recorded (resets, closes) and writes queued messages into send buffers.
    func flush(_ stack: inout NetStack, at now: NetInstant)
    /// When `expire` must next run.
    var nextDeadline: NetInstant { get }
    /// Timers: stalled and idle connections, calls past their deadline.
    func expire(_ stack: inout NetStack, at now: NetInstant)
    func stopAccepting(_ stack: inout NetStack)
    /// Begins closing every connection gracefully (called once).
    func closeAll(_ stack: inout NetStack, at now: NetInstant)
    /// The connections still open (for the engine's wait at close).
    var openHandles: [TCPHandle] { get }
    /// Frames per pass unless the engine's options say otherwise (`QueueEngine.Options.receiveBatch`).
    var receiveBatch: Int { get }
}

/// What one connection could not hand to its TCP send buffer yet. While it holds
/// anything, the connection reads no more messages, so its receive window closes
/// instead: back pressure to the peer.
///
/// Waiting messages stay unencoded (a `WireMessage` holds references to its values),
/// and only the message at the head is encoded when it does not fit the free space. So a
/// peer that pipelines calls for a 4 MB value without reading costs the server its send
/// buffer plus one encoded reply, not 4 MB per call owed.
struct HeldOutput: ~Copyable {
    private var waiting: [WireMessage?] = []
    private var waitingStart = 0
    /// The encoded bytes of the message that was at the head and did not fit.
    private var unsent = ByteQueue()

    var isBlocked: Bool { !unsent.isEmpty || waitingStart < waiting.count }

    /// Bytes encoded and not yet taken by the send buffer (one message's at most).
    var encodedBytes: Int { unsent.count }

    enum Written { case sent, held, failed }

    /// Writes `message` straight into the send buffer when nothing waits ahead of it and it
    /// fits (the common case: encoded once, where ApusNet segments from); otherwise holds it.
    /// `.failed`: it could not be encoded (the caller resets).
    mutating func write(_ message: WireMessage, to handle: TCPHandle, stack: inout NetStack, at now: NetInstant) -> Written {
        if !isBlocked {
            switch Self.writeDirect(message, to: handle, stack: &stack, at: now) {
            case .sent: return .sent
            case .failed: return .failed
            case .noRoom: break
            }
        }
        waiting.append(message)
        return writeHeld(to: handle, stack: &stack, at: now) ? .held : .failed
    }

    /// Moves held messages into the send buffer as space frees, asking for `.writable` when it
    /// is full. False: a held message could not be encoded (the stream is broken; reset it).
    mutating func writeHeld(to handle: TCPHandle, stack: inout NetStack, at now: NetInstant) -> Bool {
        while true {
            if !unsent.isEmpty {
                guard let written = try? stack.write(unsent.readable, to: handle, at: now) else {
                    removeAll()
                    return true
                }
                if written == 0 {
                    stack.notifyWhenWritable(handle)
                    return true
                }
                unsent.removeFirst(written)
                continue
            }
            guard waitingStart < waiting.count, let message = waiting[waitingStart] else {
                waiting.removeAll(keepingCapacity: waiting.count <= 64)
                waitingStart = 0
                return true
            }
            waiting[waitingStart] = nil
            waitingStart += 1
            switch Self.writeDirect(message, to: handle, stack: &stack, at: now) {
            case .sent:
                continue
            case .failed:
                removeAll()
                return false
            case .noRoom:
                // Larger than the free space: encode this one message and stream it out.
                let size = message.size
                var encoded = false
                unsent.append(length: size) { space in
                    let written = message.write(into: space)
                    encoded = written == size
                    return written
                }
                guard encoded else {
                    removeAll()
                    return false
                }
            }
        }
    }

    mutating func removeAll() {
        unsent.removeAll()
        waiting.removeAll()
        waitingStart = 0
    }

    private enum Direct { case sent, failed, noRoom }

    private static func writeDirect(_ message: WireMessage, to handle: TCPHandle, stack: inout NetStack, at now: NetInstant) -> Direct {
        let size = message.size
        var result = Direct.noRoom
        _ = try? stack.write(to: handle, maximumLength: size, at: now) { space in
            guard space.count >= size else { return 0 }
            let written = message.write(into: space)
            result = written == size ? .sent : .failed
            return written == size ? written : 0
        }
        return result
    }
}
