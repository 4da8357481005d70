/// A string or binary value as it sits in the input: a borrowed view, not a
/// copy. It is valid only while the bytes it was read from are (for a
/// reader created inside `withUnsafeBytes`, inside that closure; for a
/// packet, until the frame is released). Call `string` or `bytes` to keep it.
public struct BytesView: @unchecked Sendable, Hashable, CustomStringConvertible {
    public let buffer: UnsafeRawBufferPointer

    @inlinable
    public init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    /// No bytes: the default of a string field not (yet) read.
    @inlinable public static var empty: BytesView { BytesView(UnsafeRawBufferPointer(start: nil, count: 0)) }

    @inlinable public var count: Int { buffer.count }
    @inlinable public var isEmpty: Bool { buffer.isEmpty }

    /// The bytes decoded as UTF-8, repairing invalid sequences (like Apache's readers do).
    @inlinable public var string: String { String(decoding: buffer, as: UTF8.self) }

    /// The bytes as UTF-8 text, or nil when they are not valid UTF-8.
    @inlinable public var validatedString: String? { String(validating: buffer, as: UTF8.self) }

    /// A copy of the bytes.
    @inlinable public var bytes: [UInt8] { Array(buffer) }

    @inlinable
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(buffer)
    }

    @inlinable
    public static func == (lhs: BytesView, rhs: BytesView) -> Bool {
        lhs.buffer.count == rhs.buffer.count && lhs.buffer.elementsEqual(rhs.buffer)
    }

    /// Compares with text without materializing a String.
    @inlinable
    public static func == (lhs: BytesView, rhs: String) -> Bool {
        lhs.buffer.elementsEqual(rhs.utf8)
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(bytes: buffer) }

    public var description: String { string }
}
