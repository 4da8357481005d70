/// One parsed IDL file, before its names are resolved.
public struct IDLDocument: Hashable, Sendable {
    public struct Include: Hashable, Sendable {
        /// As written: resolved against the including file's directory, then the search paths.
        public var path: String
        public var location: SourceLocation
    }

    public struct Namespace: Hashable, Sendable {
        /// The language (`swift`, `py`, `cpp`, ...) or `*`.
        public var scope: String
        public var name: String
        public var annotations: [Annotation]
        public var location: SourceLocation
    }

    /// Annotations written on a type rather than on a definition or field
    /// (`list<i32> (python.immutable = "")`, `i64 (js.type = "Long")`): the
    /// type as spelled, where, and its annotations. Swift generation has no
    /// use for them; they are kept for tools that do.
    public struct TypeAnnotation: Hashable, Sendable {
        public var type: TypeReference
        public var annotations: [Annotation]
        public var location: SourceLocation
    }

    public var path: String
    public var includes: [Include] = []
    public var typeAnnotations: [TypeAnnotation] = []
    public var cppIncludes: [String] = []
    public var namespaces: [Namespace] = []
    public var definitions: [Definition] = []

    public init(path: String) { self.path = path }

    /// The namespace for `scope`, falling back to `namespace * X`.
    public func namespace(for scope: String) -> String? {
        namespaces.last { $0.scope == scope }?.name ?? namespaces.last { $0.scope == "*" }?.name
    }
}
