/// Where the stack writes the frames it sends: caller-owned memory, such as
/// a UMEM chunk about to go on an AF_XDP TX ring.
///
/// The stack asks for one frame at a time and writes it in place, so a
/// segment's payload is copied once, from the send buffer into the frame.
public protocol FrameTransmitter: ~Copyable {
    /// Lends a buffer of at least `maximumLength` bytes to `write`, which returns how many
    /// bytes of it form the frame (0 means "nothing after all"; the frame is not sent).
    /// Returns false, without calling `write`, when no TX frame is free now: the stack then
    /// keeps what it wanted to send and tries again on a later `poll`.
    mutating func transmit(maximumLength: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) -> Bool
}

/// A link the stack runs on: frames in, frames out, and a way to wait.
/// An AF_XDP queue is one; so is an impairing wrapper around one.
///
/// One turn of a device loop: `receive` (each frame into `NetStack.receive`),
/// the application's work, `NetStack.poll` (frames out through `transmit`),
/// then `flush`; when nothing moved, `wait` until the earlier of the stack's
/// and the device's deadlines.
public protocol FrameDevice: FrameTransmitter, ~Copyable {
    /// Hands up to `maximum` received frames to `body`, one at a time; each view is
    /// valid only during its call. Returns how many frames were handed over.
    mutating func receive(at now: NetInstant, maximum: Int, _ body: (UnsafeRawBufferPointer) -> Void) -> Int
    /// Sends what `transmit` queued since the last flush.
    mutating func flush(at now: NetInstant)
    /// When the device itself next has work (a frame it held back), or `distantFuture`.
    var nextDeadline: NetInstant { get }
    /// Blocks until a frame may have arrived or `deadline` passes, whichever is first.
    mutating func wait(until deadline: NetInstant, now: NetInstant)
}
