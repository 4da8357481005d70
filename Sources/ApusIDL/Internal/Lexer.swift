/// Turns IDL text into tokens (idl.md "Basic Definitions"). It never fails:
/// a bad character or an unterminated literal becomes a diagnostic and the
/// scan goes on, so one run reports every problem.
struct Lexer {
    private let bytes: [UInt8]
    private let file: String
    private var index = 0
    private var line = 1
    private var column = 1
    private(set) var diagnostics: [Diagnostic] = []

    init(_ source: String, file: String) {
        bytes = Array(source.utf8)
        self.file = file
    }

    mutating func tokenize() -> [Token] {
        var tokens: [Token] = []
        var doc: String?
        while true {
            if let comment = skipTrivia() {
                doc = comment
                continue
            }
            let location = here
            guard index < bytes.count else {
                tokens.append(Token(kind: .end, location: location, doc: nil))
                return tokens
            }
            if let kind = scanToken(at: location) {
                tokens.append(Token(kind: kind, location: location, doc: doc))
                doc = nil
            }
        }
    }

    private var here: SourceLocation { SourceLocation(file: file, line: line, column: column) }

    private func peek(_ offset: Int = 0) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    private mutating func advance() {
        let byte = bytes[index]
        index += 1
        if byte == UInt8(ascii: "\n") {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {
            column += 1
        }
    }

    private mutating func error(_ message: String, at location: SourceLocation) {
        diagnostics.append(Diagnostic(.error, message, at: location))
    }

    /// Skips whitespace and comments; returns the text of a doc comment when it
    /// meets one, so the caller can attach it to the next token.
    private mutating func skipTrivia() -> String? {
        while let byte = peek() {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), 0x0B, 0x0C:
                advance()
            case UInt8(ascii: "#"):
                skipLine()
            case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "/"):
                skipLine()
            case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "*"):
                let start = here
                let isDoc = peek(2) == UInt8(ascii: "*") && peek(3) != UInt8(ascii: "/")
                advance()
                advance()
                let bodyStart = index
                while index < bytes.count, !(bytes[index] == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/")) {
                    advance()
                }
                guard index < bytes.count else {
                    error("unterminated comment", at: start)
                    return nil
                }
                let body = bytes[bodyStart..<index]
                advance()
                advance()
                if isDoc { return Self.docText(String(decoding: body.dropFirst(), as: UTF8.self)) }
            default:
                return nil
            }
        }
        return nil
    }

    private mutating func skipLine() {
        while let byte = peek(), byte != UInt8(ascii: "\n") { advance() }
    }

    /// The doc comment's text without its frame: leading `*`s and the common indentation.
    static func docText(_ body: String) -> String {
        var lines = body.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            var line = line.drop { $0 == " " || $0 == "\t" || $0 == "\r" }
            if line.first == "*" {
                line = line.dropFirst()
                if line.first == " " { line = line.dropFirst() }
            }
            while let last = line.last, last == " " || last == "\t" || last == "\r" { line = line.dropLast() }
            return line
        }
        while lines.first?.isEmpty == true { lines.removeFirst() }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    private mutating func scanToken(at location: SourceLocation) -> Token.Kind? {
        let byte = bytes[index]
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"):
            return .identifier(scanIdentifier())
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"),
            UInt8(ascii: ".") where peek(1).map(Self.isDigit) == true || byte != UInt8(ascii: "."):
            // A malformed number stands as 0 so the parser does not report it twice.
            return scanNumber(at: location) ?? .integer(0)
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return .string(scanString(at: location))
        case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "["),
            UInt8(ascii: "]"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: ","), UInt8(ascii: ";"),
            UInt8(ascii: ":"), UInt8(ascii: "="), UInt8(ascii: "*"):
            advance()
            return .symbol(byte)
        default:
            let scalar = String(decoding: scalarBytes(), as: UTF8.self)
            error("unexpected character '\(scalar)'", at: location)
            return nil
        }
    }

    /// The bytes of the (possibly multi-byte) character at `index`, consumed.
    private mutating func scalarBytes() -> [UInt8] {
        var result = [bytes[index]]
        advance()
        while let next = peek(), next & 0xC0 == 0x80 {
            result.append(next)
            advance()
        }
        return result
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        isDigit(byte) || byte == UInt8(ascii: "_") || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
    }

    /// Identifiers may hold dots (`shared.Item`, `Color.RED`); the resolver splits them.
    private mutating func scanIdentifier() -> String {
        let start = index
        while let byte = peek() {
            if Self.isIdentifierByte(byte) {
                advance()
            } else if byte == UInt8(ascii: "."), let next = peek(1), Self.isIdentifierByte(next), !Self.isDigit(next) {
                advance()
            } else {
                break
            }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func scanNumber(at location: SourceLocation) -> Token.Kind? {
        let start = index
        var isNegative = false
        if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            isNegative = sign == UInt8(ascii: "-")
            advance()
            guard let next = peek(), Self.isDigit(next) || next == UInt8(ascii: ".") else {
                error("expected a number after '\(isNegative ? "-" : "+")'", at: location)
                return nil
            }
        }
        if peek() == UInt8(ascii: "0"), let x = peek(1), x | 0x20 == UInt8(ascii: "x") {
            advance()
            advance()
            let digitsStart = index
            while let byte = peek(), byte.isHexDigit { advance() }
            let digits = String(decoding: bytes[digitsStart..<index], as: UTF8.self)
            guard !digits.isEmpty, let magnitude = UInt64(digits, radix: 16) else {
                error("invalid hexadecimal literal", at: location)
                return nil
            }
            return integer(magnitude: magnitude, negative: isNegative, at: location)
        }
        var isDouble = false
        while let byte = peek(), Self.isDigit(byte) { advance() }
        if peek() == UInt8(ascii: "."), peek(1).map(Self.isDigit) == true {
            isDouble = true
            advance()
            while let byte = peek(), Self.isDigit(byte) { advance() }
        }
        if let e = peek(), e | 0x20 == UInt8(ascii: "e") {
            let signed = peek(1) == UInt8(ascii: "+") || peek(1) == UInt8(ascii: "-")
            if let digit = peek(signed ? 2 : 1), Self.isDigit(digit) {
                isDouble = true
                advance()
                if signed { advance() }
                while let byte = peek(), Self.isDigit(byte) { advance() }
            }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isDouble {
            guard let value = Double(text), value.isFinite else {
                error("invalid floating-point literal '\(text)'", at: location)
                return nil
            }
            return .double(value)
        }
        let digits = text.drop { $0 == "+" || $0 == "-" }
        guard let magnitude = UInt64(digits) else {
            error("integer literal '\(text)' is out of range", at: location)
            return nil
        }
        return integer(magnitude: magnitude, negative: isNegative, at: location)
    }

    private mutating func integer(magnitude: UInt64, negative: Bool, at location: SourceLocation) -> Token.Kind? {
        if negative, magnitude <= UInt64(Int64.max) + 1 {
            return .integer(magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude))
        }
        if !negative, magnitude <= UInt64(Int64.max) { return .integer(Int64(magnitude)) }
        error("integer literal is out of range for i64", at: location)
        return nil
    }

    /// A string in either quote style. Escapes: `\\ \" \' \n \r \t \0 \uXXXX`.
    private mutating func scanString(at location: SourceLocation) -> String {
        let quote = bytes[index]
        advance()
        var result: [UInt8] = []
        while true {
            guard let byte = peek(), byte != UInt8(ascii: "\n") else {
                error("unterminated string", at: location)
                return String(decoding: result, as: UTF8.self)
            }
            if byte == quote {
                advance()
                return String(decoding: result, as: UTF8.self)
            }
            guard byte == UInt8(ascii: "\\") else {
                result.append(byte)
                advance()
                continue
            }
            let escapeLocation = here
            advance()
            guard let escaped = peek(), escaped != UInt8(ascii: "\n") else { continue }
            advance()
            switch escaped {
            case UInt8(ascii: "n"): result.append(UInt8(ascii: "\n"))
            case UInt8(ascii: "r"): result.append(UInt8(ascii: "\r"))
            case UInt8(ascii: "t"): result.append(UInt8(ascii: "\t"))
            case UInt8(ascii: "0"): result.append(0)
            case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "/"): result.append(escaped)
            case UInt8(ascii: "u"):
                var hex = ""
                while hex.count < 4, let digit = peek(), digit.isHexDigit {
                    hex.unicodeScalars.append(Unicode.Scalar(digit))
                    advance()
                }
                if hex.count == 4, let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) {
                    result.append(contentsOf: Array(String(Character(scalar)).utf8))
                } else {
                    error("invalid \\u escape: expected four hexadecimal digits naming a character", at: escapeLocation)
                }
            default:
                error("unknown escape sequence '\\\(Character(Unicode.Scalar(escaped)))'", at: escapeLocation)
            }
        }
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9")) || (self | 0x20 >= UInt8(ascii: "a") && self | 0x20 <= UInt8(ascii: "f"))
    }
}
