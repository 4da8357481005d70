struct Token: Sendable {
    enum Kind: Hashable, Sendable {
        case identifier(String)
        case integer(Int64)
        case double(Double)
        case string(String)
        /// One of `{ } ( ) [ ] < > , ; : = *`.
        case symbol(UInt8)
        case end
    }

    var kind: Kind
    var location: SourceLocation
    /// The `/** */` comment just before this token, if any.
    var doc: String?

    var identifier: String? {
        if case .identifier(let name) = kind { return name }
        return nil
    }

    func isSymbol(_ symbol: UInt8) -> Bool { kind == .symbol(symbol) }

    func isKeyword(_ keyword: String) -> Bool { kind == .identifier(keyword) }

    /// How the token reads in an error message.
    var quoted: String {
        switch kind {
        case .identifier(let name): "'\(name)'"
        case .integer(let value): "'\(value)'"
        case .double(let value): "'\(value)'"
        case .string(let value): "string \"\(value.prefix(40))\""
        case .symbol(let byte): "'\(Character(Unicode.Scalar(byte)))'"
        case .end: "end of file"
        }
    }
}
