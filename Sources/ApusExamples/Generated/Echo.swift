// Examples/echo.thrift: service Echo. Written by hand in exactly the shape
// `apus gen` will emit; the generator must reproduce this file.
import ApusRPC
import ApusThrift

public enum Echo {
    public static let serviceName = "Echo"

    public enum Method {
        public static let echo = MethodDescriptor(service: "Echo", method: "echo")
        public static let echoBinary = MethodDescriptor(service: "Echo", method: "echoBinary")
        public static let echoItem = MethodDescriptor(service: "Echo", method: "echoItem")
        public static let ping = MethodDescriptor(service: "Echo", method: "ping")
        public static let fire = MethodDescriptor(service: "Echo", method: "fire", kind: .oneway)
        public static let firedCount = MethodDescriptor(service: "Echo", method: "firedCount")
        public static let all = [echo, echoBinary, echoItem, ping, fire, firedCount]
    }

    /// What a server implements.
    public protocol ServiceProtocol: Sendable {
        func echo(message: String, context: ServerContext) async throws -> String
        func echoBinary(payload: [UInt8], context: ServerContext) async throws -> [UInt8]
        func echoItem(item: Item, context: ServerContext) async throws -> Item
        func ping(context: ServerContext) async throws
        func fire(id: Int64, context: ServerContext) async throws
        func firedCount(context: ServerContext) async throws -> Int64
    }

    /// `handler`'s methods, to register with a `Router`.
    public static func service(_ handler: some ServiceProtocol) -> ServiceDefinition {
        ServiceDefinition(name: serviceName, methods: [
            RPCMethod(Method.echo) { (message: borrowing IncomingMessage) throws(RPCError) in
                let args = try message.decodeBody(EchoArgs.self)
                return { context in
                    ServerResponse(body: EchoResult(success: try await handler.echo(message: args.message, context: context)))
                }
            },
            RPCMethod(Method.echoBinary) { (message: borrowing IncomingMessage) throws(RPCError) in
                let args = try message.decodeBody(EchoBinaryArgs.self)
                return { context in
                    ServerResponse(body: EchoBinaryResult(success: try await handler.echoBinary(payload: args.payload, context: context)))
                }
            },
            RPCMethod(Method.echoItem) { (message: borrowing IncomingMessage) throws(RPCError) in
                let args = try message.decodeBody(EchoItemArgs.self)
                return { context in
                    ServerResponse(body: EchoItemResult(success: try await handler.echoItem(item: args.item, context: context)))
                }
            },
            RPCMethod(Method.ping) { (message: borrowing IncomingMessage) throws(RPCError) in
                _ = try message.decodeBody(PingArgs.self)
                return { context in
                    try await handler.ping(context: context)
                    return ServerResponse(body: PingResult())
                }
            },
            RPCMethod(Method.fire) { (message: borrowing IncomingMessage) throws(RPCError) in
                let args = try message.decodeBody(FireArgs.self)
                return { context in
                    try await handler.fire(id: args.id, context: context)
                    return .none
                }
            },
            RPCMethod(Method.firedCount) { (message: borrowing IncomingMessage) throws(RPCError) in
                _ = try message.decodeBody(FiredCountArgs.self)
                return { context in
                    ServerResponse(body: FiredCountResult(success: try await handler.firedCount(context: context)))
                }
            },
        ])
    }

    /// Calls a server through `transport` (a connection pool, or middleware around one).
    public struct Client<Transport: ClientTransport>: Sendable {
        public let transport: Transport

        public init(_ transport: Transport) { self.transport = transport }

        public func echo(message: String, options: CallOptions = .defaults) async throws -> String {
            let result = try await transport.call(EchoArgs(message: message), method: Method.echo, options: options, result: EchoResult.self)
            if let success = result.success { return success }
            throw RPCError(.missingResult, "Echo.echo returned no result")
        }

        public func echoBinary(payload: [UInt8], options: CallOptions = .defaults) async throws -> [UInt8] {
            let result = try await transport.call(EchoBinaryArgs(payload: payload), method: Method.echoBinary, options: options, result: EchoBinaryResult.self)
            if let success = result.success { return success }
            throw RPCError(.missingResult, "Echo.echoBinary returned no result")
        }

