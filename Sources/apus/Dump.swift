import ApusRPC
import ApusThrift
import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// `apus dump`: decodes captured Thrift messages into one JSON line each.
struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print Thrift messages from stdin (or a file) as one JSON object per line.",
        discussion: """
            Exit status 1 on a malformed message: it prints {"error":"..."} and stops, \
            since nothing after it can be trusted.
            """
    )

    enum ProtocolChoice: String, ExpressibleByArgument, CaseIterable { case binary, compact, auto }

    @Option(help: "Protocol: binary, compact, or auto (sniff each message's first byte).")
    var `protocol`: ProtocolChoice = .auto

    @Option(help: "Framing: framed (4-byte length prefix) or buffered (messages back to back).")
    var framing: ThriftFraming = .framed

    @Argument(help: "A file to read instead of stdin.")
    var file: String?

    func run() throws {
        let input: [UInt8]
        do {
            input = try readAll(path: file)
        } catch let message as DumpInputError {
            print(MessageDumper.errorLine(message.description))
            throw ExitCode(1)
        }
        var offset = 0
        let ok = input.withUnsafeBytes { bytes -> Bool in
            while offset < bytes.count {
                let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
                do throws(ThriftError) {
                    offset += try dumpOne(rest, at: offset)
                } catch {
                    print(MessageDumper.errorLine(error.description))
                    return false
                }
            }
            return true
        }
        if !ok { throw ExitCode(1) }
    }

    /// Prints one message starting at `bytes` and returns how many bytes it took.
    func dumpOne(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(ThriftError) -> Int {
        var message = bytes
        var consumed = 0
        if framing == .framed {
            guard bytes.count >= MessageBoundary.frameHeaderSize else {
                throw ThriftError(.truncated, offset: offset, detail: "frame header needs 4 bytes, \(bytes.count) left")
            }
            guard let payload = try MessageBoundary.frame(in: bytes) else {
                let length = Int(UInt32(bigEndian: bytes.loadUnaligned(as: UInt32.self)))
                throw ThriftError(.truncated, offset: offset,
                                  detail: "frame of \(length) bytes, \(bytes.count - 4) left")
            }
            message = UnsafeRawBufferPointer(rebasing: bytes[payload])
            consumed = MessageBoundary.frameHeaderSize
            if message.count >= 2, THeader.format(magic: UInt16(message[0]) << 8 | UInt16(message[1])) != nil {
                return try dumpHeaderFrame(message, at: offset)
            }
        }
        let protocolID = try resolveProtocol(message, at: offset + consumed)
        do throws(ThriftError) {
            let (json, length) = try MessageDumper.dump(message, protocol: protocolID)
            if framing == .framed && length != message.count {
                throw ThriftError(.invalidFrame, protocolID: protocolID, offset: length,
                                  detail: "frame holds \(message.count) bytes but the message ends after \(length)")
            }
            print(json)
            return consumed + length
        } catch {
            var error = error
            error.offset += offset + consumed
            throw error
        }
    }

    /// A THeader or TTHeader frame: its header as a JSON object beside the message it carries
    /// ({"theader":{...},"name":...} or {"ttheader":{...},...}), transforms (zlib) undone first.
    func dumpHeaderFrame(_ frame: UnsafeRawBufferPointer, at offset: Int) throws(ThriftError) -> Int {
        let start = MessageBoundary.frameHeaderSize
        let header: THeader, payload: Range<Int>
        do throws(ThriftError) {
            (header, payload) = try THeader.parse(frame)
        } catch {
            var error = error
            error.offset += offset + start
            throw error
        }
        let raw = UnsafeRawBufferPointer(rebasing: frame[payload])
        let bytes = header.transforms.isEmpty
            ? Array(raw) : try THeaderTransforms.decode(raw, transforms: header.transforms, limit: ThriftLimits.default.maxFrameSize)
        let dumped = bytes.withUnsafeBytes { message in
            Result { () throws(ThriftError) -> String in
                let (json, length) = try MessageDumper.dump(message, protocol: header.protocolID)
                guard length == message.count else {
                    throw ThriftError(.invalidFrame, protocolID: header.protocolID, offset: length,
                                      detail: "\(header.format == .theader ? "THeader" : "TTHeader") payload holds \(message.count) bytes but the message ends after \(length)")
                }
                return json
            }
        }
        let json: String
        do throws(ThriftError) {
            json = try dumped.get()
        } catch {
            var error = error
            error.offset += offset + start + payload.lowerBound
            throw error
        }
        print("{\"\(header.format.rawValue)\":" + MessageDumper.json(header) + "," + json.dropFirst())
        return start + frame.count
    }

    func resolveProtocol(_ message: UnsafeRawBufferPointer, at offset: Int) throws(ThriftError) -> ThriftProtocolID {
        switch self.protocol {
        case .binary: return .binary
        case .compact: return .compact
        case .auto:
            guard let first = message.first else {
                throw ThriftError(.truncated, offset: offset, detail: "empty message")
            }
            guard let sniffed = ThriftProtocolID(sniffing: first) else {
                throw ThriftError(.badVersion, offset: offset, typeByte: first,
                                  detail: "first byte 0x\(String(first, radix: 16)) is neither binary (0x80, 0x00) nor compact (0x82)")
            }
            return sniffed
        }
    }
}

extension ThriftFraming: ExpressibleByArgument {}

struct DumpInputError: Error, CustomStringConvertible {
    var description: String
}

/// Reads a whole file, or stdin when `path` is nil.
func readAll(path: String?) throws -> [UInt8] {
    let fd: Int32
    if let path {
        fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw DumpInputError(description: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
    } else {
        fd = 0
    }
    defer { if path != nil { close(fd) } }
    var result = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n == 0 { break }
        if n < 0 {
            if errno == EINTR { continue }
            throw DumpInputError(description: "read failed: \(String(cString: strerror(errno)))")
        }
        result.append(contentsOf: chunk[0..<n])
    }
    return result
}
