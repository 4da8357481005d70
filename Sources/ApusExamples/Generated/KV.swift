// Examples/echo.thrift: service KV. Written by hand in exactly the shape
// `apus gen` will emit; the generator must reproduce this file.
import ApusRPC
import ApusThrift

public enum KV {
    public static let serviceName = "KV"

    public enum Method {
        public static let put = MethodDescriptor(service: "KV", method: "put")
        public static let get = MethodDescriptor(service: "KV", method: "get")
        public static let remove = MethodDescriptor(service: "KV", method: "remove")
        public static let count = MethodDescriptor(service: "KV", method: "count")
        public static let all = [put, get, remove, count]
    }

    /// What a server implements.
    public protocol ServiceProtocol: Sendable {
        func put(key: String, value: [UInt8], context: ServerContext) async throws
        /// - Throws: `NotFound`
        func get(key: String, context: ServerContext) async throws -> [UInt8]
        func remove(key: String, context: ServerContext) async throws -> Bool
        func count(context: ServerContext) async throws -> Int64
    }

    /// `handler`'s methods, to register with a `Router`.
    public static func service(_ handler: some ServiceProtocol) -> ServiceDefinition {
        ServiceDefinition(name: serviceName, methods: [
            RPCMethod(Method.put) { (message: borrowing IncomingMessage) throws(RPCError) in
                let args = try message.decodeBody(PutArgs.self)
                return { context in
                    try await handler.put(key: args.key, value: args.value, context: context)
                    return ServerResponse(body: PutResult())
                }
            },
            RPCMethod(Method.get) { (message: borrowing IncomingMessage) throws(RPCError) in
                let args = try message.decodeBody(GetArgs.self)
                return { context in
                    do {
                        return ServerResponse(body: GetResult(success: try await handler.get(key: args.key, context: context)))
                    } catch let error as NotFound {
                        return ServerResponse(body: GetResult(notFound: error))
                    }
                }
            },
            RPCMethod(Method.remove) { (message: borrowing IncomingMessage) throws(RPCError) in
                let args = try message.decodeBody(RemoveArgs.self)
                return { context in
                    ServerResponse(body: RemoveResult(success: try await handler.remove(key: args.key, context: context)))
                }
            },
            RPCMethod(Method.count) { (message: borrowing IncomingMessage) throws(RPCError) in
                _ = try message.decodeBody(CountArgs.self)
                return { context in
                    ServerResponse(body: CountResult(success: try await handler.count(context: context)))
                }
            },
        ])
    }

    /// Calls a server through `transport` (a connection pool, or middleware around one).
    public struct Client<Transport: ClientTransport>: Sendable {
        public let transport: Transport

        public init(_ transport: Transport) { self.transport = transport }

        public func put(key: String, value: [UInt8], options: CallOptions = .defaults) async throws {
            _ = try await transport.call(PutArgs(key: key, value: value), method: Method.put, options: options, result: PutResult.self)
        }

        /// - Throws: `NotFound`
        public func get(key: String, options: CallOptions = .defaults) async throws -> [UInt8] {
            let result = try await transport.call(GetArgs(key: key), method: Method.get, options: options, result: GetResult.self)
            if let success = result.success { return success }
            if let notFound = result.notFound { throw notFound }
            throw RPCError(.missingResult, "KV.get returned no result")
        }

        public func remove(key: String, options: CallOptions = .defaults) async throws -> Bool {
            let result = try await transport.call(RemoveArgs(key: key), method: Method.remove, options: options, result: RemoveResult.self)
            if let success = result.success { return success }
            throw RPCError(.missingResult, "KV.remove returned no result")
        }

        public func count(options: CallOptions = .defaults) async throws -> Int64 {
            let result = try await transport.call(CountArgs(), method: Method.count, options: options, result: CountResult.self)
            if let success = result.success { return success }
            throw RPCError(.missingResult, "KV.count returned no result")
        }
    }

    public struct PutArgs: ThriftMessageBody, ThriftDecodable {
        public var key: String
        public var value: [UInt8]

        public init(key: String = "", value: [UInt8] = []) {
            self.key = key
            self.value = value
        }

        @inlinable
        public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
            let token = writer.writeStructBegin()
            try writer.writeFieldBegin(.string, id: 1)
            try writer.writeString(key)
            try writer.writeFieldBegin(.string, id: 2)
            try writer.writeBinary(value)
            try writer.writeFieldStop()
            writer.writeStructEnd(token)
        }