        public func echoItem(item: Item, options: CallOptions = .defaults) async throws -> Item {
            let result = try await transport.call(EchoItemArgs(item: item), method: Method.echoItem, options: options, result: EchoItemResult.self)
            if let success = result.success { return success }
            throw RPCError(.missingResult, "Echo.echoItem returned no result")
        }

        public func ping(options: CallOptions = .defaults) async throws {
            _ = try await transport.call(PingArgs(), method: Method.ping, options: options, result: PingResult.self)
        }

        public func fire(id: Int64, options: CallOptions = .defaults) async throws {
            try await transport.callOneway(FireArgs(id: id), method: Method.fire, options: options)
        }

        public func firedCount(options: CallOptions = .defaults) async throws -> Int64 {
            let result = try await transport.call(FiredCountArgs(), method: Method.firedCount, options: options, result: FiredCountResult.self)
            if let success = result.success { return success }
            throw RPCError(.missingResult, "Echo.firedCount returned no result")
        }
    }

    public struct EchoArgs: ThriftMessageBody, ThriftDecodable {
        public var message: String

        public init(message: String = "") { self.message = message }

        @inlinable
        public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
            let token = writer.writeStructBegin()
            try writer.writeFieldBegin(.string, id: 1)
            try writer.writeString(message)
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
                case (1, .string): message = try reader.readString()
                default: try reader.skip(field.type)
                }
            }
        }
    }

    public struct EchoResult: ThriftMessageBody, ThriftDecodable {
        public var success: String?

        public init(success: String? = nil) { self.success = success }

        @inlinable
        public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
            let token = writer.writeStructBegin()
            if let success {
                try writer.writeFieldBegin(.string, id: 0)
                try writer.writeString(success)
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
                case (0, .string): success = try reader.readString()
                default: try reader.skip(field.type)
                }
            }
        }
    }

    public struct EchoBinaryArgs: ThriftMessageBody, ThriftDecodable {
        public var payload: [UInt8]

        public init(payload: [UInt8] = []) { self.payload = payload }

        @inlinable
        public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
            let token = writer.writeStructBegin()
            try writer.writeFieldBegin(.string, id: 1)
            try writer.writeBinary(payload)
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
                case (1, .string): payload = try reader.readBinary().bytes
                default: try reader.skip(field.type)
                }
            }
        }
    }

    public struct EchoBinaryResult: ThriftMessageBody, ThriftDecodable {
        public var success: [UInt8]?

        public init(success: [UInt8]? = nil) { self.success = success }

        @inlinable
        public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
            let token = writer.writeStructBegin()
            if let success {
                try writer.writeFieldBegin(.string, id: 0)
                try writer.writeBinary(success)
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
                default: try reader.skip(field.type)
                }
            }
        }
    }

    public struct EchoItemArgs: ThriftMessageBody, ThriftDecodable {
        public var item: Item

        public init(item: Item = Item()) { self.item = item }

        @inlinable
        public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
            let token = writer.writeStructBegin()
            try writer.writeFieldBegin(.struct, id: 1)
            try item.encode(to: &writer)
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
                case (1, .struct): item = try Item(from: &reader)
                default: try reader.skip(field.type)
                }
            }
        }
    }

    public struct EchoItemResult: ThriftMessageBody, ThriftDecodable {
        public var success: Item?

        public init(success: Item? = nil) { self.success = success }

        @inlinable
        public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
            let token = writer.writeStructBegin()
            if let success {
                try writer.writeFieldBegin(.struct, id: 0)
                try success.encode(to: &writer)
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
                case (0, .struct): success = try Item(from: &reader)
                default: try reader.skip(field.type)
                }
            }
        }
    }

    public struct PingArgs: ThriftMessageBody, ThriftDecodable {
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

    public struct PingResult: ThriftMessageBody, ThriftDecodable {
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

    public struct FireArgs: ThriftMessageBody, ThriftDecodable {
        public var id: Int64

        public init(id: Int64 = 0) { self.id = id }

        @inlinable
        public func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
            let token = writer.writeStructBegin()
            try writer.writeFieldBegin(.i64, id: 1)
            try writer.writeI64(id)
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
                case (1, .i64): id = try reader.readI64()
                default: try reader.skip(field.type)
                }
            }
        }
    }

    public struct FiredCountArgs: ThriftMessageBody, ThriftDecodable {
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

    public struct FiredCountResult: ThriftMessageBody, ThriftDecodable {
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
