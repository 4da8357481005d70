import ApusIDL

/// Encode and decode bodies, written against ApusThrift's reader and writer
/// directly so each protocol specializes them (no reflection, no existentials).
extension Emitter {
    /// Lines writing `value` (a non-optional expression of `type`).
    func encodeLines(_ type: TypeReference, _ path: String, value: String, depth: Int = 0) throws(CodegenError) -> [String] {
        let (resolved, resolvedPath) = underlying(type, path)
        switch resolved {
        case .structure: return ["try \(value).encode(to: &writer)"]
        case .enumeration: return ["try writer.writeI32(\(value).rawValue)"]
        case .base(let base):
            switch base {
            case .bool: return ["try writer.writeBool(\(value))"]
            case .i8: return ["try writer.writeI8(\(value))"]
            case .i16: return ["try writer.writeI16(\(value))"]
            case .i32: return ["try writer.writeI32(\(value))"]
            case .i64: return ["try writer.writeI64(\(value))"]
            case .double: return ["try writer.writeDouble(\(value))"]
            case .string: return ["try writer.writeString(\(value))"]
            case .binary: return ["try writer.writeBinary(\(value))"]
            case .uuid: return ["try writer.writeUUID(\(value))"]
            case .list(let element), .set(let element):
                let isList = if case .list = base { true } else { false }
                if isElement(element, resolvedPath) { return ["try writer.write\(isList ? "List" : "Set")(\(value))"] }
                let name = "element\(depth)"
                return [
                    "try writer.write\(isList ? "List" : "Set")Begin(\(wireType(element, resolvedPath)), count: \(value).count)",
                    "for \(name) in \(value) {",
                ]
                    + (try encodeLines(element, resolvedPath, value: name, depth: depth + 1)).map { "    " + $0 } + ["}"]
            case .map(let key, let mapped):
                if isElement(key, resolvedPath), isElement(mapped, resolvedPath) { return ["try writer.writeMap(\(value))"] }
                let (keyName, valueName) = ("key\(depth)", "value\(depth)")
                return [
                    "try writer.writeMapBegin(keyType: \(wireType(key, resolvedPath)), valueType: \(wireType(mapped, resolvedPath)), count: \(value).count)",
                    "for (\(keyName), \(valueName)) in \(value) {",
                ] + (try encodeLines(key, resolvedPath, value: keyName, depth: depth + 1)).map { "    " + $0 }
                    + (try encodeLines(mapped, resolvedPath, value: valueName, depth: depth + 1)).map { "    " + $0 } + ["}"]
            case .named(let name, let location):
                throw CodegenError("unknown type '\(name)'", location: location.description)
            }
        }
    }

    /// Lines reading a `type` and handing the value to `assign`.
    func decodeLines(
        _ type: TypeReference, _ path: String, depth: Int = 0, assign: (String) -> String
    ) throws(CodegenError) -> [String] {
        let (resolved, resolvedPath) = underlying(type, path)
        switch resolved {
        case .structure: return [assign("try \(try swiftType(type, path))(from: &reader)")]
        case .enumeration: return [assign("\(try swiftType(type, path))(rawValue: try reader.readI32())")]
        case .base(let base):
            switch base {
            case .bool: return [assign("try reader.readBool()")]
            case .i8: return [assign("try reader.readI8()")]
            case .i16: return [assign("try reader.readI16()")]
            case .i32: return [assign("try reader.readI32()")]
            case .i64: return [assign("try reader.readI64()")]
            case .double: return [assign("try reader.readDouble()")]
            case .string: return [assign("try reader.readString()")]
            case .binary: return [assign("try reader.readBinary().bytes")]
            case .uuid: return [assign("try reader.readUUID()")]
            case .list(let element), .set(let element):
                let isList = if case .list = base { true } else { false }
                let kind = isList ? "List" : "Set"
                let elementType = try swiftType(element, resolvedPath)
                if isElement(element, resolvedPath) {
                    return [
                        assign(isList ? "try reader.readList(of: \(elementType).self)" : "Set(try reader.readSet(of: \(elementType).self))")
                    ]
                }
                let (header, collection) = ("header\(depth)", "\(isList ? "list" : "set")\(depth)")
                let expected = wireType(element, resolvedPath)
                return [
                    "let \(header) = try reader.read\(kind)Begin()",
                    "guard \(header).count == 0 || \(header).elementType == \(expected) else {",
                    "    throw reader.error(.invalidType, fieldID: nil, detail: \"\(kind.lowercased()) holds \\(\(header).elementType), expected \(expected.dropFirst())\")",
                    "}",
                    "var \(collection): \(try swiftType(base, resolvedPath)) = []",
                    "\(collection).reserveCapacity(\(header).count)",
                    "for _ in 0..<\(header).count {",
                ]
                    + (try decodeLines(element, resolvedPath, depth: depth + 1) { "\(collection).\(isList ? "append" : "insert")(\($0))" })
                    .map { "    " + $0 }
                    + ["}", "reader.read\(kind)End()", assign(collection)]
            case .map(let key, let mapped):
                if isElement(key, resolvedPath), isElement(mapped, resolvedPath) {
                    return [
                        assign(
                            "try reader.readMap(of: \(try swiftType(key, resolvedPath)).self, \(try swiftType(mapped, resolvedPath)).self)")
                    ]
                }
                let (header, map) = ("header\(depth)", "map\(depth)")
                let (keyType, valueType) = (wireType(key, resolvedPath), wireType(mapped, resolvedPath))
                return [
                    "let \(header) = try reader.readMapBegin()",
                    "guard \(header).count == 0 || (\(header).keyType == \(keyType) && \(header).valueType == \(valueType)) else {",
                    "    throw reader.error(.invalidType, fieldID: nil, detail: \"map holds \\(\(header).keyType) to \\(\(header).valueType), expected \(keyType.dropFirst()) to \(valueType.dropFirst())\")",
                    "}",
                    "var \(map): \(try swiftType(base, resolvedPath)) = [:]",
                    "\(map).reserveCapacity(\(header).count)",
                    "for _ in 0..<\(header).count {",
                ] + (try decodeLines(key, resolvedPath, depth: depth + 1) { "let key\(depth) = \($0)" }).map { "    " + $0 }
                    + (try decodeLines(mapped, resolvedPath, depth: depth + 1) { "\(map)[key\(depth)] = \($0)" }).map { "    " + $0 }
                    + ["}", "reader.readMapEnd()", assign(map)]
            case .named(let name, let location):
                throw CodegenError("unknown type '\(name)'", location: location.description)
            }
        }
    }

