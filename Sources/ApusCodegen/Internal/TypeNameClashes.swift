import ApusIDL

/// Finds two IDL definitions that would become one Swift type name. IDL names
/// are scoped by file (`a.Item`, `b.Item`), Swift names by module; generated
/// code drops the file prefix, so two such types would silently become one (or
/// an ambiguous name). Checked before anything is generated.
struct TypeNameClashes {
    let program: IDLProgram

    /// A definition that declares a Swift type.
    private struct Declared {
        var path: String
        var definition: Definition
        var swiftName: String
        /// The view type generated beside a struct (`FooView`), not the struct itself.
        var isView = false

        func isSame(as other: Declared) -> Bool {
            other.path == path && other.definition.name == definition.name && other.isView == isView
        }
        var what: String {
            if isView { return "the view \(swiftName) of \(definition.name)" }
            return switch definition {
            case .struct(let structure): "\(structure.kind.rawValue) \(definition.name)"
            case .enum: "enum \(definition.name)"
            case .typedef: "typedef \(definition.name)"
            case .service: "service \(definition.name)"
            case .const: "const \(definition.name)"
            }
        }
    }

    static let advice =
        "rename one, or give one file its own `namespace swift Module` and generate it into another target"

    /// Throws for the first clash among the files compiled into one module, then
    /// for the first reference in a file of `roots` whose Swift name means two types there.
    func check(_ roots: [String]) throws(CodegenError) {
        try checkModules()
        for root in roots { try checkReferences(from: root) }
    }

    /// `namespace swift X` names an IDL file's module; a file without one
    /// compiles into whichever module includes or generates it.
    private func module(_ path: String) -> String? {
        program.file(path)?.document.namespaces.last { $0.scope == "swift" }?.name
    }

    private func sameModule(_ first: String, _ second: String) -> Bool {
        let (a, b) = (module(first), module(second))
        return a == nil || b == nil || a == b
    }

    private func declared(in path: String) -> [Declared] {
        guard let file = program.file(path) else { return [] }
        return file.document.definitions.flatMap { definition -> [Declared] in
            if case .const = definition { return [] }
            let declared = Declared(path: path, definition: definition, swiftName: SwiftNames.typeName(definition.name))
            guard case .struct(let structure) = definition, structure.kind != .union else { return [declared] }
            return [declared, Declared(path: path, definition: definition, swiftName: Emitter.viewName(declared.swiftName), isView: true)]
        }
    }

    /// Two definitions in files of one module with one Swift name (`a.Item` and
    /// `b.Item`, or `Error` renamed to `Error_` next to an `Error_`).
    private func checkModules() throws(CodegenError) {
        var seen: [String: [Declared]] = [:]
        for path in program.files.keys.sorted() {
            for declared in declared(in: path) {
                if let earlier = seen[declared.swiftName]?.first(where: { sameModule($0.path, path) }) {
                    let scope = module(path).map { "module \($0)" } ?? "one module"
                    throw CodegenError(
                        "\(declared.what) and \(earlier.what) at \(earlier.definition.location) are both the Swift type "
                            + "\(declared.swiftName) in \(scope) (files with the same `namespace swift`, or none, compile "
                            + "into one module); \(Self.advice)",
                        location: declared.definition.location.description
                    )
                }
                seen[declared.swiftName, default: []].append(declared)
            }
        }
    }

    /// A type `root` names whose Swift name is also another type visible to
    /// `root`'s generated code: one of its module, or of a module it imports.
    private func checkReferences(from root: String) throws(CodegenError) {
        guard let file = program.file(root) else { return }
        var visible: [String: [Declared]] = [:]
        let paths = Set(program.files.keys.filter { sameModule(root, $0) }).union(file.includes.values)
        for path in paths.sorted() {
            for declared in declared(in: path) { visible[declared.swiftName, default: []].append(declared) }
        }
        for (name, location) in Self.references(in: file.document) {
            guard let found = program.definition(named: name, from: root) else { continue }
            // A type of the root's own module shadows imported ones; clashes within the module were checked above.
            if sameModule(root, found.file.path) { continue }
            let target = Declared(path: found.file.path, definition: found.value, swiftName: SwiftNames.typeName(found.value.name))
            guard let other = visible[target.swiftName]?.first(where: { !target.isSame(as: $0) }) else { continue }
            throw CodegenError(
                "\(name) (\(target.what) at \(target.definition.location)) and \(other.what) at \(other.definition.location) "
                    + "are both the Swift type \(target.swiftName) in the code generated from \(root); \(Self.advice)",
                location: location.description
            )
        }
    }

    /// Every type name `document` spells, with where.
    static func references(in document: IDLDocument) -> [(String, SourceLocation)] {
        var found: [(String, SourceLocation)] = []
        func visit(_ type: TypeReference?) {
            switch type {
            case .named(let name, let location): found.append((name, location))
            case .list(let element), .set(let element): visit(element)
            case .map(let key, let value):
                visit(key)
                visit(value)
            default: break
            }
        }
        for definition in document.definitions {
            switch definition {
            case .struct(let structure): structure.fields.forEach { visit($0.type) }
            case .typedef(let typedef): visit(typedef.type)
            case .const(let const): visit(const.type)
            case .enum: break
            case .service(let service):
                if let base = service.extends, let location = service.extendsLocation { found.append((base, location)) }
                for function in service.functions {
                    visit(function.returnType)
                    (function.parameters + function.exceptions).forEach { visit($0.type) }
                }
            }
        }
        return found
    }
}
