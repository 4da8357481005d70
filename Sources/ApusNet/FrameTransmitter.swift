/// Where the stack writes the frames it sends: caller-owned memory, such as
/// a UMEM chunk about to go on an AF_XDP TX ring.
///
/// The stack asks for one frame at a time and writes it in place, so a
/// segment's payload is copied once, from the send buffer into the frame.
public protocol FrameTransmitter {
    /// Lends a buffer of at least `maximumLength` bytes to `write`, which returns how many
    /// bytes of it form the frame (0 means "nothing after all"; the frame is not sent).
    /// Returns false, without calling `write`, when no TX frame is free now: the stack then
    /// keeps what it wanted to send and tries again on a later `poll`.
    mutating func transmit(maximumLength: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) -> Bool
}
