import ApusThrift

/// The binary and compact readers on arbitrary bytes. Every input is read as a
/// message (header, then the body struct) and as a bare struct, in both protocols.
/// Beyond not crashing, whatever decodes must hold up:
/// - `skip` (the fast path `MessageBoundary` and the servers use) agrees with a full
///   decode: same success, same end offset;
/// - `MessageBoundary.message` finds the same message length;
/// - re-encoding is stable: decode → encode → decode → encode gives the same bytes, the
///   size pass predicts them, and fixed output one byte short fails cleanly;
/// - the value survives the other protocol: P → Q → P re-encodes to the same bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    for protocolID in [ThriftProtocolID.binary, .compact] {
        checkMessage(input, protocolID)
        checkBareStruct(input, protocolID)
    }
    return 0
}

struct Decoded {
    var header: (name: [UInt8], type: MessageType, sequenceID: Int32)?
    var body: ThriftValue
    var length: Int
}

func decode(_ bytes: UnsafeRawBufferPointer, _ protocolID: ThriftProtocolID, message: Bool) -> Result<Decoded, ThriftError> {
    func run<R: ThriftProtocolReader>(_ reader: inout R) throws(ThriftError) -> Decoded {
        var header: (name: [UInt8], type: MessageType, sequenceID: Int32)?
        if message {
            let h = try reader.readMessageBegin()
            header = (h.name.bytes, h.type, h.sequenceID)
        }
        let body = try ThriftValue(reading: .struct, from: &reader)
        return Decoded(header: header, body: body, length: reader.offset)
    }
    do throws(ThriftError) {
        switch protocolID {
        case .binary:
            var reader = BinaryReader(bytes)
            return .success(try run(&reader))
        case .compact:
            var reader = CompactReader(bytes)
            return .success(try run(&reader))
        }
    } catch { return .failure(error) }
}

func skip(_ bytes: UnsafeRawBufferPointer, _ protocolID: ThriftProtocolID, message: Bool) -> Result<Int, ThriftError> {
    func run<R: ThriftProtocolReader>(_ reader: inout R) throws(ThriftError) -> Int {
        if message { _ = try reader.readMessageBegin() }
        try reader.skip(.struct)
        return reader.offset
    }
    do throws(ThriftError) {
        switch protocolID {
        case .binary:
            var reader = BinaryReader(bytes)
            return .success(try run(&reader))
        case .compact:
            var reader = CompactReader(bytes)
            return .success(try run(&reader))
        }
    } catch { return .failure(error) }
}

func encode(_ decoded: Decoded, _ protocolID: ThriftProtocolID) -> [UInt8] {
    func run<W: ThriftProtocolWriter>(_ writer: inout W) throws(ThriftError) {
        if let header = decoded.header {
            var failure: ThriftError?
            header.name.withUnsafeBytes { name in
                do throws(ThriftError) {
                    try writer.writeMessageBegin(name: name, type: header.type, sequenceID: header.sequenceID)
                } catch { failure = error }
            }
            if let failure { throw failure }
        }
        try decoded.body.write(to: &writer)
    }
    do throws(ThriftError) {
        switch protocolID {
        case .binary:
            var sizer = BinarySizer()
            try run(&sizer)
            var writer = BinaryWriter(GrowableOutput())
            try run(&writer)
            precondition(sizer.count == writer.output.bytes.count, "binary size pass disagrees with the bytes written")
            checkFixedOutput(writer.output.bytes) { (out: inout FixedOutput) throws(ThriftError) in
                var fixed = BinaryWriter(out)
                try run(&fixed)
                out = fixed.output
            }
            return writer.output.bytes
        case .compact:
            var sizer = CompactSizer()
            try run(&sizer)
            var writer = CompactWriter(GrowableOutput())
            try run(&writer)
            precondition(sizer.count == writer.output.bytes.count, "compact size pass disagrees with the bytes written")
            checkFixedOutput(writer.output.bytes) { (out: inout FixedOutput) throws(ThriftError) in
                var fixed = CompactWriter(out)
                try run(&fixed)
                out = fixed.output
            }
            return writer.output.bytes
        }
    } catch {
        // A value that was just decoded must encode: every size read fits an i32.
        preconditionFailure("re-encoding a decoded value failed: \(error)")
    }
}

