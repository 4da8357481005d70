import ApusThrift

/// A received Thrift message, borrowed from the transport's buffer (a NIO
/// buffer, a UMEM frame): valid only while the transport's callback runs.
/// Arguments and results are decoded from it before any handler suspends, so
/// the buffer never has to outlive the read that filled it.
public struct IncomingMessage {
    public let header: MessageHeader
    public let protocolID: ThriftProtocolID
    /// The message body: the arguments or result struct.
    public let body: UnsafeRawBufferPointer
    public let limits: ThriftLimits

    @inlinable
    public init(header: MessageHeader, protocolID: ThriftProtocolID, body: UnsafeRawBufferPointer, limits: ThriftLimits) {
        self.header = header
        self.protocolID = protocolID
        self.body = body
        self.limits = limits
    }

    /// Parses the header of the message occupying all of `bytes`, sniffing
    /// the protocol when `protocolID` is nil.
    @inlinable
    public init(parsing bytes: UnsafeRawBufferPointer, protocol protocolID: ThriftProtocolID?, limits: ThriftLimits) throws(ThriftError) {
        guard let first = bytes.first else {
            throw ThriftError(.truncated, offset: 0, detail: "empty message")
        }
        guard let resolved = protocolID ?? ThriftProtocolID(sniffing: first) else {
            throw ThriftError(.badVersion, offset: 0, detail: "first byte 0x\(String(first, radix: 16)) starts no Thrift message")
        }
        let header: MessageHeader
        let bodyStart: Int
        switch resolved {
        case .binary:
            var reader = BinaryReader(bytes, limits: limits)
            header = try reader.readMessageBegin()
            bodyStart = reader.offset
        case .compact:
            var reader = CompactReader(bytes, limits: limits)
            header = try reader.readMessageBegin()
            bodyStart = reader.offset
        }
        self.init(header: header, protocolID: resolved, body: UnsafeRawBufferPointer(rebasing: bytes[bodyStart...]), limits: limits)
    }

    /// Decodes the body as `T` (arguments on a server, a result on a client).
    @inlinable
    public func decodeBody<T: ThriftDecodable>(_: T.Type) throws(RPCError) -> T {
        do throws(ThriftError) {
            switch protocolID {
            case .binary:
                var reader = BinaryReader(body, limits: limits)
                return try T(from: &reader)
            case .compact:
                var reader = CompactReader(body, limits: limits)
                return try T(from: &reader)
            }
        } catch {
            throw .protocolError(error, while: "decoding \(T.self)")
        }
    }

    /// A client's view of a reply: the result struct, or the server's
    /// exception message as an `RPCError`.
    @inlinable
    public func decodeReply<T: ThriftDecodable>(_: T.Type) throws(RPCError) -> T {
        switch header.type {
        case .reply:
            return try decodeBody(T.self)
        case .exception:
            throw RPCError(try decodeBody(TApplicationException.self))
        default:
            throw RPCError(.invalidMessageType, "expected a reply, got message type \(header.type)")
        }
    }
}

/// A result or arguments struct the transports can size and write without
/// knowing its type. The default implementations specialize the generic
/// `encode(to:)` for the conforming type, so the transport's call through the
/// existential reaches fully specialized encoding code.
public protocol ThriftMessageBody: ThriftEncodable, Sendable {
    func encodedSize(protocol protocolID: ThriftProtocolID) throws(ThriftError) -> Int
    func encode(protocol protocolID: ThriftProtocolID, into buffer: UnsafeMutableRawBufferPointer) throws(ThriftError) -> Int
}

extension ThriftMessageBody {
    @inlinable
    public func encodedSize(protocol protocolID: ThriftProtocolID) throws(ThriftError) -> Int {
        try Thrift.size(of: self, protocol: protocolID)
    }

    @inlinable
    public func encode(protocol protocolID: ThriftProtocolID, into buffer: UnsafeMutableRawBufferPointer) throws(ThriftError) -> Int {
        try Thrift.encode(self, protocol: protocolID, into: buffer)
    }
}

extension TApplicationException: ThriftMessageBody {}

/// The struct of a call without arguments, or of a void reply: no fields.
public struct EmptyStruct: ThriftMessageBody, ThriftDecodable, Hashable {
    @inlinable public init() {}

    @inlinable
    public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
        let token = writer.writeStructBegin()
        try writer.writeFieldStop()
        writer.writeStructEnd(token)
    }

    @inlinable
    public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
        let token = try reader.readStructBegin()
        while true {
            let field = try reader.readFieldBegin()
            if field.type == .stop { break }
            try reader.skip(field.type)
        }
        reader.readStructEnd(token)
    }
}
