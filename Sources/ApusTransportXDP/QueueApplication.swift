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
}

/// The bytes of one connection that its TCP send buffer could not take yet.
/// While it holds any, the connection reads no more messages, so its receive
/// window closes instead: back pressure to the peer.
struct HeldOutput: ~Copyable {
    private var unsent = ByteQueue()

    var isBlocked: Bool { !unsent.isEmpty }

    enum Written { case sent, held, failed }

    /// Writes `message` straight into the send buffer when nothing waits ahead of it and it
    /// fits (the common case: encoded once, where ApusNet segments from); otherwise holds it.
    /// `.failed`: it could not be encoded (the caller resets).
    mutating func write(_ message: WireMessage, to handle: TCPHandle, stack: inout NetStack, at now: NetInstant) -> Written {
        let size = message.size
        if unsent.isEmpty {
            var done = false
            _ = try? stack.write(to: handle, maximumLength: size, at: now) { space in
                guard space.count >= size else { return 0 }
                let written = message.write(into: space)
                done = written == size
                return written
            }
            if done { return .sent }
        }
        var encoded = false
        unsent.append(length: size) { space in
            let written = message.write(into: space)
            encoded = written == size
            return written
        }
        guard encoded else { return .failed }
        writeHeld(to: handle, stack: &stack, at: now)
        return .held
    }

    /// Moves held bytes into the send buffer as space frees; asks for `.writable` when it is full.
    mutating func writeHeld(to handle: TCPHandle, stack: inout NetStack, at now: NetInstant) {
        while !unsent.isEmpty {
            guard let written = try? stack.write(unsent.readable, to: handle, at: now) else {
                unsent.removeAll()
                return
            }
            if written == 0 {
                stack.notifyWhenWritable(handle)
                return
            }
            unsent.removeFirst(written)
        }
    }

    mutating func removeAll() { unsent.removeAll() }
}
