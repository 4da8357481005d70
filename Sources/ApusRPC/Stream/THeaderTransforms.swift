import ApusThrift
import CZlib

/// THeader's payload transforms. zlib is the one Apache's C++, Java and Python share; an
/// unknown transform is refused where the frame is read (`MessageFramer`).
package enum THeaderTransforms {
    /// Undoes `transforms` (applied in order by the sender) on `payload`. The result may not
    /// exceed `limit` bytes: a small frame must not inflate into unbounded memory.
    package static func decode(_ payload: UnsafeRawBufferPointer, transforms: [THeader.Transform], limit: Int) throws(ThriftError) -> [UInt8] {
        var bytes = Array(payload)
        for transform in transforms.reversed() {
            guard transform == .zlib else {
                throw ThriftError(.invalidFrame, offset: 0, detail: "THeader: unknown transform \(transform.rawValue)")
            }
            bytes = try inflate(bytes, limit: limit)
        }
        return bytes
    }

    /// Applies `transforms` in order to `message`.
    package static func encode(_ message: [UInt8], transforms: [THeader.Transform]) throws(ThriftError) -> [UInt8] {
        var bytes = message
        for transform in transforms {
            guard transform == .zlib else {
                throw ThriftError(.invalidFrame, offset: 0, detail: "THeader: unknown transform \(transform.rawValue)")
            }
            bytes = try deflate(bytes)
        }
        return bytes
    }

    private static func inflate(_ input: [UInt8], limit: Int) throws(ThriftError) -> [UInt8] {
        var stream = z_stream()
        guard inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ThriftError(.invalidFrame, offset: 0, detail: "THeader zlib: inflateInit failed")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: min(max(input.count * 4, 256), limit))
        var status = Z_OK
        var input = input
        try input.withUnsafeMutableBufferPointer { (source) throws(ThriftError) in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            while status != Z_STREAM_END {
                if Int(stream.total_out) == output.count {
                    guard output.count < limit else {
                        throw ThriftError(.sizeLimit, offset: 0, limit: limit, detail: "THeader zlib: payload inflates past the frame limit")
                    }
                    output += [UInt8](repeating: 0, count: min(output.count, limit - output.count))
                }
                let produced = Int(stream.total_out)
                status = output.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress! + produced
                    stream.avail_out = UInt32(target.count - produced)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                guard status == Z_OK || status == Z_STREAM_END else {
                    throw ThriftError(.invalidFrame, offset: Int(stream.total_in),
                                      detail: "THeader zlib: corrupt payload (\(status == Z_BUF_ERROR ? "truncated" : "error \(status)"))")
                }
            }
            guard stream.avail_in == 0 else {
                throw ThriftError(.invalidFrame, offset: Int(stream.total_in), detail: "THeader zlib: bytes after the compressed payload")
            }
        }
        output.removeLast(output.count - Int(stream.total_out))
        return output
    }

    private static func deflate(_ input: [UInt8]) throws(ThriftError) -> [UInt8] {
        var size = compressBound(uLong(input.count))
        var output = [UInt8](repeating: 0, count: Int(size))
        let status = output.withUnsafeMutableBufferPointer { target in
            input.withUnsafeBufferPointer { source in
                compress2(target.baseAddress, &size, source.baseAddress, uLong(source.count), Z_DEFAULT_COMPRESSION)
            }
        }
        guard status == Z_OK else { throw ThriftError(.outputFull, offset: 0, detail: "THeader zlib: compress2 failed (\(status))") }
        output.removeLast(output.count - Int(size))
        return output
    }
}
