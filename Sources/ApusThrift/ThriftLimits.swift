/// Bounds applied while reading untrusted input. The defaults are Apache
/// Thrift's `TConfiguration` defaults, so Apus accepts exactly what other
/// Thrift peers accept out of the box.
public struct ThriftLimits: Sendable, Hashable {
    /// Largest frame payload a framed transport accepts (TConfiguration.DEFAULT_MAX_FRAME_SIZE).
    public var maxFrameSize: Int
    /// Largest message, framed or not (TConfiguration.DEFAULT_MAX_MESSAGE_SIZE).
    public var maxMessageSize: Int
    /// Deepest nesting of structs and containers together (DEFAULT_RECURSION_DEPTH).
    public var maxDepth: Int
    /// Largest string or binary value, in bytes.
    public var maxStringSize: Int
    /// Most elements in one list, set or map.
    public var maxContainerSize: Int

    @inlinable
    public init(
        maxFrameSize: Int = 16_384_000,
        maxMessageSize: Int = 104_857_600,
        maxDepth: Int = 64,
        maxStringSize: Int = 104_857_600,
        maxContainerSize: Int = 104_857_600
    ) {
        self.maxFrameSize = maxFrameSize
        self.maxMessageSize = maxMessageSize
        self.maxDepth = maxDepth
        self.maxStringSize = maxStringSize
        self.maxContainerSize = maxContainerSize
    }

    @inlinable public static var `default`: ThriftLimits { ThriftLimits() }
}
