import ApusIDL

extension Emitter {
    /// Constants live as static lets of `<File>Constants`, one namespace per IDL file.
    static func constantsName(_ file: IDLProgram.File) -> String {
        SwiftNames.typeName(
            file.baseName.split { $0 == "_" || $0 == "-" || $0 == "." }.map { SwiftNames.upperFirst(String($0)) }.joined() + "Constants")
    }

    func emitConstants(_ consts: [ConstDefinition], into writer: inout CodeWriter) throws(CodegenError) {
        let names = SwiftNames.members(consts.map(\.name))
        writer.line("/// The constants of \(file.baseName).thrift.")
        try writer.block("\(access)enum \(Self.constantsName(file)) {") { (writer) throws(CodegenError) in
            for (index, (const, name)) in zip(consts, names).enumerated() {
                if index > 0, const.doc != nil { writer.line() }
                writer.lines(SwiftNames.docLines(const.doc))
                writer.line(
                    "\(access)static let \(SwiftNames.escaped(name)): \(try swiftType(const.type, file.path)) = \(try constant(const.value, const.type, file.path))"
                )
            }
        }
    }

    /// A Swift expression for `value` as a `type`. References to other constants
    /// are inlined so the expression has the target's type even when the
    /// referenced constant was declared with another.
    func constant(_ value: ConstValue, _ type: TypeReference, _ path: String) throws(CodegenError) -> String {
        try constant(value, type, typePath: path, valuePath: path, depth: 0)
    }

    /// `typePath` resolves the names in `type`; `valuePath` those in `value` (they
    /// differ once a reference to another file's constant is inlined).
    private func constant(
        _ value: ConstValue, _ type: TypeReference, typePath path: String, valuePath: String, depth: Int
    ) throws(CodegenError) -> String {
        guard depth < 64 else { throw CodegenError("constants refer to each other in a cycle", location: value.location.description) }
        let (resolved, resolvedPath) = underlying(type, path)
        let location = value.location.description
        if case .identifier(let name) = value.kind {
            var expected: IDLProgram.Resolved<EnumDefinition>?
            if case .enumeration(let enumeration) = resolved, let owner = program.file(resolvedPath) {
                expected = IDLProgram.Resolved(file: owner, value: enumeration)
            }
            switch program.constant(named: name, from: valuePath, expecting: expected) {
            case .const(let found):
                return try constant(found.value.value, type, typePath: path, valuePath: found.file.path, depth: depth + 1)
            case .enumValue(let owner, let member):
                if case .enumeration = resolved {
                    let index = owner.value.values.firstIndex(of: member) ?? 0
                    return "\(SwiftNames.typeName(owner.value.name)).\(SwiftNames.escaped(enumMemberNames(owner.value)[index]))"
                }
                return "\(member.value)"
            case nil:
                throw CodegenError("unknown constant '\(name)'", location: location)
            }
        }
        switch (resolved, value.kind) {
        case (.enumeration, .integer(let number)):
            return "\(try swiftType(type, path))(rawValue: \(number))"
        case (.structure(let structure), .map(let entries)):
            let typeName = try swiftType(type, path)
            let names = fieldNames(structure)
            if structure.kind == .union {
                guard entries.count == 1, case .string(let key) = entries[0].key.kind,
                    let index = structure.fields.firstIndex(where: { $0.name == key })
                else { throw CodegenError("a \(structure.name) constant sets exactly one field", location: location) }
                return
                    "\(typeName).\(SwiftNames.escaped(names[index]))(\(try constant(entries[0].value, structure.fields[index].type, typePath: resolvedPath, valuePath: valuePath, depth: depth + 1)))"
            }
            var arguments: [String] = []
            for (index, field) in structure.fields.enumerated() {
                guard let entry = entries.last(where: { $0.key.kind == .string(field.name) }) else { continue }
                arguments.append(
                    "\(SwiftNames.label(names[index])): \(try constant(entry.value, field.type, typePath: resolvedPath, valuePath: valuePath, depth: depth + 1))"
                )
            }
            return "\(typeName)(\(arguments.joined(separator: ", ")))"
        case (.base(let base), _):
            return try baseConstant(value, base, typePath: resolvedPath, valuePath: valuePath, depth: depth)
        default:
            throw CodegenError("constant does not fit \(type.idlName)", location: location)
        }
    }

    private func baseConstant(
        _ value: ConstValue, _ base: TypeReference, typePath path: String, valuePath: String, depth: Int
    ) throws(CodegenError) -> String {
        switch (base, value.kind) {
        case (.bool, .bool(let flag)): return "\(flag)"
        case (.bool, .integer(let number)): return number == 0 ? "false" : "true"
        case (.i8, .integer(let number)), (.i16, .integer(let number)), (.i32, .integer(let number)),
            (.i64, .integer(let number)), (.double, .integer(let number)):
            return "\(number)"
        case (.double, .double(let number)): return "\(number)"
        case (.string, .string(let text)): return SwiftNames.stringLiteral(text)
        case (.binary, .string(let text)): return "Array(\(SwiftNames.stringLiteral(text)).utf8)"
        case (.uuid, .string(let text)):
            let hex = text.filter { $0 != "-" }
            guard hex.count == 32, let high = UInt64(hex.prefix(16), radix: 16), let low = UInt64(hex.suffix(16), radix: 16) else {
                throw CodegenError("'\(text)' is not a UUID", location: value.location.description)
            }
            return "ThriftUUID(high: 0x\(String(high, radix: 16)), low: 0x\(String(low, radix: 16)))"
        case (.list(let element), .list(let elements)), (.set(let element), .list(let elements)):
            var items: [String] = []
            for item in elements {
                let expression = try constant(item, element, typePath: path, valuePath: valuePath, depth: depth + 1)
                // A Swift set literal traps on duplicates.
                if case .set = base, items.contains(expression) { continue }
                items.append(expression)
            }
            return "[\(items.joined(separator: ", "))]"
        case (.map(let keyType, let valueType), .map(let entries)):
            if entries.isEmpty { return "[:]" }
            // A repeated key keeps its last value, as Apache's compiler does (a Swift literal would trap).
            var keys: [String] = []
            var values: [String: String] = [:]
            for entry in entries {
                let key = try constant(entry.key, keyType, typePath: path, valuePath: valuePath, depth: depth + 1)
                if values[key] == nil { keys.append(key) }
                values[key] = try constant(entry.value, valueType, typePath: path, valuePath: valuePath, depth: depth + 1)
            }
            return "[\(keys.map { "\($0): \(values[$0]!)" }.joined(separator: ", "))]"
        default:
            throw CodegenError("constant does not fit \(base.idlName)", location: value.location.description)
        }
    }
}