        @inlinable
        public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
            self.init()
            let token = try reader.readStructBegin()
            while true {
                let field = try reader.readFieldBegin()
                switch (field.id, field.type) {
                case (_, .stop):
                    reader.readStructEnd(token)
                    return
                case (1, .string): key = try reader.readString()
                case (2, .string): value = try reader.readBinary().bytes
                default: try reader.skip(field.type)
                }
            }
        }
    }

    public struct PutResult: ThriftMessageBody, ThriftDecodable {
        public init() {}

        @inlinable
        public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
            let token = writer.writeStructBegin()
            try writer.writeFieldStop()
            writer.writeStructEnd(token)
        }

        @inlinable
        public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
            self.init()
            let token = try reader.readStructBegin()
            while true {
                let field = try reader.readFieldBegin()
                switch (field.id, field.type) {
                case (_, .stop):
                    reader.readStructEnd(token)
                    return
                default: try reader.skip(field.type)
                }
            }
        }
    }

    public struct GetArgs: ThriftMessageBody, ThriftDecodable {
        public var key: String

        public init(key: String = "") { self.key = key }

        @inlinable
        public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
            let token = writer.writeStructBegin()
            try writer.writeFieldBegin(.string, id: 1)
            try writer.writeString(key)
            try writer.writeFieldStop()
            writer.writeStructEnd(token)
        }

        @inlinable
        public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
            self.init()
            let token = try reader.readStructBegin()
            while true {
                let field = try reader.readFieldBegin()
                switch (field.id, field.type) {
                case (_, .stop):
                    reader.readStructEnd(token)
                    return
                case (1, .string): key = try reader.readString()
                default: try reader.skip(field.type)
                }
            }
        }
    }

    public struct GetResult: ThriftMessageBody, ThriftDecodable {
        public var success: [UInt8]?
        public var notFound: NotFound?

        public init(success: [UInt8]? = nil, notFound: NotFound? = nil) {
            self.success = success
            self.notFound = notFound
        }

        @inlinable
        public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
            let token = writer.writeStructBegin()
            if let success {
                try writer.writeFieldBegin(.string, id: 0)
                try writer.writeBinary(success)
            }
            if let notFound {
                try writer.writeFieldBegin(.struct, id: 1)
                try notFound.encode(to: &writer)
            }
            try writer.writeFieldStop()
            writer.writeStructEnd(token)
        }

        @inlinable
        public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
            self.init()
            let token = try reader.readStructBegin()
            while true {
                let field = try reader.readFieldBegin()
                switch (field.id, field.type) {
                case (_, .stop):
                    reader.readStructEnd(token)
                    return
                case (0, .string): success = try reader.readBinary().bytes
                case (1, .struct): notFound = try NotFound(from: &reader)
                default: try reader.skip(field.type)
                }
            }
        }
    }

    public struct RemoveArgs: ThriftMessageBody, ThriftDecodable {
        public var key: String

        public init(key: String = "") { self.key = key }

        @inlinable
        public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
            let token = writer.writeStructBegin()
            try writer.writeFieldBegin(.string, id: 1)
            try writer.writeString(key)
            try writer.writeFieldStop()
            writer.writeStructEnd(token)
        }

        @inlinable
        public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
            self.init()
            let token = try reader.readStructBegin()
            while true {
                let field = try reader.readFieldBegin()
                switch (field.id, field.type) {
                case (_, .stop):
                    reader.readStructEnd(token)
                    return
                case (1, .string): key = try reader.readString()
                default: try reader.skip(field.type)
                }
            }
        }
    }

    public struct RemoveResult: ThriftMessageBody, ThriftDecodable {
        public var success: Bool?

        public init(success: Bool? = nil) { self.success = success }

        @inlinable
        public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
            let token = writer.writeStructBegin()
            if let success {
                try writer.writeFieldBegin(.bool, id: 0)
                try writer.writeBool(success)
            }
            try writer.writeFieldStop()
            writer.writeStructEnd(token)
        }

        @inlinable
        public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
            self.init()
            let token = try reader.readStructBegin()
            while true {
                let field = try reader.readFieldBegin()
                switch (field.id, field.type) {
                case (_, .stop):
                    reader.readStructEnd(token)
                    return
                case (0, .bool): success = try reader.readBool()
                default: try reader.skip(field.type)
                }
            }
        }
    }

    public struct CountArgs: ThriftMessageBody, ThriftDecodable {
        public init() {}

        @inlinable
        public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
            let token = writer.writeStructBegin()
            try writer.writeFieldStop()
            writer.writeStructEnd(token)
        }

        @inlinable
        public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
            self.init()
            let token = try reader.readStructBegin()
            while true {
                let field = try reader.readFieldBegin()
                switch (field.id, field.type) {
                case (_, .stop):
                    reader.readStructEnd(token)
                    return
                default: try reader.skip(field.type)
                }
            }
        }
    }

    public struct CountResult: ThriftMessageBody, ThriftDecodable {
        public var success: Int64?

        public init(success: Int64? = nil) { self.success = success }

        @inlinable
        public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
            let token = writer.writeStructBegin()
            if let success {
                try writer.writeFieldBegin(.i64, id: 0)
                try writer.writeI64(success)
            }
            try writer.writeFieldStop()
            writer.writeStructEnd(token)
        }

        @inlinable
        public init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {
            self.init()
            let token = try reader.readStructBegin()
            while true {
                let field = try reader.readFieldBegin()
                switch (field.id, field.type) {
                case (_, .stop):
                    reader.readStructEnd(token)
                    return
                case (0, .i64): success = try reader.readI64()
                default: try reader.skip(field.type)
                }
            }
        }
    }
}
