import ApusThrift
import Testing

/// Random value trees survive encode → decode in both protocols, and the
/// size pass predicts every encoding exactly.
@Suite struct RoundTripTests {
    @Test(arguments: ThriftProtocolID.allCases)
    func randomValuesRoundTrip(_ protocolID: ThriftProtocolID) throws {
        var generator = ValueGenerator(rng: SeededGenerator(seed: 0xA9D5 + UInt64(protocolID == .compact ? 1 : 0)))
        for _ in 0..<500 {
            let value = generator.value(.struct, depth: 4)
            let bytes = try encodeValue(value, protocolID)
            let decoded = try decodeValue(.struct, bytes, protocolID)
            let expected = protocolID == .compact ? value.compactNormalized : value
            #expect(decoded == expected)
            #expect(try encodeValue(decoded, protocolID) == bytes)
            #expect(try Thrift.size(of: value, protocol: protocolID) == bytes.count)
        }
    }

    @Test(arguments: ThriftProtocolID.allCases)
    func specialDoublesKeepTheirBits(_ protocolID: ThriftProtocolID) throws {
        for value in [Double.nan, -Double.nan, .infinity, -.infinity, -0.0, 0.0, .leastNonzeroMagnitude, .pi] {
            let decoded = try decodeValue(.double, encodeValue(.double(value), protocolID), protocolID)
            guard case .double(let back) = decoded else { Issue.record("not a double"); continue }
            #expect(back.bitPattern == value.bitPattern)
        }
    }

    @Test(arguments: ThriftProtocolID.allCases)
    func messagesRoundTrip(_ protocolID: ThriftProtocolID) throws {
        for type in [MessageType.call, .reply, .exception, .oneway] {
            for sequenceID in [Int32.min, -1, 0, 1, 300, Int32.max] {
                var output = GrowableOutput()
                switch protocolID {
                case .binary:
                    var writer = BinaryWriter(output)
                    try writer.writeMessageBegin(name: "méthode", type: type, sequenceID: sequenceID)
                    try TApplicationException(.unknownMethod, message: "no such method").encode(to: &writer)
                    output = writer.output
                case .compact:
                    var writer = CompactWriter(output)
                    try writer.writeMessageBegin(name: "méthode", type: type, sequenceID: sequenceID)
                    try TApplicationException(.unknownMethod, message: "no such method").encode(to: &writer)
                    output = writer.output
                }
                let (json, length) = try dumpMessage(output.bytes, protocolID)
                #expect(length == output.bytes.count)
                #expect(json == #"{"name":"méthode","type":"\#(type)","seqid":\#(sequenceID),"body":{"1":{"t":"string","v":"no such method"},"2":{"t":"i32","v":1}}}"#)
            }
        }
    }

    /// Containers read into ones already holding something hold exactly what the wire says.
    @Test(arguments: ThriftProtocolID.allCases)
    func containersReadIntoUsedOnesHoldOnlyTheWiresContents(_ protocolID: ThriftProtocolID) throws {
        var output = GrowableOutput()
        func write<W: ThriftProtocolWriter>(_ writer: inout W) throws(ThriftError) {
            try writer.writeList([Int64(3), 4])
            try writer.writeSet([Int32(5)])
            try writer.writeMap(["b": "2"])
            try writer.writeList([String]())
        }
        switch protocolID {
        case .binary:
            var writer = BinaryWriter(output)
            try write(&writer)
            output = writer.output
        case .compact:
            var writer = CompactWriter(output)
            try write(&writer)
            output = writer.output
        }
        var (list, set, map, empty): ([Int64], Set<Int32>, [String: String], [String]) = ([1, 2, 9, 9], [1, 2], ["a": "1"], ["x"])
        func read<R: ThriftProtocolReader>(_ reader: inout R) throws(ThriftError) {
            try reader.readList(into: &list)
            try reader.readSet(into: &set)
            try reader.readMap(into: &map)
            try reader.readList(into: &empty)
        }
        try output.bytes.withUnsafeBytes { bytes in
            switch protocolID {
            case .binary:
                var reader = BinaryReader(bytes)
                try read(&reader)
            case .compact:
                var reader = CompactReader(bytes)
                try read(&reader)
            }
        }
        #expect(list == [3, 4] && set == [5] && map == ["b": "2"] && empty.isEmpty)
    }

    @Test(arguments: ThriftProtocolID.allCases)
    func applicationExceptionRoundTrips(_ protocolID: ThriftProtocolID) throws {
        let exception = TApplicationException(.internalError, message: "handler failed: ✗")
        let bytes = try Thrift.encode(exception, protocol: protocolID)
        #expect(try Thrift.decode(TApplicationException.self, from: bytes, protocol: protocolID) == exception)
    }

    @Test func doublesFormatLikePythonRepr() {
        let cases: [(Double, String)] = [
            (1.0, "1.0"), (0.1, "0.1"), (-0.0, "-0.0"), (0.0, "0.0"), (1e300, "1e+300"), (Double.leastNonzeroMagnitude, "5e-324"),
            (1e15, "1000000000000000.0"), (1e16, "1e+16"), (123456789.125, "123456789.125"), (0.0001, "0.0001"),
            (0.00001, "1e-05"), (1.5e-7, "1.5e-07"), (-2.5, "-2.5"), (Double.greatestFiniteMagnitude, "1.7976931348623157e+308"),
            (.nan, "\"NaN\""), (.infinity, "\"Infinity\""), (-.infinity, "\"-Infinity\""), (12345678901234567.0, "1.2345678901234568e+16"),
        ]
        for (value, expected) in cases {
            #expect(MessageDumper.formatDouble(value) == expected, "\(value)")
        }
    }
}
