/// A value that writes itself as a Thrift struct. Generated code conforms;
/// `encode` is generic so it specializes for each protocol and output.
public protocol ThriftEncodable {
    func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError)
}

/// A value that reads itself from a Thrift struct. A type holding
/// `BytesView`s decodes without allocating but lives only as long as the input.
public protocol ThriftDecodable {
    init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError)

    /// Reads a value into this one: a reusable decode target. Generated structs keep the storage
    /// of their lists, sets and maps (and their nested structs' ones) for the new contents, so
    /// decoding message after message into one value allocates only for what outgrows it, and
    /// for strings (a `String` cannot be refilled in place). Fields the input lacks get their
    /// defaults, as with `init(from:)`. After an error the value is valid but unspecified. The
    /// default reads a new value.
    mutating func decode<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError)
}

extension ThriftDecodable {
    @inlinable
    public mutating func decode<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
        self = try Self(from: &reader)
    }
}

public typealias ThriftCodable = ThriftEncodable & ThriftDecodable

/// One-call encoding and decoding of whole structs and messages.
public enum Thrift {
    /// The exact number of bytes `value` takes in `protocolID` (the size pass).
    @inlinable
    public static func size(of value: some ThriftEncodable, protocol protocolID: ThriftProtocolID) throws(ThriftError) -> Int {
        switch protocolID {
        case .binary:
            var sizer = BinarySizer()
            try value.encode(to: &sizer)
            return sizer.count
        case .compact:
            var sizer = CompactSizer()
            try value.encode(to: &sizer)
            return sizer.count
        }
    }

    /// Encodes `value` into a new array: one size pass, one allocation, one write pass.
    @inlinable
    public static func encode(_ value: some ThriftEncodable, protocol protocolID: ThriftProtocolID) throws(ThriftError) -> [UInt8] {
        let size = try Self.size(of: value, protocol: protocolID)
        var failure: ThriftError?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            do throws(ThriftError) {
                initialized = try encode(value, protocol: protocolID, into: UnsafeMutableRawBufferPointer(buffer))
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Encodes `value` into caller-owned memory (a TX frame); returns the bytes written.
    @inlinable
    public static func encode(
        _ value: some ThriftEncodable, protocol protocolID: ThriftProtocolID, into buffer: UnsafeMutableRawBufferPointer
    ) throws(ThriftError) -> Int {
        switch protocolID {
        case .binary:
            var writer = BinaryWriter(FixedOutput(buffer))
            try value.encode(to: &writer)
            return writer.count
        case .compact:
            var writer = CompactWriter(FixedOutput(buffer))
            try value.encode(to: &writer)
            return writer.count
        }
    }

    /// Decodes an owned value (one without views) from `bytes`.
    @inlinable
    public static func decode<T: ThriftDecodable>(
        _ type: T.Type, from bytes: UnsafeRawBufferPointer, protocol protocolID: ThriftProtocolID,
        limits: ThriftLimits = .default
    ) throws(ThriftError) -> T {
        switch protocolID {
        case .binary:
            var reader = BinaryReader(bytes, limits: limits)
            return try T(from: &reader)
        case .compact:
            var reader = CompactReader(bytes, limits: limits)
            return try T(from: &reader)
        }
    }

    /// Decodes `bytes` into `value`, keeping its containers' storage (`ThriftDecodable.decode(from:)`).
    @inlinable
    public static func decode<T: ThriftDecodable>(
        into value: inout T, from bytes: UnsafeRawBufferPointer, protocol protocolID: ThriftProtocolID,
        limits: ThriftLimits = .default
    ) throws(ThriftError) {
        switch protocolID {
        case .binary:
            var reader = BinaryReader(bytes, limits: limits)
            try value.decode(from: &reader)
        case .compact:
            var reader = CompactReader(bytes, limits: limits)
            try value.decode(from: &reader)
        }
    }

    @inlinable
    public static func decode<T: ThriftDecodable>(
        _ type: T.Type, from bytes: [UInt8], protocol protocolID: ThriftProtocolID, limits: ThriftLimits = .default
    ) throws(ThriftError) -> T {
        var result: Result<T, ThriftError>!
        bytes.withUnsafeBytes { buffer in
            do throws(ThriftError) {
                result = .success(try decode(T.self, from: buffer, protocol: protocolID, limits: limits))
            } catch { result = .failure(error) }
        }
        return try result.get()
    }
}
