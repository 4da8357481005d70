/// Why a Thrift operation failed, and where: the protocol, the byte offset,
/// and when known the field id, wire type and the limit that was exceeded.
///
/// `kind` is a struct wrapping a private enum so new kinds can be added
/// without breaking callers that switch over the known ones.
public struct ThriftError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        @usableFromInline enum Base: Sendable, Hashable {
            case truncated, negativeSize, sizeLimit, depthLimit, invalidType
            case invalidMessageType, badVersion, varintTooLong, invalidValue
            case outputFull, missingRequiredField, invalidFrame
        }
        @usableFromInline let base: Base
        @usableFromInline init(_ base: Base) { self.base = base }

        /// The input ended before the value did. On a stream this means "need more bytes".
        public static let truncated = Kind(.truncated)
        /// A size (string length, element count, frame length) was negative.
        public static let negativeSize = Kind(.negativeSize)
        /// A size exceeded a configured limit (`ThriftLimits`).
        public static let sizeLimit = Kind(.sizeLimit)
        /// Structs and containers nest deeper than `ThriftLimits.maxDepth`.
        public static let depthLimit = Kind(.depthLimit)
        /// A type byte or nibble names no Thrift type.
        public static let invalidType = Kind(.invalidType)
        /// A message type other than CALL, REPLY, EXCEPTION, ONEWAY.
        public static let invalidMessageType = Kind(.invalidMessageType)
        /// The message header carries an unknown protocol id or version.
        public static let badVersion = Kind(.badVersion)
        /// A varint ran past its maximum length (5 bytes for 32 bits, 10 for 64).
        public static let varintTooLong = Kind(.varintTooLong)
        /// A value is outside what its type allows (e.g. a compact bool byte of 7).
        public static let invalidValue = Kind(.invalidValue)
        /// A fixed output buffer has no room for what is being written.
        public static let outputFull = Kind(.outputFull)
        /// A required field was absent when its struct ended.
        public static let missingRequiredField = Kind(.missingRequiredField)
        /// A frame or message boundary is malformed.
        public static let invalidFrame = Kind(.invalidFrame)

        public var description: String {
            switch base {
            case .truncated: "truncated"
            case .negativeSize: "negative size"
            case .sizeLimit: "size limit exceeded"
            case .depthLimit: "depth limit exceeded"
            case .invalidType: "invalid type"
            case .invalidMessageType: "invalid message type"
            case .badVersion: "bad protocol id or version"
            case .varintTooLong: "varint too long"
            case .invalidValue: "invalid value"
            case .outputFull: "output buffer full"
            case .missingRequiredField: "missing required field"
            case .invalidFrame: "invalid frame"
            }
        }
    }

    public var kind: Kind
    /// The protocol being read or written, when the error comes from one.
    public var protocolID: ThriftProtocolID?
    /// Byte offset into the input (or output) where the problem was found.
    public var offset: Int
    /// The field being read, when inside a struct.
    public var fieldID: Int16?
    /// The raw type byte involved, when relevant.
    public var typeByte: UInt8?
    /// The limit that was exceeded, for `.sizeLimit` and `.depthLimit`.
    public var limit: Int?
    /// A plain-words explanation: what was being read and what was found.
    public var detail: String

    public init(
        _ kind: Kind, protocolID: ThriftProtocolID? = nil, offset: Int = 0, fieldID: Int16? = nil,
        typeByte: UInt8? = nil, limit: Int? = nil, detail: String = ""
    ) {
        self.kind = kind
        self.protocolID = protocolID
        self.offset = offset
        self.fieldID = fieldID
        self.typeByte = typeByte
        self.limit = limit
        self.detail = detail
    }

    public var description: String {
        var text = ""
        if let protocolID { text += "\(protocolID): " }
        text += kind.description
        if !detail.isEmpty { text += ": \(detail)" }
        text += " at offset \(offset)"
        if let fieldID { text += ", field \(fieldID)" }
        if let typeByte { text += ", type byte \(typeByte)" }
        if let limit { text += ", limit \(limit)" }
        return text
    }
}

extension ThriftError {
    /// Builds an error out of line: hot inlinable readers and writers call
    /// this so the message formatting is not inlined into every caller.
    @usableFromInline @inline(never)
    static func cold(
        _ kind: Kind, protocolID: ThriftProtocolID? = nil, offset: Int, fieldID: Int16? = nil,
        typeByte: UInt8? = nil, limit: Int? = nil, detail: () -> String
    ) -> ThriftError {
        ThriftError(kind, protocolID: protocolID, offset: offset, fieldID: fieldID, typeByte: typeByte, limit: limit, detail: detail())
    }
}
