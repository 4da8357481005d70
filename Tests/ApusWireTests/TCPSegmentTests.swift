import ApusWire
import Testing

@Suite struct TCPSegmentTests {
    static let (client, server) = (Fixtures.client.ip, Fixtures.server.ip)

    /// Builds a whole TCP frame from reprs the way the stack will: payload first, then
    /// TCP, IPv4 and Ethernet headers in front of it.
    /// With `summingWhileCopying` the payload is summed as it is copied in, and emit reads only
    /// the header (`.computeWithPayloadSum`), as ApusNet transmits.
    static func frame(_ tcp: TCPRepr, payload: [UInt8] = [], from source: (mac: MACAddress, ip: IPv4Address),
                      to destination: (mac: MACAddress, ip: IPv4Address), identification: UInt16 = 0,
                      summingWhileCopying: Bool = false) throws -> [UInt8] {
        let ip = IPv4Repr(source: source.ip, destination: destination.ip, protocol: .tcp,
                          payloadLength: tcp.bufferLength, identification: identification)
        let link = EthernetRepr(destination: destination.mac, source: source.mac, etherType: .ipv4)
        return try emitting(count: link.bufferLength(payloadLength: ip.bufferLength)) { frame throws(WireError) in
            let segment = frame.from(link.headerLength + ip.headerLength)
            var payloadSum = InternetChecksum()
            payload.withUnsafeBytes {
                if summingWhileCopying {
                    payloadSum.add(copying: $0, into: segment.from(tcp.headerLength))
                } else {
                    segment.from(tcp.headerLength).copyMemory(from: $0)
                }
            }
            let checksum: TransportChecksum = summingWhileCopying
                ? .computeWithPayloadSum(source: source.ip, destination: destination.ip, payload: payloadSum,
                                         payloadLength: payload.count)
                : .compute(source: source.ip, destination: destination.ip)
            try tcp.emit(into: segment, checksum: checksum)
            try ip.emit(into: frame.from(link.headerLength))
            try link.emit(into: frame)
        }
    }

    @Test func parseLinuxSYN() throws {
        try Fixtures.synFrame.withUnsafeBytes { frame in
            let segment = try TCPSegment(IPv4Packet(frame.from(14)).payload)
            #expect(segment.sourcePort == 45678)
            #expect(segment.destinationPort == 9090)
            #expect(segment.sequenceNumber == SequenceNumber(0x5d1f3a2b))
            #expect(segment.acknowledgmentNumber == SequenceNumber(0))
            #expect(segment.headerLength == 40)
            #expect(segment.flags == .syn)
            #expect(segment.windowSize == 64240)
            #expect(segment.checksum == 0x154d)
            #expect(segment.urgentPointer == 0)
            #expect(segment.optionBytes.count == 20)
            #expect(segment.payload.isEmpty)
            #expect(segment.segmentLength == 1, "SYN occupies one sequence number")
            try segment.verifyChecksum(source: Self.client, destination: Self.server)

            let repr = try TCPRepr(parsing: segment)
            #expect(repr.options.maximumSegmentSize == 1460)
            #expect(repr.options.sackPermitted)
            #expect(repr.options.timestamps == TCPTimestamps(value: 0x9a3b1c2d, echoReply: 0))
            #expect(repr.options.windowScale == 7)
            #expect(repr.options.sackBlocks.isEmpty)
            #expect(repr.headerLength == 40)
            #expect(repr.segmentLength == 1)
        }
    }

