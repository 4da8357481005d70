import ApusCodegenFixtures
import ApusRPC
import ApusTesting
import ApusThrift
import Testing

/// The code generated from Tests/ApusCodegenTests/Fixtures (the snapshots, compiled as ApusCodegenFixtures) behaves.
@Suite struct GeneratedCodeTests {
    static func roundTrip<T: ThriftCodable>(_ value: T, _ protocolID: ThriftProtocolID) throws -> T {
        try Thrift.decode(T.self, from: Thrift.encode(value, protocol: protocolID), protocol: protocolID)
    }

    static let user = User(
        id: 7, name: "Ada", nickname: "a", color: .blue, secondColor: Color(rawValue: 99), tagGroups: [["x"], []],
        friends: [1, 2], logins: ["home": Stamp(millis: 5, zone: "CET")], avatars: [.red: [[1, 2], []]], photo: [0, 255],
        externalID: ThriftUUID(high: 1, low: 2), flags: -1, level: 300, score: 2.5, active: false, matrix: [[1], [2, 3]],
        nested: [["k"]: [4]], created: Stamp(millis: 9, zone: "UTC"), confidence: .high,
        choice: .awkward(Awkward(self_: "s", default: "d")),
        blobs: [["b": [9]]], raw: [1], palette: [.green], referrer: 3
    )

