import ApusCodegenFixtures
import ApusThrift
import Testing

/// The view generated beside each struct (`UserView` beside `User`) reads, in
/// place, what the owned struct writes, and writes it back unchanged.
@Suite struct GeneratedViewTests {
    static let user = GeneratedCodeTests.user

    static func view<V: ThriftDecodable, R>(
        _: V.Type, of bytes: [UInt8], _ protocolID: ThriftProtocolID, _ body: (V) throws -> R
    ) throws -> R {
        try bytes.withUnsafeBytes { input in try body(Thrift.decode(V.self, from: input, protocol: protocolID)) }
    }

    @Test(arguments: ThriftProtocolID.allCases) func viewsReadEveryField(_ protocolID: ThriftProtocolID) throws {
        let user = Self.user
        try Self.view(UserView.self, of: Thrift.encode(user, protocol: protocolID), protocolID) { view in
            #expect(view.id == user.id && view.name == "Ada" && view.nickname.map { $0 == "a" } == true)
            #expect(view.age == 18 && view.color == .blue && view.secondColor == Color(rawValue: 99))
            #expect(view.tagGroups == user.tagGroups)  // a list of lists has no view form: owned
            #expect(Set(view.friends) == user.friends && view.friends.count == 2)
            var logins: [String: Stamp] = [:]
            for (key, stamp) in view.logins { logins[key.string] = Stamp(millis: stamp.millis, zone: stamp.zone?.string) }
            #expect(logins == user.logins)
            #expect(view.avatars == user.avatars && view.photo.bytes == [0, 255] && view.externalID == user.externalID)
            #expect(view.flags == -1 && view.level == 300 && view.score == 2.5 && !view.active)
            #expect(view.created?.millis == 9 && view.created?.zone.map { $0 == "UTC" } == true)
            #expect(view.confidence == .high && view.choice == user.choice && view.referrer == 3)
            // Defaults that are not numbers: nil when absent; here the owned struct wrote them.
            #expect(view.raw?.bytes == [1] && view.palette.map(Array.init) == [.green])
        }
    }

    @Test(arguments: ThriftProtocolID.allCases) func aViewWritesTheBytesItRead(_ protocolID: ThriftProtocolID) throws {
        let bytes = try Thrift.encode(Self.user, protocol: protocolID)
        #expect(try Self.view(UserView.self, of: bytes, protocolID) { try Thrift.encode($0, protocol: protocolID) } == bytes)
        let awkward = Awkward(self_: "1", type: "2", token: "3", writer: "4", field: 5, list0: [["6"]])
        let awkwardBytes = try Thrift.encode(awkward, protocol: protocolID)
        #expect(try Self.view(AwkwardView.self, of: awkwardBytes, protocolID) { try Thrift.encode($0, protocol: protocolID) } == awkwardBytes)
    }

    @Test func absentFieldsReadAsTheirZeroOrNil() throws {
        // A view of an empty struct's bytes: required fields missing is the owned struct's error.
        let empty = try Thrift.encode(Empty(), protocol: .compact)
        #expect {
            try Self.view(UserView.self, of: empty, .compact) { _ in }
        } throws: { error in
            (error as? ThriftError)?.kind == .missingRequiredField && (error as? ThriftError)?.detail == "User.id is required"
        }
        try Self.view(StampView.self, of: Thrift.encode(Stamp(millis: 1, zone: nil), protocol: .binary), .binary) { view in
            #expect(view.millis == 1 && view.zone == nil)  // the default "UTC" applies to the owned struct only
        }
        let minimal = try Thrift.encode(User(id: 1, name: "n"), protocol: .binary)
        try Self.view(UserView.self, of: minimal, .binary) { view in
            #expect(view.logins.isEmpty && view.nickname == nil && view.created == nil && view.photo.isEmpty)
        }
    }

    /// A container of structs is decoded element by element when the view is made, so an element
    /// the struct rejects fails the decode instead of failing later, while iterating.
    @Test(arguments: ThriftProtocolID.allCases) func aContainerOfStructsIsValidatedWhole(_ protocolID: ThriftProtocolID) throws {
        var output = [UInt8](repeating: 0, count: 256)
        let count = try output.withUnsafeMutableBytes { buffer throws(ThriftError) -> Int in
            func body<W: ThriftProtocolWriter>(_ writer: inout W) throws(ThriftError) {
                let token = writer.writeStructBegin()
                try writer.writeFieldBegin(.i64, id: 1)
                try writer.writeI64(1)
                try writer.writeFieldBegin(.string, id: 2)
                try writer.writeString("n")
                try writer.writeFieldBegin(.map, id: 9)
                try writer.writeMapBegin(keyType: .string, valueType: .struct, count: 1)
                try writer.writeString("k")
                let stamp = writer.writeStructBegin()
                try writer.writeFieldStop()  // a Stamp without its required millis
                writer.writeStructEnd(stamp)
                try writer.writeFieldStop()
                writer.writeStructEnd(token)
            }
            switch protocolID {
            case .binary:
                var writer = BinaryWriter(FixedOutput(buffer))
                try body(&writer)
                return writer.count
            case .compact:
                var writer = CompactWriter(FixedOutput(buffer))
                try body(&writer)
                return writer.count
            }
        }
        #expect {
            try Self.view(UserView.self, of: Array(output[..<count]), protocolID) { _ in }
        } throws: { error in
            (error as? ThriftError)?.kind == .missingRequiredField && (error as? ThriftError)?.detail == "Stamp.millis is required"
        }
    }
}
