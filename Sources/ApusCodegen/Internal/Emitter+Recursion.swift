import ApusIDL

/// Swift value types cannot contain themselves. A union on a cycle is emitted
/// `indirect`, which breaks it; a cycle of structs alone is an error.
extension Emitter {
    /// The struct-like definitions a field of `type` stores inline (not inside a container).
    private func inlineTarget(_ type: TypeReference, _ path: String) -> (StructDefinition, String)? {
        if case (.structure(let structure), let owner) = underlying(type, path) { return (structure, owner) }
        return nil
    }

    /// Whether `start` can reach itself through inline fields, passing only through
    /// definitions `through` accepts.
    func reachesItself(_ start: StructDefinition, in path: String, through: (StructDefinition) -> Bool) -> Bool {
        var visited: Set<String> = []
        var stack: [(StructDefinition, String)] = [(start, path)]
        while let (definition, owner) = stack.popLast() {
            for field in definition.fields {
                guard let (target, targetPath) = inlineTarget(field.type, owner) else { continue }
                if target.name == start.name, targetPath == path { return true }
                guard through(target), visited.insert(targetPath + ":" + target.name).inserted else { continue }
                stack.append((target, targetPath))
            }
        }
        return false
    }

    func isIndirect(_ union: StructDefinition) -> Bool {
        reachesItself(union, in: file.path) { _ in true }
    }

    func checkNotSelfContaining(_ structure: StructDefinition) throws(CodegenError) {
        if reachesItself(structure, in: file.path, through: { $0.kind != .union }) {
            throw CodegenError(
                "\(structure.kind.rawValue) \(structure.name) contains itself outside a container; a Swift value type cannot (hold it in a list, or through a union)",
                location: structure.location.description
            )
        }
    }
}