    /// A struct's (or exception's, or argument/result struct's) stored
    /// properties, memberwise init, and Thrift encode/decode.
    struct StructShape {
        var name: String
        /// What errors call it: `Item`, `KV.GetArgs`.
        var displayName: String
        var doc: String?
        var fields: [FieldModel]
        /// Nested argument and result structs keep one-field inits on one line and
        /// declare their conformances on the struct rather than in an extension.
        var isNested: Bool
        var isException: Bool
    }

    func emitStruct(_ shape: StructShape, into writer: inout CodeWriter) throws(CodegenError) {
        writer.lines(SwiftNames.docLines(shape.doc))
        let conformances =
            shape.isNested ? "ThriftMessageBody, ThriftDecodable" : (shape.isException ? "Error, " : "") + "Sendable, Hashable"
        try writer.block("\(access)struct \(shape.name): \(conformances) {") { (writer) throws(CodegenError) in
            for field in shape.fields {
                writer.lines(SwiftNames.docLines(field.field.doc))
                writer.line("\(access)var \(field.ident): \(field.declaredType)")
            }
            if !shape.fields.isEmpty { writer.line() }
            let parameters = shape.fields.map { "\($0.ident): \($0.declaredType) = \($0.initialValue)" }.joined(separator: ", ")
            if shape.fields.isEmpty {
                writer.line("\(access)init() {}")
            } else if shape.isNested, shape.fields.count == 1 {
                writer.line("\(access)init(\(parameters)) { self.\(shape.fields[0].ident) = \(shape.fields[0].ident) }")
            } else {
                try writer.block("\(access)init(\(parameters)) {") { (writer) throws(CodegenError) in
                    for field in shape.fields { writer.line("self.\(field.ident) = \(field.ident)") }
                }
            }
            if shape.isNested {
                writer.line()
                try emitCodec(shape, into: &writer)
            }
        }
        if !shape.isNested {
            writer.line()
            try writer.block("extension \(shape.name): ThriftMessageBody, ThriftDecodable, ThriftElement {") {
                (writer) throws(CodegenError) in
                try emitCodec(shape, into: &writer)
                writer.line()
                try emitReusingDecode(shape, into: &writer)
            }
        }
    }

    /// How `decode(from:)` reads a field into the value it replaces.
    private enum Reuse {
        /// Assigned a new value (scalars, strings, unions, nested containers).
        case assign
        /// A list, set or map of elements: refilled in place.
        case container(kind: String)
        /// A struct or exception: decoded into in place.
        case structure
    }

    private func reuse(of field: FieldModel) -> Reuse {
        switch underlying(field.field.type, field.path) {
        case (.structure(let structure), _) where structure.kind != .union: return .structure
        case (.base(.list(let element)), let path) where isElement(element, path): return .container(kind: "List")
        case (.base(.set(let element)), let path) where isElement(element, path): return .container(kind: "Set")
        case (.base(.map(let key, let value)), let path) where isElement(key, path) && isElement(value, path):
            return .container(kind: "Map")
        default: return .assign
        }
    }

