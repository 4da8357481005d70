import Foundation

/// The exchange format with scripts/interop/crosslang.py: each record is a
/// 4-byte big-endian length, then one encoded struct.
enum RecordFile {
    static func write(_ records: [[UInt8]], to url: URL) throws {
        var data = Data()
        for record in records {
            withUnsafeBytes(of: UInt32(record.count).bigEndian) { data.append(contentsOf: $0) }
            data.append(contentsOf: record)
        }
        try data.write(to: url)
    }

    static func read(_ url: URL) throws -> [[UInt8]] {
        let bytes = [UInt8](try Data(contentsOf: url))
        var records: [[UInt8]] = []
        var offset = 0
        while offset + 4 <= bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            offset += 4
            guard offset + length <= bytes.count else { throw Truncated(file: url.lastPathComponent) }
            records.append(Array(bytes[offset..<offset + length]))
            offset += length
        }
        guard offset == bytes.count else { throw Truncated(file: url.lastPathComponent) }
        return records
    }

    struct Truncated: Error, CustomStringConvertible {
        var file: String
        var description: String { "\(file) ends inside a record" }
    }
}
