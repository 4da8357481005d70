/// Turns Thrift messages into the one-line JSON `apus dump` prints:
/// `{"name":"getItem","type":"call","seqid":7,"body":{"1":{"t":"i32","v":5}}}`.
/// Keys come in wire order; strings that are valid UTF-8 print as text,
/// other bytes as base64 under `"t":"binary"`; doubles print like Python's
/// `repr` (or "NaN", "Infinity", "-Infinity"); an empty compact map, which
/// carries no types on the wire, names both types "none".
public enum MessageDumper {
    /// Reads one message (header and body) from the start of `bytes`.
    /// Returns the JSON line and the number of bytes the message took.
    public static func dump(
        _ bytes: UnsafeRawBufferPointer, protocol protocolID: ThriftProtocolID, limits: ThriftLimits = .default
    ) throws(ThriftError) -> (json: String, length: Int) {
        switch protocolID {
        case .binary:
            var reader = BinaryReader(bytes, limits: limits)
            let json = try dump(from: &reader)
            return (json, reader.offset)
        case .compact:
            var reader = CompactReader(bytes, limits: limits)
            let json = try dump(from: &reader)
            return (json, reader.offset)
        }
    }

    static func dump<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) -> String {
        let header = try reader.readMessageBegin()
        let name = header.name.string
        let body = try ThriftValue(reading: .struct, from: &reader)
        var json = "{\"name\":"
        appendString(name, to: &json)
        json += ",\"type\":\"\(header.type)\",\"seqid\":\(header.sequenceID),\"body\":"
        appendValueBody(body, to: &json)
        json += "}"
        return json
    }

    /// `{"error":"…"}` for a malformed message.
    /// A THeader as a JSON object: {"flags":F,"seq":S,"protocol":P,"transforms":[...],"headers":{...}}
    /// (and "persistent_headers" when there are any), keys sorted.
    public static func json(_ header: THeader) -> String {
        var json = "{\"flags\":\(header.flags),\"seq\":\(header.sequenceNumber),\"protocol\":"
        appendString(header.protocolID.rawValue, to: &json)
        json += ",\"transforms\":[" + header.transforms.map { $0 == .zlib ? "\"zlib\"" : "\($0.rawValue)" }.joined(separator: ",") + "]"
        for (name, pairs) in [("headers", header.headers), ("persistent_headers", header.persistentHeaders)]
        where name == "headers" || !pairs.isEmpty {
            json += ",\"\(name)\":{"
            for (index, key) in pairs.keys.sorted().enumerated() {
                if index > 0 { json += "," }
                appendString(key, to: &json)
                json += ":"
                appendString(pairs[key]!, to: &json)
            }
            json += "}"
        }
        if !header.intHeaders.isEmpty {  // TTHeader's int keys, as strings (JSON object keys are)
            json += ",\"int_headers\":{"
            for (index, key) in header.intHeaders.keys.sorted().enumerated() {
                if index > 0 { json += "," }
                json += "\"\(key)\":"
                appendString(header.intHeaders[key]!, to: &json)
            }
            json += "}"
        }
        if let token = header.aclToken {
            json += ",\"acl_token\":"
            appendString(token, to: &json)
        }
        return json + "}"
    }

    public static func errorLine(_ message: String) -> String {
        var json = "{\"error\":"
        appendString(message, to: &json)
        json += "}"
        return json
    }

    /// The `t` name of a value: strings split into "string" and "binary".
    static func typeName(of value: ThriftValue) -> String {
        if case .binary(let bytes) = value {
            return String(validating: bytes, as: UTF8.self) == nil ? "binary" : "string"
        }
        return value.type.description
    }

    /// The name of a wire type in `elem`, `key`, `val`.
    static func wireName(_ type: ThriftType) -> String {
        type == .stop ? "none" : type.description
    }

    public static func json(_ value: ThriftValue) -> String {
        var json = ""
        appendValue(value, to: &json)
        return json
    }

    static func appendValue(_ value: ThriftValue, to json: inout String) {
        json += "{\"t\":\"\(typeName(of: value))\""
        switch value {
        case .list(let elementType, _), .set(let elementType, _):
            json += ",\"elem\":\"\(wireName(elementType))\""
        case .map(let keyType, let valueType, _):
            json += ",\"key\":\"\(wireName(keyType))\",\"val\":\"\(wireName(valueType))\""
        default:
            break
        }
        json += ",\"v\":"
        appendValueBody(value, to: &json)
        json += "}"
    }

    static func appendValueBody(_ value: ThriftValue, to json: inout String) {
        switch value {
        case .bool(let value): json += value ? "true" : "false"
        case .i8(let value): json += String(value)
        case .i16(let value): json += String(value)
        case .i32(let value): json += String(value)
        case .i64(let value): json += String(value)
        case .double(let value): json += formatDouble(value)
        case .binary(let bytes):
            if let text = String(validating: bytes, as: UTF8.self) {
                appendString(text, to: &json)
            } else {
                json += "\"" + Base64.encode(bytes) + "\""
            }
        case .uuid(let uuid): json += "\"\(uuid)\""
        case .struct(let fields):
            json += "{"
            for (index, field) in fields.enumerated() {
                if index > 0 { json += "," }
                json += "\"\(field.id)\":"
                appendValue(field.value, to: &json)
            }
            json += "}"
        case .list(_, let elements), .set(_, let elements):
            json += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { json += "," }
                appendValue(element, to: &json)
            }
            json += "]"
        case .map(_, _, let entries):
            json += "["
            for (index, entry) in entries.enumerated() {
                if index > 0 { json += "," }
                json += "["
                appendValue(entry.key, to: &json)
                json += ","
                appendValue(entry.value, to: &json)
                json += "]"
            }
            json += "]"
        }
    }

    /// JSON string escaping as Python's `json.dumps(ensure_ascii=False)`.
    static func appendString(_ text: String, to json: inout String) {
        json += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": json += "\\\""
            case "\\": json += "\\\\"
            case "\n": json += "\\n"
            case "\r": json += "\\r"
            case "\t": json += "\\t"
            case "\u{08}": json += "\\b"
            case "\u{0C}": json += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    json += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    json.unicodeScalars.append(scalar)
                }
            }
        }
        json += "\""
    }

    /// A double as Python's `repr`: shortest round-trip digits, fixed
    /// notation for decimal exponents -4 ..< 16, scientific otherwise.
    public static func formatDouble(_ value: Double) -> String {
        if value.isNaN { return "\"NaN\"" }
        if value.isInfinite { return value < 0 ? "\"-Infinity\"" : "\"Infinity\"" }
        // Swift's description already gives the shortest round-trip digits.
        var text = Substring(value.description)
        var sign = ""
        if text.hasPrefix("-") {
            sign = "-"
            text = text.dropFirst()
        }
        var mantissa = text
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...])!
        }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let integerPart = String(parts[0])
        let fractionPart = parts.count > 1 ? String(parts[1]) : ""
        var digits = integerPart + fractionPart
        // Decimal exponent of the first digit of `digits`.
        var pointExponent = exponent + integerPart.count - 1
        while digits.count > 1 && digits.hasPrefix("0") {
            digits.removeFirst()
            pointExponent -= 1
        }
        while digits.count > 1 && digits.hasSuffix("0") { digits.removeLast() }
        if digits == "0" { return sign + "0.0" }

        if pointExponent >= -4 && pointExponent < 16 {
            if pointExponent >= 0 {
                if digits.count <= pointExponent + 1 {
                    return sign + digits + String(repeating: "0", count: pointExponent + 1 - digits.count) + ".0"
                }
                let split = digits.index(digits.startIndex, offsetBy: pointExponent + 1)
                return sign + digits[..<split] + "." + digits[split...]
            }
            return sign + "0." + String(repeating: "0", count: -pointExponent - 1) + digits
        }
        var result = sign + String(digits.first!)
        if digits.count > 1 { result += "." + digits.dropFirst() }
        let magnitude = abs(pointExponent)
        result += "e" + (pointExponent < 0 ? "-" : "+") + (magnitude < 10 ? "0" : "") + String(magnitude)
        return result
    }
}

/// Standard base64 with padding (RFC 4648 §4), for binary values in dumps.
enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let b0 = bytes[index]
            let b1 = index + 1 < bytes.count ? bytes[index + 1] : 0
            let b2 = index + 2 < bytes.count ? bytes[index + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(index + 1 < bytes.count ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(index + 2 < bytes.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