    /// `decode(from:)`: the struct read into an existing value, its containers' storage kept
    /// (`ThriftDecodable.decode(from:)`). Containers and structs are reset at the end when the
    /// input lacked them, so that a container kept for the next message is not emptied first.
    private func emitReusingDecode(_ shape: StructShape, into writer: inout CodeWriter) throws(CodegenError) {
        writer.line("/// Reads a value into this one, keeping the storage of its lists, sets and maps for the")
        writer.line("/// new contents (`ThriftDecodable.decode(from:)`).")
        writer.lines(inlinable)
        try writer.block("\(access)mutating func decode<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {") {
            (writer) throws(CodegenError) in
            let fields = shape.fields.map { ($0, reuse(of: $0)) }
            // Reset now: assigned fields, and non-optional containers whose default is empty.
            var tracked: [FieldModel] = []
            for (field, reuse) in fields {
                switch reuse {
                case .container where !field.isOptional && (field.initialValue == "[]" || field.initialValue == "[:]"):
                    writer.line("\(field.access).removeAll(keepingCapacity: true)")
                case .container, .structure:
                    tracked.append(field)
                case .assign:
                    writer.line("\(field.access) = \(field.initialValue)")
                }
            }
            let seen = FieldFlags(name: "seen", fields: tracked)
            let isSet = FieldFlags(name: "isSet", fields: shape.fields.filter(\.isRequired))
            writer.lines([seen.declaration, isSet.declaration].compactMap { $0 })
            try emitReadLoop(into: &writer) { writer in
                for field in tracked {
                    writer.line("if !\(seen.flag(field)) { \(field.access) = \(field.initialValue) }")
                }
                writer.lines(requiredChecks(isSet, displayName: shape.displayName))
                writer.line("return")
            } cases: { (writer) throws(CodegenError) in
                for (field, reuse) in fields {
                    let flags = [isSet, seen].filter { $0.contains(field) }.map { "\($0.flag(field)) = true" }
                    let lines: [String]
                    switch reuse {
                    case .assign:
                        lines = try decodeLines(field.field.type, field.path) { "\(field.access) = \($0)" }
                    case .container(let kind):
                        let empty = kind == "Map" ? "[:]" : "[]"
                        lines = field.isOptional
                            ? ["if \(field.access) == nil { \(field.access) = \(empty) }",
                               "try reader.read\(kind)(into: &\(field.access)!)"]
                            : ["try reader.read\(kind)(into: &\(field.access))"]
                    case .structure:
                        let type = try swiftType(field.field.type, field.path)
                        lines = field.isOptional
                            ? ["if \(field.access) == nil { \(field.access) = try \(type)(from: &reader) } else { try \(field.access)!.decode(from: &reader) }"]
                            : ["try \(field.access).decode(from: &reader)"]
                    }
                    emitCase(field, lines: lines, flag: flags.isEmpty ? nil : flags.joined(separator: "; "), into: &writer)
                }
            }
        }
    }

    private func emitCodec(_ shape: StructShape, into writer: inout CodeWriter) throws(CodegenError) {
        let fields = shape.fields.map { field in
            CodecField(model: field, isOptional: field.isOptional,
                       encode: { (value) throws(CodegenError) in try encodeLines(field.field.type, field.path, value: value) },
                       decode: { (assign) throws(CodegenError) in try decodeLines(field.field.type, field.path, assign: assign) })
        }
        try emitCodecBodies(fields, displayName: shape.displayName, into: &writer)
    }

    /// A field as a codec writes and reads it: how it is held and the lines for its value.
    struct CodecField {
        var model: FieldModel
        /// Held as a Swift Optional: written only when set.
        var isOptional: Bool
        var encode: (_ value: String) throws(CodegenError) -> [String]
        var decode: (_ assign: (String) -> String) throws(CodegenError) -> [String]
    }

