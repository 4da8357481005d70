/// A set of IDL files with their includes loaded and every name checked:
/// what the generator works from.
public struct IDLProgram: Sendable {
    public struct File: Sendable {
        public var path: String
        public var document: IDLDocument
        /// Include prefix (the included file's base name, `shared` for `shared.thrift`) → its path.
        public var includes: [String: String]
        /// The file's base name without `.thrift`.
        public var baseName: String { Self.baseName(of: path) }

        static func baseName(of path: String) -> String {
            let name = path.split(separator: "/").last.map(String.init) ?? path
            return name.hasSuffix(".thrift") ? String(name.dropLast(7)) : name
        }
    }

    /// A definition found by name, with the file it lives in.
    public struct Resolved<Value: Sendable>: Sendable {
        public var file: File
        public var value: Value

        public init(file: File, value: Value) {
            self.file = file
            self.value = value
        }
    }

    /// What an identifier in a constant refers to.
    public enum ConstantReference: Sendable {
        case const(Resolved<ConstDefinition>)
        case enumValue(Resolved<EnumDefinition>, EnumDefinition.Value)
    }

    /// Every loaded file by path, roots and includes alike.
    public var files: [String: File]
    /// The files named on the command line, in order.
    public var roots: [String]
    public var warnings: [Diagnostic]

    public func file(_ path: String) -> File? { files[path] }

    /// The definition `name` (`Item` or `shared.Item`) refers to from `path`.
    public func definition(named name: String, from path: String) -> Resolved<Definition>? {
        guard let file = files[path] else { return nil }
        if let local = file.document.definitions.first(where: { $0.name == name }) {
            return Resolved(file: file, value: local)
        }
        guard let dot = name.firstIndex(of: ".") else { return nil }
        let prefix = String(name[..<dot])
        let rest = String(name[name.index(after: dot)...])
        guard let includedPath = file.includes[prefix], let included = files[includedPath], !rest.contains(".") else {
            return nil
        }
        return included.document.definitions.first { $0.name == rest }.map { Resolved(file: included, value: $0) }
    }

    /// Follows typedefs (across files) to the type a value has on the wire,
    /// and says which file the result's names belong to.
    public func underlyingType(_ type: TypeReference, from path: String) -> (type: TypeReference, path: String) {
        var type = type
        var path = path
        for _ in 0..<64 {
            guard case .named(let name, _) = type, let found = definition(named: name, from: path),
                case .typedef(let typedef) = found.value
            else { break }
            type = typedef.type
            path = found.file.path
        }
        return (type, path)
    }

    /// The const or enum value an identifier names: `MAX`, `Color.RED`,
    /// `shared.MAX`, `shared.Color.RED`, or a bare `RED` where an enum is expected.
    public func constant(
        named name: String, from path: String, expecting enumType: Resolved<EnumDefinition>? = nil
    )
        -> ConstantReference?
    {
        if let found = definition(named: name, from: path), case .const(let const) = found.value {
            return .const(Resolved(file: found.file, value: const))
        }
        if let enumType, let value = enumType.value.values.first(where: { $0.name == name }) {
            return .enumValue(enumType, value)
        }
        guard let dot = name.lastIndex(of: ".") else { return nil }
        let owner = String(name[..<dot])
        let member = String(name[name.index(after: dot)...])
        guard let found = definition(named: owner, from: path), case .enum(let enumeration) = found.value,
            let value = enumeration.values.first(where: { $0.name == member })
        else { return nil }
        return .enumValue(Resolved(file: found.file, value: enumeration), value)
    }
}
