/// Checks a loaded program: every name resolves to the right kind of
/// thing, ids and names are unique, constants fit their types.
struct Resolver {
    let program: IDLProgram
    let sources: [String: String]
    private(set) var diagnostics: [Diagnostic] = []

    init(program: IDLProgram, sources: [String: String]) {
        self.program = program
        self.sources = sources
    }

    mutating func check() {
        for path in program.files.keys.sorted() {
            guard let file = program.files[path] else { continue }
            check(file)
        }
    }

    private mutating func report(_ severity: Diagnostic.Severity, _ message: String, at location: SourceLocation) {
        diagnostics.append(
            Diagnostic(severity, message, at: location, sourceLine: IDLLoader.line(location.line, of: sources[location.file])))
    }

    private mutating func check(_ file: IDLProgram.File) {
        var seen: [String: SourceLocation] = [:]
        for definition in file.document.definitions {
            if let earlier = seen[definition.name] {
                report(.error, "'\(definition.name)' is already defined at \(earlier)", at: definition.location)
            } else {
                seen[definition.name] = definition.location
            }
            switch definition {
            case .const(let const):
                checkType(const.type, in: file)
                checkValue(const.value, type: const.type, in: file, what: "constant \(const.name)")
            case .typedef(let typedef):
                checkType(typedef.type, in: file)
                checkTypedefCycle(typedef, in: file)
            case .enum(let enumeration):
                checkEnum(enumeration)
            case .struct(let structure):
                checkFields(structure.fields, in: file, context: "\(structure.kind.rawValue) \(structure.name)")
                if structure.kind == .union {
                    for field in structure.fields where field.requiredness == .required {
                        report(.warning, "union field '\(field.name)' cannot be required; treated as optional", at: field.location)
                    }
                }
            case .service(let service):
                checkService(service, in: file)
            }
        }
    }

    private mutating func checkEnum(_ enumeration: EnumDefinition) {
        var names: Set<String> = []
        for value in enumeration.values where !names.insert(value.name).inserted {
            report(.error, "enum \(enumeration.name) already has a value named '\(value.name)'", at: value.location)
        }
    }

    private mutating func checkTypedefCycle(_ typedef: TypedefDefinition, in file: IDLProgram.File) {
        var path = file.path
        var type = typedef.type
        var visited: Set<String> = []
        while case .named(let name, _) = type, let found = program.definition(named: name, from: path),
            case .typedef(let next) = found.value
        {
            let key = found.file.path + ":" + next.name
            if !visited.insert(key).inserted || visited.count > 64 {
                report(.error, "typedef \(typedef.name) refers to itself", at: typedef.location)
                return
            }
            type = next.type
            path = found.file.path
        }
    }

    /// Every name in `type` must be a struct, union, exception, enum or typedef.
    private mutating func checkType(_ type: TypeReference, in file: IDLProgram.File) {
        switch type {
        case .list(let element), .set(let element):
            checkType(element, in: file)
        case .map(let key, let value):
            checkType(key, in: file)
            checkType(value, in: file)
        case .named(let name, let location):
            guard let found = program.definition(named: name, from: file.path) else {
                let prefix = name.split(separator: ".").first.map(String.init) ?? name
                if name.contains("."), file.includes[prefix] == nil {
                    report(.error, "unknown type '\(name)': no included file is named '\(prefix)'", at: location)
                } else {
                    report(.error, "unknown type '\(name)'", at: location)
                }
                return
            }
            switch found.value {
            case .const: report(.error, "'\(name)' is a constant, not a type", at: location)
            case .service: report(.error, "'\(name)' is a service, not a type", at: location)
            default: break
            }
        default:
            break
        }
    }

    private mutating func checkFields(_ fields: [Field], in file: IDLProgram.File, context: String) {
        var ids: [Int16: String] = [:]
        var names: Set<String> = []
        for field in fields {
            if let other = ids[field.id] {
                report(.error, "field id \(field.id) of '\(field.name)' is already used by '\(other)' in \(context)", at: field.location)
            } else {
                ids[field.id] = field.name
            }
            if !names.insert(field.name).inserted {
                report(.error, "\(context) already has a field named '\(field.name)'", at: field.location)
            }
            checkType(field.type, in: file)
            if let value = field.defaultValue {
                checkValue(value, type: field.type, in: file, what: "the default of \(field.name)")
            }
        }
    }

