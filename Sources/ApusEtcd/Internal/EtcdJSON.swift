import Foundation

/// The gateway's JSON conventions: keys and values in base64, int64 fields
/// as strings, zero values left out.
enum EtcdJSON {
    static func encode(_ object: [String: Any]) -> [UInt8] {
        // Only dictionaries of strings, numbers, booleans and nested dictionaries reach here.
        Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    static func object(_ bytes: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
    static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    static func bytes(fromBase64 value: Any?) -> [UInt8]? {
        guard let text = value as? String else { return value == nil ? [] : nil }
        return Data(base64Encoded: text).map { Array($0) }
    }

    /// An int64 field: a string in the gateway's JSON, a number in hand-written JSON; absent is 0.
    static func int64(_ value: Any?) -> Int64? {
        switch value {
        case nil: 0
        case let text as String: Int64(text)
        case let number as NSNumber: number.int64Value
        default: nil
        }
    }

    /// What an `"error"` field says: the gateway sends a string, or an object with a message.
    static func errorMessage(_ value: Any) -> String {
        if let object = value as? [String: Any], let message = object["message"] as? String {
            let code = object["http_code"].map { "HTTP \($0): " } ?? ""
            return code + message
        }
        return "\(value)"
    }

    /// A boolean field; absent is false.
    static func bool(_ value: Any?) -> Bool {
        switch value {
        case let flag as Bool: flag
        case let number as NSNumber: number.boolValue
        default: false
        }
    }

    /// The key-value pairs of a range answer or a watch event.
    static func keyValue(_ value: Any?) -> EtcdKeyValue? {
        guard let kv = value as? [String: Any], let key = bytes(fromBase64: kv["key"]),
              let value = bytes(fromBase64: kv["value"]), let revision = int64(kv["mod_revision"]) else { return nil }
        return EtcdKeyValue(key: String(decoding: key, as: UTF8.self), value: value, modRevision: revision)
    }

    /// The end of the range of keys that start with `prefix`: the prefix with its last byte
    /// incremented (dropping trailing 0xff bytes first); `\0` (every key) when none is left.
    static func rangeEnd(ofPrefix prefix: String) -> [UInt8] {
        var end = Array(prefix.utf8)
        while let last = end.last {
            if last < 0xff {
                end[end.count - 1] = last + 1
                return end
            }
            end.removeLast()
        }
        return [0]
    }
}
