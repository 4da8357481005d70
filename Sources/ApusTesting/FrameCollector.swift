import ApusNet

/// A `FrameTransmitter` that keeps each frame as a byte array: for tests and
/// for feeding an `ImpairedChannel`. `capacity` simulates a TX ring with that
/// many free frames (nil: unlimited); `transmit` returns false once it is used up.
public struct FrameCollector: FrameTransmitter {
    public var frames: [[UInt8]] = []
    public var capacity: Int?

    public init(capacity: Int? = nil) {
        self.capacity = capacity
    }

    public mutating func transmit(maximumLength: Int, _ write: (UnsafeMutableRawBufferPointer) -> Int) -> Bool {
        if let capacity {
            guard capacity > 0 else { return false }
            self.capacity = capacity - 1
        }
        var frame = [UInt8](repeating: 0, count: maximumLength)
        let length = frame.withUnsafeMutableBytes { write($0) }
        guard length > 0 else { return true }
        frame.removeLast(frame.count - length)
        frames.append(frame)
        return true
    }

    /// Returns the collected frames and forgets them.
    public mutating func take() -> [[UInt8]] {
        defer { frames.removeAll(keepingCapacity: true) }
        return frames
    }
}