    @Test(arguments: ThriftProtocolID.allCases) func structsRoundTrip(_ protocolID: ThriftProtocolID) throws {
        #expect(try Self.roundTrip(Self.user, protocolID) == Self.user)
        #expect(
            try Self.roundTrip(Awkward(self_: "1", type: "2", token: "3", writer: "4", field: 5, list0: [["6"]]), protocolID).writer == "4")
        #expect(try Self.roundTrip(Tree.branches([.leaf(1), .branches([])]), protocolID) == .branches([.leaf(1), .branches([])]))
    }

    @Test func defaultsAndConstants() {
        let user = User()
        #expect(user.age == 18 && user.color == .green && user.active && user.raw == Array("raw".utf8))
        #expect(user.palette == [.red, .green] && user.confidence == .medium)
        #expect(EverythingConstants.limitCopy == 64 && EverythingConstants.epoch == Stamp(millis: 0, zone: "Z"))
        #expect(EverythingConstants.magic == Array("été".utf8))
        #expect(Color.allCases.count == 5 && Color(rawValue: 99).description == "Color(99)" && Color.infraRed.description == "INFRA_RED")
    }

    @Test func requiredFieldsAreChecked() throws {
        let bytes = try Thrift.encode(Empty(), protocol: .binary)
        #expect {
            _ = try Thrift.decode(User.self, from: bytes, protocol: .binary)
        } throws: { error in
            let error = error as? ThriftError
            return error?.kind == .missingRequiredField && error?.fieldID == 1 && error?.detail == "User.id is required"
        }
        #expect(throws: ThriftError.self) { _ = try Thrift.decode(Choice.self, from: bytes, protocol: .compact) }
    }

    @Test func unknownFieldsAreSkipped() throws {
        let bytes = try Thrift.encode(Self.user, protocol: .compact)
        #expect(try Thrift.decode(Empty.self, from: bytes, protocol: .compact) == Empty())
        // An optional field with an IDL default reads as the default when absent, as in Apache's libraries.
        #expect(
            try Thrift.decode(Stamp.self, from: Thrift.encode(Stamp(millis: 1, zone: nil), protocol: .binary), protocol: .binary).zone
                == "UTC")
    }

    /// `User`'s two required fields and nothing else, as a peer that knows only those sends it.
    struct RequiredOnly: ThriftEncodable {
        var id: Int64
        var name: String

        func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {
            let token = writer.writeStructBegin()
            try writer.writeFieldBegin(.i64, id: 1)
            try writer.writeI64(id)
            try writer.writeFieldBegin(.string, id: 2)
            try writer.writeString(name)
            try writer.writeFieldStop()
            writer.writeStructEnd(token)
        }
    }

    /// A reusable decode target ends equal to a new value decoded from the same bytes, whatever it
    /// held: containers refilled or emptied, optional fields and structs set or cleared, fields the
    /// input lacks back to their defaults.
    @Test(arguments: ThriftProtocolID.allCases) func decodingIntoAValueGivesWhatDecodingANewOneGives(_ protocolID: ThriftProtocolID) throws {
        var other = Self.user
        other.friends = Set(0..<40)
        other.logins = Dictionary(uniqueKeysWithValues: (0..<20).map { ("k\($0)", Stamp(millis: Int64($0), zone: nil)) })
        other.palette = [.red]
        other.created = nil
        other.avatars = nil
        other.choice = .text("p")
        let inputs: [[UInt8]] = [
            try Thrift.encode(Self.user, protocol: protocolID), try Thrift.encode(other, protocol: protocolID),
            try Thrift.encode(User(id: 1, name: "n"), protocol: protocolID),
            try Thrift.encode(RequiredOnly(id: 2, name: "only"), protocol: protocolID),
        ]
        for first in inputs {
            for second in inputs {
                var target = try Thrift.decode(User.self, from: first, protocol: protocolID)
                try second.withUnsafeBytes { try Thrift.decode(into: &target, from: $0, protocol: protocolID) }
                #expect(target == (try Thrift.decode(User.self, from: second, protocol: protocolID)))
            }
        }
        var awkward = Awkward(self_: "a", list0: [["b"]], seen: [1, 2])
        try Thrift.encode(Awkward(field: 3), protocol: protocolID).withUnsafeBytes {
            try Thrift.decode(into: &awkward, from: $0, protocol: protocolID)
        }
        #expect(awkward == Awkward(field: 3))
    }

    @Test func decodingIntoAValueKeepsItsContainersStorage() throws {
        var target = Self.user
        target.palette = Array(repeating: .red, count: 64)
        target.friends = Set(0..<64)
        target.logins = Dictionary(uniqueKeysWithValues: (0..<64).map { ("k\($0)", Stamp(millis: Int64($0), zone: nil)) })
        let palette = target.palette.withUnsafeBufferPointer { $0.baseAddress }
        let (friends, logins) = (target.friends.capacity, target.logins.capacity)
        let bytes = try Thrift.encode(Self.user, protocol: .compact)
        try bytes.withUnsafeBytes { try Thrift.decode(into: &target, from: $0, protocol: .compact) }
        #expect(target == Self.user)
        #expect(target.palette.withUnsafeBufferPointer { $0.baseAddress } == palette, "the list refilled in place")
        #expect(target.friends.capacity == friends && target.logins.capacity == logins, "the set and map kept their storage")
    }

    /// On damaged input (bytes changed, cut short) decoding into a used value fails exactly when
    /// decoding a new one does, with the same error, and otherwise gives the same value.
    @Test(arguments: ThriftProtocolID.allCases) func decodingIntoAValueAgreesOnDamagedInput(_ protocolID: ThriftProtocolID) throws {
        var random = SeededRandom(seed: 0xA905)
        var sparse = Self.user
        sparse.avatars = nil
        sparse.created = nil
        let seeds = [try Thrift.encode(Self.user, protocol: protocolID), try Thrift.encode(sparse, protocol: protocolID)]
        var failures = 0
        for round in 0..<3000 {
            var bytes = seeds[round % 2]
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            if round % 5 == 0 { bytes.removeLast(Int.random(in: 1..<bytes.count, using: &random)) }
            let fresh = Result { () throws(ThriftError) in try Thrift.decode(User.self, from: bytes, protocol: protocolID) }
            var target = round % 3 == 0 ? sparse : Self.user
            let reused: Result<User, ThriftError>
            do {
                try bytes.withUnsafeBytes { try Thrift.decode(into: &target, from: $0, protocol: protocolID) }
                reused = .success(target)
            } catch let error as ThriftError {
                reused = .failure(error)
            }
            switch (fresh, reused) {
            case (.success(let a), .success(let b)): #expect(a == b, "round \(round)")
            case (.failure(let a), .failure(let b)):
                #expect(a.kind == b.kind && a.offset == b.offset, "round \(round): \(a) against \(b)")
                failures += 1
            default: Issue.record("round \(round): a new value gave \(fresh), the used one \(reused)")
            }
        }
        #expect(failures > 300 && failures < 2900, "the damage must make some inputs fail and leave others decodable")
    }

    @Test func decodingIntoAValueChecksRequiredFields() throws {
        var target = Self.user
        let bytes = try Thrift.encode(Empty(), protocol: .binary)
        #expect {
            try bytes.withUnsafeBytes { try Thrift.decode(into: &target, from: $0, protocol: .binary) }
        } throws: { error in
            (error as? ThriftError)?.kind == .missingRequiredField && (error as? ThriftError)?.fieldID == 1
        }
    }

    struct Handler: Users.ServiceProtocol {
        func alive(context: ServerContext) async throws -> Bool { true }
        func version(context: ServerContext) async throws -> String { "1" }
        func get(id: UserID, context: ServerContext) async throws -> User {
            if id == 404 { throw NotFound(key: "\(id)") }
            if id == 503 { throw Overloaded(retryAfter: 2) }
            return User(id: id, name: "found")
        }
        func put(user: User, overwrite: Bool, context: ServerContext) async throws {}
        func touch(id: UserID, context: ServerContext) async throws {}
        func search(query: String, limit: Int32, colors: Set<Color>, context: ServerContext) async throws -> [User] { [] }
        func reset(context: ServerContext) async throws {}
        func histogram(context_: String, options_: String, result_: String, context: ServerContext) async throws -> [Color: Int32] {
            [.red: Int32(context_.count)]
        }
        func pick(choice: Choice?, context: ServerContext) async throws -> Choice { choice ?? .number(0) }
        func nothing(empty: Empty, context: ServerContext) async throws -> Empty { empty }
    }

    /// Runs calls straight through a service definition, encoding and decoding both ways.
    struct Loopback: ClientTransport {
        let service: ServiceDefinition

        func call<Reply: Sendable>(
            _ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions,
            decode: @escaping @Sendable (borrowing IncomingMessage) throws(RPCError) -> Reply
        ) async throws -> Reply {
            let response = try await serve(request, method: method)
            let bytes = try Thrift.encode(Box(body: response.body!), protocol: .binary)
            return try bytes.withUnsafeBytes { buffer throws(RPCError) in
                let header = MessageHeader(name: .empty, type: .reply, sequenceID: 1)
                return try decode(IncomingMessage(header: header, protocolID: .binary, body: buffer, limits: .default))
            }
        }

        func callOneway(_ request: some ThriftMessageBody, method: MethodDescriptor, options: CallOptions) async throws {
            #expect(try await serve(request, method: method).body == nil)
        }

        private func serve(_ request: some ThriftMessageBody, method: MethodDescriptor) async throws -> ServerResponse {
            let rpcMethod = try #require(service.methods.first { $0.descriptor == method })
            let bytes = try Thrift.encode(request, protocol: .binary)
            let invocation = try bytes.withUnsafeBytes { buffer throws(RPCError) in
                let header = MessageHeader(name: .empty, type: .call, sequenceID: 1)
                return try rpcMethod.prepare(IncomingMessage(header: header, protocolID: .binary, body: buffer, limits: .default))
            }
            return try await invocation(ServerContext(method: method, sequenceID: 1))
        }
    }

    struct Box: ThriftEncodable {
        let body: any ThriftMessageBody
        func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) { try body.encode(to: &writer) }
    }

    @Test func serviceAndClientRoundTrip() async throws {
        let client = Users.Client(Loopback(service: Users.service(Handler())))
        #expect(try await client.get(id: 1).name == "found")
        #expect(try await client.alive())
        #expect(try await client.histogram(context_: "abc", options_: "", result_: "") == [.red: 3])
        #expect(try await client.pick(choice: .text("t")) == .text("t"))
        try await client.touch(id: 1)
        try await client.reset()
        await #expect(throws: NotFound(key: "404")) { try await client.get(id: 404) }
        await #expect(throws: Overloaded(retryAfter: 2)) { try await client.get(id: 503) }
        #expect(Users.Method.all.count == 10 && Users.Method.search.isIdempotent && Users.Method.touch.kind == .oneway)
        #expect(Admin.Method.all.map(\.service).allSatisfy { $0 == "Admin" } && Admin.Method.all.count == 11)
    }
}