    @Test func badChecksumIsDetected() throws {
        for index in [34, 41, 47, 60, 73] {
            let frame = modified(Fixtures.synFrame) { $0[index] ^= 0x10 }
            try frame.withUnsafeBytes { bytes in
                let segment = try TCPSegment(bytes.from(34))
                #expect(throws: WireError(.badChecksum, .tcp, "checksum")) {
                    try segment.verifyChecksum(source: Self.client, destination: Self.server)
                }
            }
        }
    }

    @Test func emitSynAckMatchesFixture() throws {
        let synAck = TCPRepr(
            sourcePort: 9090, destinationPort: 45678, sequenceNumber: SequenceNumber(0x01020304),
            acknowledgmentNumber: SequenceNumber(0x5d1f3a2b) + 1, flags: [.syn, .ack], windowSize: 65160,
            options: TCPOptions(maximumSegmentSize: 1460, windowScale: 7, sackPermitted: true,
                                timestamps: TCPTimestamps(value: 0x1000, echoReply: 0x9a3b1c2d)))
        #expect(synAck.headerLength == 40)
        #expect(try Self.frame(synAck, from: Fixtures.server, to: Fixtures.client) == Fixtures.synAckFrame)
    }

    @Test func parseDataSegment() throws {
        try Fixtures.dataFrame.withUnsafeBytes { frame in
            let ip = try IPv4Packet(frame.from(14))
            let segment = try TCPSegment(ip.payload)
            #expect(segment.flags == [.psh, .ack])
            #expect(segment.headerLength == 32)
            #expect(segment.payloadRange == 32..<53)
            #expect(Array(segment.payload) == Fixtures.dataPayload)
            #expect(segment.segmentLength == 21)
            try segment.verifyChecksum(source: ip.source, destination: ip.destination)
            let repr = try TCPRepr(parsing: segment)
            #expect(repr == TCPRepr(
                sourcePort: 45678, destinationPort: 9090, sequenceNumber: SequenceNumber(0x5d1f3a2c),
                acknowledgmentNumber: SequenceNumber(0x01020305), flags: [.psh, .ack], windowSize: 502,
                options: TCPOptions(timestamps: TCPTimestamps(value: 0x9a3b1c35, echoReply: 0x1000)),
                payloadLength: 21))
        }
    }

    @Test func emitDataSegmentMatchesFixture() throws {
        let repr = try Fixtures.dataFrame.withUnsafeBytes { try TCPRepr(parsing: TCPSegment($0.from(34))) }
        let bytes = try Self.frame(repr, payload: Fixtures.dataPayload, from: Fixtures.client, to: Fixtures.server,
                                   identification: 0x3f22)
        #expect(bytes == Fixtures.dataFrame)
        let summed = try Self.frame(repr, payload: Fixtures.dataPayload, from: Fixtures.client, to: Fixtures.server,
                                    identification: 0x3f22, summingWhileCopying: true)
        #expect(summed == Fixtures.dataFrame, "the kernel's checksum, the payload summed while copied")
    }

    @Test func parseAndEmitSACK() throws {
        let repr = try Fixtures.sackFrame.withUnsafeBytes { try TCPRepr(parsing: TCPSegment($0.from(34))) }
        #expect(repr.flags == .ack)
        #expect(Array(repr.options.sackBlocks) == [
            SACKBlock(left: SequenceNumber(0x5d1f3d00), right: SequenceNumber(0x5d1f3f00)),
            SACKBlock(left: SequenceNumber(0x5d1f4100), right: SequenceNumber(0x5d1f4200)),
        ])
        #expect(repr.options.timestamps == TCPTimestamps(value: 0x1010, echoReply: 0x9a3b1c40))
        #expect(repr.headerLength == 52)
        #expect(try Self.frame(repr, from: Fixtures.server, to: Fixtures.client) == Fixtures.sackFrame)
    }

    /// Every TCP fixture survives parse → emit byte for byte.
    @Test(arguments: [Fixtures.synFrame, Fixtures.synAckFrame, Fixtures.dataFrame, Fixtures.sackFrame])
    func roundTrip(_ original: [UInt8]) throws {
        let segment = Array(original[34...])
        let repr = try segment.withUnsafeBytes { try TCPRepr(parsing: TCPSegment($0)) }
        let ip = try original.withUnsafeBytes { try IPv4Repr(parsing: IPv4Packet($0.from(14))) }
        let bytes = try emitting(count: segment.count) { buffer throws(WireError) in
            segment[repr.headerLength...].withUnsafeBytes { buffer.from(repr.headerLength).copyMemory(from: $0) }
            try repr.emit(into: buffer, checksum: .compute(source: ip.source, destination: ip.destination))
        }
        #expect(bytes == segment)
    }

    func kind(_ segment: [UInt8]) -> WireError.Kind? {
        segment.withUnsafeBytes { bytes in errorKind { () throws(WireError) in _ = try TCPSegment(bytes) } }
    }

    static let synSegment = Array(Fixtures.synFrame[34...])

    @Test(arguments: [0x00, 0x10, 0x40] as [UInt8])
    func dataOffsetBelowFiveIsMalformed(_ offset: UInt8) {
        #expect(kind(modified(Self.synSegment) { $0[12] = offset }) == .malformed)
    }

    @Test func dataOffsetBeyondTheSegmentIsTruncated() {
        #expect(kind(modified(Self.synSegment) { $0[12] = 0xB0 }) == .truncated)
        #expect(kind(modified(Self.synSegment) { $0[12] = 0xF0 }) == .truncated)
        #expect(kind(modified(Self.synSegment) { $0[12] = 0x50 }) == nil, "options then read as payload")
    }

    /// TCP has no length of its own: cutting into the header is `truncated`, cutting the
    /// payload just makes it shorter (IPv4's total length catches that one layer up).
    @Test func truncatedSegments() throws {
        let segment = Array(Fixtures.dataFrame[34...])
        for length in 0..<segment.count {
            try segment[..<length].withUnsafeBytes { bytes throws in
                if length < 32 {
                    #expect(errorKind { () throws(WireError) in _ = try TCPSegment(bytes) } == .truncated)
                } else {
                    #expect(try TCPRepr(parsing: TCPSegment(bytes)).payloadLength == length - 32)
                }
            }
        }
    }

    @Test func partialChecksumIsRecognised() throws {
        let repr = TCPRepr(sourcePort: 1, destinationPort: 2, sequenceNumber: SequenceNumber(9), flags: .syn, windowSize: 100)
        let bytes = try emitting(count: 20) { b throws(WireError) in
            try repr.emit(into: b, checksum: .pseudoHeaderOnly(source: Self.client, destination: Self.server))
        }
        try bytes.withUnsafeBytes { buffer in
            let segment = try TCPSegment(buffer)
            #expect(segment.hasPartialChecksum(source: Self.client, destination: Self.server))
            #expect(!segment.hasPartialChecksum(source: Self.client, destination: IPv4Address(10, 10, 0, 11)))
            #expect(errorKind { () throws(WireError) in try segment.verifyChecksum(source: Self.client, destination: Self.server) }
                == .badChecksum)
        }
        try Fixtures.synFrame.withUnsafeBytes { frame throws in
            #expect(!(try TCPSegment(frame.from(34)).hasPartialChecksum(source: Self.client, destination: Self.server)))
        }
    }

    /// With timestamps, window scale and MSS only two SACK blocks fit in 40 bytes; emit refuses more.
    @Test func optionsLongerThanFortyBytesAreRefused() throws {
        let blocks = SACKBlocks((0..<3).map { SACKBlock(left: SequenceNumber(UInt32($0) * 100), right: SequenceNumber(UInt32($0) * 100 + 50)) })
        var options = TCPOptions(maximumSegmentSize: 1460, windowScale: 7, timestamps: TCPTimestamps(value: 1, echoReply: 2),
                                 sackBlocks: blocks)
        let repr = TCPRepr(sourcePort: 1, destinationPort: 2, sequenceNumber: SequenceNumber(0), flags: .ack,
                           windowSize: 0, options: options)
        #expect(repr.headerLength == 68)
        #expect(errorKind { () throws(WireError) in
            _ = try emitting(count: 68) { b throws(WireError) in try repr.emit(into: b, checksum: .zero) }
        } == .malformed)
        options.maximumSegmentSize = nil
        options.windowScale = nil
        let fits = TCPRepr(sourcePort: 1, destinationPort: 2, sequenceNumber: SequenceNumber(0), flags: .ack,
                           windowSize: 0, options: options)
        #expect(fits.headerLength == 60)
        let bytes = try emitting(count: 60) { b throws(WireError) in try fits.emit(into: b, checksum: .zero) }
        let parsed = try bytes.withUnsafeBytes { try TCPRepr(parsing: TCPSegment($0)) }
        #expect(parsed.options == options)
    }

    @Test func emitIntoTooSmallBufferWritesNothing() {
        let repr = TCPRepr(sourcePort: 1, destinationPort: 2, sequenceNumber: SequenceNumber(0), flags: .ack,
                           windowSize: 0, payloadLength: 10)
        var bytes = [UInt8](repeating: 0xEE, count: 29)
        let kind = bytes.withUnsafeMutableBytes { b in
            errorKind { () throws(WireError) in try repr.emit(into: b, checksum: .zero) }
        }
        #expect(kind == .bufferTooSmall)
        #expect(bytes.allSatisfy { $0 == 0xEE })
    }

    @Test func segmentLengthCountsSYNAndFIN() {
        var repr = TCPRepr(sourcePort: 1, destinationPort: 2, sequenceNumber: SequenceNumber(0), flags: [.fin, .ack],
                           windowSize: 0, payloadLength: 5)
        #expect(repr.segmentLength == 6)
        repr.flags = [.syn, .fin]
        #expect(repr.segmentLength == 7)
        repr.flags = .rst
        #expect(repr.segmentLength == 5)
    }
}
