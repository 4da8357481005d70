/// Cuts a byte stream into top-level JSON objects, wherever the chunks
/// happen to split or join them (the watch stream is one object per batch,
/// newline-delimited in practice, but HTTP chunking promises nothing).
///
/// Tracks string and escape state so braces inside values do not count; a
/// scan resumes where the last one stopped, so each byte is looked at once.
struct JSONObjectSplitter {
    /// An object larger than this is not something etcd sends us; give up rather than buffer forever.
    static let maximumObjectSize = 64 << 20

    private var buffer: [UInt8] = []
    private var start = 0  // first byte of the object being scanned (or whitespace before it)
    private var position = 0  // next byte to look at
    private var depth = 0
    private var inString = false
    private var escaped = false

    enum Failure: Error, CustomStringConvertible {
        case notAnObject(UInt8)
        case tooLarge

        var description: String {
            switch self {
            case .notAnObject(let byte): "the stream has '\(Unicode.Scalar(byte))' where a JSON object should start"
            case .tooLarge: "a JSON object in the stream is larger than \(JSONObjectSplitter.maximumObjectSize) bytes"
            }
        }
    }

    mutating func append(_ bytes: some Sequence<UInt8>) { buffer.append(contentsOf: bytes) }

    /// The next complete object, or nil until more bytes arrive.
    mutating func next() throws(Failure) -> [UInt8]? {
        while position < buffer.count {
            let byte = buffer[position]
            position += 1
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                if depth == 0 { start = position }
            case UInt8(ascii: "{"):
                depth += 1
            case UInt8(ascii: "}"):
                depth -= 1
                if depth == 0 {
                    let object = Array(buffer[start..<position])
                    compact(keepingFrom: position)
                    return object
                }
            case UInt8(ascii: "\""):
                inString = true
            default:
                if depth == 0 { throw .notAnObject(byte) }
            }
        }
        if position - start > Self.maximumObjectSize { throw .tooLarge }
        return nil
    }

    /// Drops consumed bytes once they are most of the buffer, so it does not grow with the stream.
    private mutating func compact(keepingFrom offset: Int) {
        start = offset
        if offset == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
            position = 0
        } else if offset > 4096 && offset > buffer.count / 2 {
            buffer.removeFirst(offset)
            start = 0
            position -= offset
        }
    }
}
