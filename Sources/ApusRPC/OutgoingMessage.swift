import ApusThrift

/// A message to send: header plus a body of any generated type. Transports
/// size it, reserve exactly that much (a NIO buffer, a TX frame), and write
/// it in one pass.
public struct OutgoingMessage: Sendable {
    public var name: String
    public var type: MessageType
    public var sequenceID: Int32
    public var body: any ThriftMessageBody
    /// The THeader to send it in (a reply to a call that came in THeader); nil: the
    /// connection's plain framing.
    public var header: THeader?

    @inlinable
    public init(name: String, type: MessageType, sequenceID: Int32, body: any ThriftMessageBody, header: THeader? = nil) {
        self.name = name
        self.type = type
        self.sequenceID = sequenceID
        self.body = body
        self.header = header
    }

    /// An EXCEPTION message carrying `error` as a TApplicationException.
    public static func exception(_ error: RPCError, name: String, sequenceID: Int32) -> OutgoingMessage {
        OutgoingMessage(name: name, type: .exception, sequenceID: sequenceID, body: error.applicationException)
    }

    /// Header and body in `protocolID`, in bytes.
    @inlinable
    public func encodedSize(protocol protocolID: ThriftProtocolID) throws(ThriftError) -> Int {
        let headerSize: Int
        switch protocolID {
        case .binary:
            var sizer = BinarySizer()
            try sizer.writeMessageBegin(name: name, type: type, sequenceID: sequenceID)
            headerSize = sizer.count
        case .compact:
            var sizer = CompactSizer()
            try sizer.writeMessageBegin(name: name, type: type, sequenceID: sequenceID)
            headerSize = sizer.count
        }
        return try headerSize + body.encodedSize(protocol: protocolID)
    }

    /// Writes header and body into `buffer`; returns the bytes written.
    @inlinable
    public func encode(protocol protocolID: ThriftProtocolID, into buffer: UnsafeMutableRawBufferPointer) throws(ThriftError) -> Int {
        let headerSize: Int
        switch protocolID {
        case .binary:
            var writer = BinaryWriter(FixedOutput(buffer))
            try writer.writeMessageBegin(name: name, type: type, sequenceID: sequenceID)
            headerSize = writer.count
        case .compact:
            var writer = CompactWriter(FixedOutput(buffer))
            try writer.writeMessageBegin(name: name, type: type, sequenceID: sequenceID)
            headerSize = writer.count
        }
        // A struct starts fresh compact field-id state, so the body can be written on its own.
        return try headerSize + body.encode(protocol: protocolID, into: UnsafeMutableRawBufferPointer(rebasing: buffer[headerSize...]))
    }

    /// The whole message as a new array (tests, tools; transports write in place).
    public func encoded(protocol protocolID: ThriftProtocolID) throws(ThriftError) -> [UInt8] {
        let size = try encodedSize(protocol: protocolID)
        var failure: ThriftError?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            do throws(ThriftError) {
                initialized = try encode(protocol: protocolID, into: UnsafeMutableRawBufferPointer(buffer))
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return bytes
    }
}
