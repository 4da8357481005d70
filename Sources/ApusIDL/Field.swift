/// A struct, union or exception field, a function parameter or a declared exception.
public struct Field: Hashable, Sendable {
    public enum Requiredness: String, Hashable, Sendable {
        case required, optional
        /// Neither keyword: written always, read if present (Apache's "opt-in, req-out").
        case `default`
    }

    public var id: Int16
    /// False when the IDL left the id out and it was assigned (negative, as Apache does).
    public var hasExplicitID: Bool
    public var name: String
    public var type: TypeReference
    public var requiredness: Requiredness
    public var defaultValue: ConstValue?
    public var annotations: [Annotation]
    public var doc: String?
    public var location: SourceLocation

    public init(
        id: Int16, hasExplicitID: Bool = true, name: String, type: TypeReference,
        requiredness: Requiredness = .default, defaultValue: ConstValue? = nil,
        annotations: [Annotation] = [], doc: String? = nil, location: SourceLocation
    ) {
        self.id = id
        self.hasExplicitID = hasExplicitID
        self.name = name
        self.type = type
        self.requiredness = requiredness
        self.defaultValue = defaultValue
        self.annotations = annotations
        self.doc = doc
        self.location = location
    }
}