    /// `encode(to:)` and `init(from:)` over `fields` (an owned struct's, or a view's).
    func emitCodecBodies(_ fields: [CodecField], displayName: String, into writer: inout CodeWriter) throws(CodegenError) {
        writer.lines(inlinable)
        try writer.block("\(access)func encode<Writer: ThriftProtocolWriter>(to writer: inout Writer) throws(ThriftError) {") {
            (writer) throws(CodegenError) in
            writer.line("let token = writer.writeStructBegin()")
            for codecField in fields {
                let field = codecField.model
                let begin = "try writer.writeFieldBegin(\(wireType(field.field.type, field.path)), id: \(field.field.id))"
                if codecField.isOptional {
                    let binding = Self.shadowed(field.name) ? "let value = \(field.access)" : "let \(field.ident)"
                    let value = Self.shadowed(field.name) ? "value" : field.ident
                    try writer.block("if \(binding) {") { (writer) throws(CodegenError) in
                        writer.line(begin)
                        writer.lines(try codecField.encode(value))
                    }
                } else {
                    writer.line(begin)
                    writer.lines(try codecField.encode(field.access))
                }
            }
            writer.line("try writer.writeFieldStop()")
            writer.line("writer.writeStructEnd(token)")
        }
        writer.line()
        writer.lines(inlinable)
        try writer.block("\(access)init<Reader: ThriftProtocolReader>(from reader: inout Reader) throws(ThriftError) {") {
            (writer) throws(CodegenError) in
            writer.line("self.init()")
            let isSet = FieldFlags(name: "isSet", fields: fields.map(\.model).filter(\.isRequired))
            if let declaration = isSet.declaration { writer.line(declaration) }
            try emitReadLoop(into: &writer) { writer in
                writer.lines(requiredChecks(isSet, displayName: displayName))
                writer.line("return")
            } cases: { (writer) throws(CodegenError) in
                for codecField in fields {
                    let field = codecField.model
                    let flag = isSet.contains(field) ? "\(isSet.flag(field)) = true" : nil
                    let lines = try codecField.decode { "\(field.access) = \($0)" }
                    emitCase(field, lines: lines, flag: flag, into: &writer)
                }
            }
        }
    }

    /// A `Bool` per field in one local of a decoder (`isSet`, `seen`): a `Bool` for one field, a
    /// labelled tuple for more, nothing for none.
    struct FieldFlags {
        var name: String
        var fields: [FieldModel]

        var declaration: String? {
            switch fields.count {
            case 0: return nil
            case 1: return "var \(name) = false"
            default:
                let labels = fields.map { "\($0.ident): Bool" }.joined(separator: ", ")
                return "var \(name): (\(labels)) = (\(fields.map { _ in "false" }.joined(separator: ", ")))"
            }
        }

        func contains(_ field: FieldModel) -> Bool { fields.contains { $0.field.id == field.field.id } }
        func flag(_ field: FieldModel) -> String { fields.count == 1 ? name : "\(name).\(field.ident)" }
    }

    /// At the stop field: a required field the input lacked is an error.
    func requiredChecks(_ isSet: FieldFlags, displayName: String) -> [String] {
        isSet.fields.map { field in
            let detail = SwiftNames.stringLiteral("\(displayName).\(field.field.name) is required")
            return "guard \(isSet.flag(field)) else { throw reader.error(.missingRequiredField, fieldID: \(field.field.id), detail: \(detail)) }"
        }
    }

    /// The field loop every decoder shares; `stop` runs at the stop field, `cases` adds the field cases.
    func emitReadLoop(
        into writer: inout CodeWriter, stop: (inout CodeWriter) -> Void, cases: (inout CodeWriter) throws(CodegenError) -> Void
    ) throws(CodegenError) {
        writer.line("let token = try reader.readStructBegin()")
        try writer.block("while true {") { (writer) throws(CodegenError) in
            writer.line("let field = try reader.readFieldBegin()")
            writer.line("switch (field.id, field.type) {")
            writer.line("case (_, .stop):")
            writer.indent()
            writer.line("reader.readStructEnd(token)")
            stop(&writer)
            writer.dedent()
            try cases(&writer)
            writer.line("default: try reader.skip(field.type)")
            writer.line("}")
        }
    }

    func emitCase(_ field: FieldModel, flag: String?, into writer: inout CodeWriter, assign: (String) -> String) throws(CodegenError) {
        emitCase(field, lines: try decodeLines(field.field.type, field.path, assign: assign), flag: flag, into: &writer)
    }

    /// One field's case of the read loop: `lines` read it, `flag` marks a required one as seen.
    func emitCase(_ field: FieldModel, lines: [String], flag: String?, into writer: inout CodeWriter) {
        let label = "case (\(field.field.id), \(wireType(field.field.type, field.path))):"
        if lines.count == 1 {
            writer.line("\(label) \(lines[0])\(flag.map { "; \($0)" } ?? "")")
        } else {
            writer.line(label)
            writer.indent()
            writer.lines(lines)
            if let flag { writer.line(flag) }
            writer.dedent()
        }
    }

    func emitTopLevelStruct(_ structure: StructDefinition, into writer: inout CodeWriter) throws(CodegenError) {
        try checkNotSelfContaining(structure)
        let name = SwiftNames.typeName(structure.name)
        let fields = try fieldModels(structure.fields, path: file.path)
        try emitStruct(
            StructShape(
                name: name, displayName: name, doc: structure.doc, fields: fields, isNested: false,
                isException: structure.kind == .exception),
            into: &writer
        )
        writer.line()
        try emitView(of: name, displayName: name, models: fields, into: &writer)
    }
}