    private mutating func checkService(_ service: ServiceDefinition, in file: IDLProgram.File) {
        if let base = service.extends, let location = service.extendsLocation {
            if let found = program.definition(named: base, from: file.path) {
                if case .service = found.value {
                } else {
                    report(.error, "'\(base)' is not a service", at: location)
                }
                var seen: Set<String> = [file.path + ":" + service.name]
                var current = found
                while case .service(let next) = current.value, let nextBase = next.extends,
                    let nextFound = program.definition(named: nextBase, from: current.file.path)
                {
                    if !seen.insert(current.file.path + ":" + next.name).inserted || seen.count > 64 {
                        report(.error, "service \(service.name) extends itself", at: location)
                        break
                    }
                    current = nextFound
                }
            } else {
                report(.error, "unknown service '\(base)'", at: location)
            }
        }
        var names: Set<String> = []
        for function in service.functions {
            let context = "\(service.name).\(function.name)"
            if !names.insert(function.name).inserted {
                report(.error, "service \(service.name) already has a function named '\(function.name)'", at: function.location)
            }
            if let returnType = function.returnType { checkType(returnType, in: file) }
            checkFields(function.parameters, in: file, context: "the arguments of \(context)")
            // Apache's compiler ignores `optional` here (the argument is opt-in, req-out), and so does Apus;
            // `required` holds.
            for parameter in function.parameters where parameter.requiredness == .optional {
                report(.warning, "optional keyword is ignored in argument lists (argument '\(parameter.name)' of \(context))",
                       at: parameter.location)
            }
            checkFields(function.exceptions, in: file, context: "the exceptions of \(context)")
            if function.isOneway {
                if function.returnType != nil {
                    report(.error, "oneway function \(context) must return void", at: function.location)
                }
                if !function.exceptions.isEmpty {
                    report(.error, "oneway function \(context) cannot throw exceptions", at: function.location)
                }
            }
            for exception in function.exceptions {
                let (type, path) = program.underlyingType(exception.type, from: file.path)
                guard case .named(let name, _) = type, let found = program.definition(named: name, from: path) else {
                    report(.error, "'\(exception.name)' in the throws of \(context) must be an exception", at: exception.location)
                    continue
                }
                if case .struct(let structure) = found.value, structure.kind == .exception { continue }
                report(.error, "'\(exception.type.idlName)' in the throws of \(context) is not an exception", at: exception.location)
            }
        }
    }

    // MARK: Constants

    private mutating func checkValue(_ value: ConstValue, type: TypeReference, in file: IDLProgram.File, what: String) {
        let (type, typePath) = program.underlyingType(type, from: file.path)
        func mismatch(_ expected: String) -> String { "\(what): expected \(expected)" }
        if case .identifier(let name) = value.kind {
            var enumType: IDLProgram.Resolved<EnumDefinition>?
            if case .named(let typeName, _) = type, let found = program.definition(named: typeName, from: typePath),
                case .enum(let enumeration) = found.value
            {
                enumType = IDLProgram.Resolved(file: found.file, value: enumeration)
            }
            switch program.constant(named: name, from: file.path, expecting: enumType) {
            case nil:
                report(.error, "\(what): unknown constant or enum value '\(name)'", at: value.location)
            case .enumValue(let owner, _):
                if let enumType, enumType.value.name != owner.value.name || enumType.file.path != owner.file.path {
                    report(.error, mismatch("a value of enum \(enumType.value.name), found one of \(owner.value.name)"), at: value.location)
                } else if enumType == nil, !type.isInteger {
                    report(.error, mismatch(type.idlName + ", found enum value '\(name)'"), at: value.location)
                }
            case .const:
                break
            }
            return
        }
        switch (type, value.kind) {
        case (.bool, .bool), (.bool, .integer(0)), (.bool, .integer(1)):
            break
        case (.i8, .integer(let number)) where Int8(exactly: number) != nil: break
        case (.i16, .integer(let number)) where Int16(exactly: number) != nil: break
        case (.i32, .integer(let number)) where Int32(exactly: number) != nil: break
        case (.i64, .integer): break
        case (.i8, .integer), (.i16, .integer), (.i32, .integer):
            report(.error, "\(what): value out of range for \(type.idlName)", at: value.location)
        case (.double, .integer), (.double, .double): break
        case (.string, .string), (.binary, .string): break
        case (.uuid, .string(let text)) where Self.isUUID(text): break
        case (.list(let element), .list(let elements)), (.set(let element), .list(let elements)):
            for item in elements { checkValue(item, type: element, in: file, what: what) }
        case (.map(let keyType, let valueType), .map(let entries)):
            for entry in entries {
                checkValue(entry.key, type: keyType, in: file, what: what)
                checkValue(entry.value, type: valueType, in: file, what: what)
            }
        case (.named(let name, _), _):
            guard let found = program.definition(named: name, from: typePath) else { return }
            switch (found.value, value.kind) {
            case (.enum, .integer(let number)) where Int32(exactly: number) != nil: break
            case (.struct(let structure), .map(let entries)):
                for entry in entries {
                    guard case .string(let fieldName) = entry.key.kind,
                        let field = structure.fields.first(where: { $0.name == fieldName })
                    else {
                        report(.error, "\(what): \(structure.name) has no field \(Self.describe(entry.key))", at: entry.key.location)
                        continue
                    }
                    if let fieldFile = program.file(found.file.path) {
                        checkValue(entry.value, type: field.type, in: fieldFile, what: what)
                    }
                }
            case (.enum, _): report(.error, mismatch("a value of enum \(name)"), at: value.location)
            case (.struct(let structure), _):
                report(.error, mismatch("a map of \(structure.name)'s field names to values"), at: value.location)
            default: break
            }
        default:
            report(.error, mismatch("a value of type \(type.idlName), found \(Self.describe(value))"), at: value.location)
        }
    }

    private static func describe(_ value: ConstValue) -> String {
        switch value.kind {
        case .integer(let number): "integer \(number)"
        case .double(let number): "number \(number)"
        case .string(let text): "string \"\(text.prefix(40))\""
        case .bool(let flag): "\(flag)"
        case .identifier(let name): "'\(name)'"
        case .list: "a list"
        case .map: "a map"
        }
    }

    static func isUUID(_ text: String) -> Bool {
        let hex = text.utf8.filter { $0 != UInt8(ascii: "-") }
        return text.utf8.count == 36 && hex.count == 32
            && hex.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 102) }
    }
}

extension TypeReference {
    var isInteger: Bool {
        switch self {
        case .i8, .i16, .i32, .i64: true
        default: false
        }
    }
}
