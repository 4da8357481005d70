import ApusIDL

extension Emitter {
    func enumMemberNames(_ enumeration: EnumDefinition) -> [String] {
        SwiftNames.members(enumeration.values.map(\.name), avoiding: ["rawValue", "allCases", "description", "init"])
    }

    /// Member names of a struct's fields or a union's cases. A union avoids
    /// `none` and `some`, which would read as Optional's cases where a `Union?` is assigned.
    func fieldNames(_ structure: StructDefinition) -> [String] {
        SwiftNames.members(structure.fields.map(\.name), avoiding: structure.kind == .union ? ["none", "some"] : [])
    }

    /// An enum is a struct over its `Int32` rather than a Swift enum, so a value
    /// added to the IDL later still decodes (and re-encodes) unchanged.
    func emitEnum(_ enumeration: EnumDefinition, into writer: inout CodeWriter) throws(CodegenError) {
        let name = SwiftNames.typeName(enumeration.name)
        let members = enumMemberNames(enumeration)
        writer.lines(SwiftNames.docLines(enumeration.doc))
        try writer.block("\(access)struct \(name): RawRepresentable, CaseIterable, Sendable, Hashable, CustomStringConvertible {") {
            (writer) throws(CodegenError) in
            writer.line("\(access)var rawValue: Int32")
            writer.line()
            writer.line("\(access)init(rawValue: Int32) { self.rawValue = rawValue }")
            for (index, (value, member)) in zip(enumeration.values, members).enumerated() {
                if index == 0 || value.doc != nil { writer.line() }
                writer.lines(SwiftNames.docLines(value.doc))
                writer.line("\(access)static let \(SwiftNames.escaped(member)) = \(name)(rawValue: \(value.value))")
            }
            writer.line()
            writer.line("/// The declared values, in IDL order.")
            writer.line("\(access)static let allCases: [\(name)] = [\(members.map(SwiftNames.escaped).joined(separator: ", "))]")
            writer.line()
            try writer.block("\(access)var description: String {") { (writer) throws(CodegenError) in
                writer.line("switch rawValue {")
                var seen: Set<Int32> = []
                for value in enumeration.values where seen.insert(value.value).inserted {
                    writer.line("case \(value.value): \(SwiftNames.stringLiteral(value.name))")
                }
                writer.line("default: \"\(name)(\\(rawValue))\"")
                writer.line("}")
            }
        }
        writer.line()
        try writer.block("extension \(name): ThriftElement {") { (writer) throws(CodegenError) in
            writer.line("\(inlinablePrefix)\(access)static var thriftType: ThriftType { .i32 }")
            writer.line(
                "\(inlinablePrefix)\(access)static func read<R: ThriftProtocolReader>(from reader: inout R) throws(ThriftError) -> \(name) { \(name)(rawValue: try reader.readI32()) }"
            )
            writer.line(
                "\(inlinablePrefix)\(access)func write<W: ThriftProtocolWriter>(to writer: inout W) throws(ThriftError) { try writer.writeI32(rawValue) }"
            )
        }
    }

    /// A union is a Swift enum: exactly one field is set, by construction.
    func emitUnion(_ union: StructDefinition, into writer: inout CodeWriter) throws(CodegenError) {
        let name = SwiftNames.typeName(union.name)
        let fields = try fieldModels(union.fields, path: file.path, names: fieldNames(union))
        let isRecursive = isIndirect(union)
        writer.lines(SwiftNames.docLines(union.doc))
        try writer.block("\(access)\(isRecursive ? "indirect " : "")enum \(name): Sendable, Hashable {") { (writer) throws(CodegenError) in
            for field in fields {
                writer.lines(SwiftNames.docLines(field.field.doc))
                writer.line("case \(field.ident)(\(field.swiftType))")
            }
        }
        writer.line()
        try writer.block("extension \(name): ThriftMessageBody, ThriftDecodable, ThriftElement {") { (writer) throws(CodegenError) in
            writer.lines(inlinable)
            try writer.block("\(access)func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {") {
                (writer) throws(CodegenError) in
                writer.line("let token = writer.writeStructBegin()")
                writer.line("switch self {")
                for field in fields {
                    writer.line("case .\(field.ident)(let value):")
                    writer.indent()
                    writer.line("try writer.writeFieldBegin(\(wireType(field.field.type, field.path)), id: \(field.field.id))")
                    writer.lines(try encodeLines(field.field.type, field.path, value: "value"))
                    writer.dedent()
                }
                writer.line("}")
                writer.line("try writer.writeFieldStop()")
                writer.line("writer.writeStructEnd(token)")
            }
            writer.line()
            writer.lines(inlinable)
            try writer.block("\(access)init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {") {
                (writer) throws(CodegenError) in
                writer.line("var value: \(name)?")
                try emitReadLoop(into: &writer) { writer in
                    let detail = SwiftNames.stringLiteral("\(name) has no field set")
                    writer.line("guard let value else { throw reader.error(.missingRequiredField, fieldID: nil, detail: \(detail)) }")
                    writer.line("self = value")
                    writer.line("return")
                } cases: { (writer) throws(CodegenError) in
                    for field in fields {
                        var unwrapped = field
                        unwrapped.name = "value"
                        try emitCase(unwrapped, flag: nil, into: &writer) { "value = .\(field.ident)(\($0))" }
                    }
                }
            }
        }
    }
}
