/// Swift spellings of IDL names: lowerCamelCase members, escaped keywords,
/// and renames for names the generated code itself relies on.
enum SwiftNames {
    static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout",
        "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public", "rethrows", "static",
        "struct", "subscript", "typealias", "var", "break", "case", "catch", "continue", "default", "defer", "do",
        "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "throw", "switch", "where", "while",
        "Any", "as", "await", "false", "is", "nil", "self", "Self", "super", "throws", "true", "try", "Type",
        "Protocol", "some", "any", "borrowing", "consuming", "package",
    ]

    /// Type names the generated code uses unqualified; an IDL type spelled the
    /// same gets a trailing underscore so the generated code keeps meaning what it says.
    static let reservedTypeNames: Set<String> = [
        "Bool", "Int", "Int8", "Int16", "Int32", "Int64", "UInt8", "Double", "String", "Set", "Array", "Dictionary",
        "Optional", "Error", "Sendable", "Hashable", "Equatable", "Never", "Void", "Any", "AnyObject", "Self", "Type",
        "Protocol", "RawRepresentable", "CustomStringConvertible", "Reader", "Writer", "Transport",
        "ThriftUUID", "ThriftError", "ThriftType", "ThriftElement", "ThriftDecodable", "ThriftEncodable",
        "ThriftCodable", "ThriftMessageBody", "ThriftProtocolReader", "ThriftProtocolWriter", "MethodDescriptor",
        "RPCMethod", "ServiceDefinition", "ServerContext", "ServerResponse", "ClientTransport", "CallOptions",
        "RPCError", "IncomingMessage", "Method", "ServiceProtocol", "Client", "ClientProtocol",
    ]

    /// `name` as a Swift identifier, backticked if it is a keyword.
    static func escaped(_ name: String) -> String { keywords.contains(name) ? "`\(name)`" : name }

    /// `name` as an argument label in a call, where only these keywords need backticks.
    static func label(_ name: String) -> String { ["inout", "var", "let"].contains(name) ? "`\(name)`" : name }

    static func typeName(_ name: String) -> String { reservedTypeNames.contains(name) ? name + "_" : name }

    static func upperFirst(_ name: String) -> String {
        guard let first = name.first else { return name }
        return first.uppercased() + name.dropFirst()
    }

    /// `user_id` → `userId`, `NOT_FOUND` → `notFound`, `URLPath` → `urlPath`;
    /// camelCase names stay as they are.
    static func lowerCamel(_ name: String) -> String {
        let leading = name.prefix { $0 == "_" }
        let body = name.dropFirst(leading.count)
        guard !body.isEmpty else { return name }
        let isAllCaps = body.allSatisfy { !$0.isLowercase }
        if body.contains("_") || isAllCaps {
            let parts = body.split(separator: "_")
            var result = ""
            for (index, part) in parts.enumerated() {
                let partIsCaps = part.allSatisfy { !$0.isLowercase }
                if index == 0 {
                    result += partIsCaps ? part.lowercased() : lowerLeading(part)
                } else {
                    result += partIsCaps ? part.prefix(1).uppercased() + part.dropFirst().lowercased() : upperFirst(String(part))
                }
            }
            return leading + (result.isEmpty ? String(body) : result)
        }
        return leading + lowerLeading(body)
    }

    /// Lowercases a leading run of capitals, keeping the last one when it starts the next word.
    private static func lowerLeading(_ word: Substring) -> String {
        let characters = Array(word)
        var upperCount = 0
        while upperCount < characters.count, characters[upperCount].isUppercase { upperCount += 1 }
        if upperCount == 0 { return String(word) }
        if upperCount > 1, upperCount < characters.count, characters[upperCount].isLowercase { upperCount -= 1 }
        return characters[..<upperCount].map { $0.lowercased() }.joined() + String(characters[upperCount...])
    }

    /// Member names for one scope: converted, unless converting makes two
    /// collide, and clear of the names in `taken` (which get a trailing underscore).
    static func members(_ names: [String], avoiding taken: Set<String> = []) -> [String] {
        let converted = names.map(lowerCamel)
        var counts: [String: Int] = [:]
        for name in converted { counts[name, default: 0] += 1 }
        var used: Set<String> = []
        return zip(names, converted).map { original, candidate in
            var name = counts[candidate, default: 0] > 1 ? original : candidate
            if name == "self" { name = "self_" }
            while taken.contains(name) || used.contains(name) { name += "_" }
            used.insert(name)
            return name
        }
    }

    /// A Swift string literal holding `text`.
    static func stringLiteral(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\0": result += "\\0"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    result += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    /// `///` lines for an IDL doc comment.
    static func docLines(_ doc: String?) -> [String] {
        guard let doc, !doc.isEmpty else { return [] }
        return doc.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "///" : "/// \($0)" }
    }
}