/// Writing into fixed memory of the exact size gives the same bytes; one byte less fails
/// with `outputFull`, never writes past the end (ASan watches the one-byte-short buffer).
func checkFixedOutput(_ expected: [UInt8], _ write: (inout FixedOutput) throws(ThriftError) -> Void) {
    let exact = UnsafeMutableRawBufferPointer.allocate(byteCount: expected.count, alignment: 1)
    defer { exact.deallocate() }
    var output = FixedOutput(exact)
    do throws(ThriftError) { try write(&output) } catch { preconditionFailure("exact-size output failed: \(error)") }
    precondition(output.count == expected.count && output.written.elementsEqual(expected), "fixed output differs")
    guard !expected.isEmpty else { return }
    let short = UnsafeMutableRawBufferPointer.allocate(byteCount: expected.count - 1, alignment: 1)
    defer { short.deallocate() }
    var shortOutput = FixedOutput(short)
    do throws(ThriftError) {
        try write(&shortOutput)
        preconditionFailure("writing \(expected.count) bytes into \(expected.count - 1) succeeded")
    } catch {
        precondition(error.kind == .outputFull, "short output failed with \(error.kind), not outputFull")
    }
}

/// Values whose encoding in the other protocol cannot come back the same: compact's empty
/// map carries no key and value types, so an empty map's types are lost on the way through
/// compact (and come back as `.stop`, which binary cannot write).
func crossesProtocols(_ value: ThriftValue) -> Bool {
    switch value {
    case .struct(let fields): return fields.allSatisfy { crossesProtocols($0.value) }
    case .list(_, let elements), .set(_, let elements): return elements.allSatisfy(crossesProtocols)
    case .map(let key, let value, let entries):
        return !entries.isEmpty && key != .stop && value != .stop
            && entries.allSatisfy { crossesProtocols($0.key) && crossesProtocols($0.value) }
    default: return true
    }
}

func check(_ input: UnsafeRawBufferPointer, _ protocolID: ThriftProtocolID, message: Bool) {
    let decoded = decode(input, protocolID, message: message)
    let skipped = skip(input, protocolID, message: message)
    switch (decoded, skipped) {
    case (.success(let value), .success(let length)):
        precondition(value.length == length, "\(protocolID): decode ended at \(value.length), skip at \(length)")
    case (.failure(let a), .failure(let b)):
        precondition(a.kind == b.kind, "\(protocolID): decode failed with \(a), skip with \(b)")
        return
    case (.success(let value), .failure(let error)):
        preconditionFailure("\(protocolID): decode read \(value.length) bytes, skip failed: \(error)")
    case (.failure(let error), .success(let length)):
        preconditionFailure("\(protocolID): skip read \(length) bytes, decode failed: \(error)")
    }
    guard case .success(let value) = decoded else { return }
    if message {
        do throws(ThriftError) {
            let length = try MessageBoundary.message(in: input, protocol: protocolID)
            precondition(length == value.length, "MessageBoundary found \(String(describing: length)), decode \(value.length)")
        } catch {
            preconditionFailure("MessageBoundary failed on a message that decodes: \(error)")
        }
    }

    let first = encode(value, protocolID)
    let again = first.withUnsafeBytes { decode($0, protocolID, message: message) }
    guard case .success(let second) = again else { preconditionFailure("re-encoded bytes do not decode: \(again)") }
    precondition(second.length == first.count, "re-encoded value decodes to \(second.length) of \(first.count) bytes")
    precondition(encode(second, protocolID) == first, "\(protocolID): encode(decode(encode(x))) differs from encode(x)")

    guard crossesProtocols(value.body) else { return }
    let other: ThriftProtocolID = protocolID == .binary ? .compact : .binary
    let converted = encode(value, other)
    let back = converted.withUnsafeBytes { decode($0, other, message: message) }
    guard case .success(let otherValue) = back else { preconditionFailure("\(other) encoding does not decode: \(back)") }
    precondition(otherValue.length == converted.count)
    precondition(encode(otherValue, protocolID) == first, "\(protocolID) → \(other) → \(protocolID) changed the value")
}

func checkMessage(_ input: UnsafeRawBufferPointer, _ protocolID: ThriftProtocolID) { check(input, protocolID, message: true) }
func checkBareStruct(_ input: UnsafeRawBufferPointer, _ protocolID: ThriftProtocolID) { check(input, protocolID, message: false) }
