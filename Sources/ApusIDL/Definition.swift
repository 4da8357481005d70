/// One top-level definition of an IDL file.
public enum Definition: Hashable, Sendable {
    case const(ConstDefinition)
    case typedef(TypedefDefinition)
    case `enum`(EnumDefinition)
    /// A struct, union or exception (`StructDefinition.kind` says which).
    case `struct`(StructDefinition)
    case service(ServiceDefinition)

    public var name: String {
        switch self {
        case .const(let definition): definition.name
        case .typedef(let definition): definition.name
        case .enum(let definition): definition.name
        case .struct(let definition): definition.name
        case .service(let definition): definition.name
        }
    }

    public var location: SourceLocation {
        switch self {
        case .const(let definition): definition.location
        case .typedef(let definition): definition.location
        case .enum(let definition): definition.location
        case .struct(let definition): definition.location
        case .service(let definition): definition.location
        }
    }
}

public struct ConstDefinition: Hashable, Sendable {
    public var name: String
    public var type: TypeReference
    public var value: ConstValue
    public var annotations: [Annotation]
    public var doc: String?
    public var location: SourceLocation
}

public struct TypedefDefinition: Hashable, Sendable {
    public var name: String
    public var type: TypeReference
    public var annotations: [Annotation]
    public var doc: String?
    public var location: SourceLocation
}

public struct EnumDefinition: Hashable, Sendable {
    public struct Value: Hashable, Sendable {
        public var name: String
        public var value: Int32
        /// False when the value was the previous one plus one.
        public var hasExplicitValue: Bool
        public var annotations: [Annotation]
        public var doc: String?
        public var location: SourceLocation
    }

    public var name: String
    public var values: [Value]
    public var annotations: [Annotation]
    public var doc: String?
    public var location: SourceLocation
}

public struct StructDefinition: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable {
        case `struct`, union, exception
    }

    public var kind: Kind
    public var name: String
    public var fields: [Field]
    public var annotations: [Annotation]
    public var doc: String?
    public var location: SourceLocation
}

public struct ServiceDefinition: Hashable, Sendable {
    public struct Function: Hashable, Sendable {
        public var name: String
        /// `nil` for `void`.
        public var returnType: TypeReference?
        public var parameters: [Field]
        public var exceptions: [Field]
        public var isOneway: Bool
        public var annotations: [Annotation]
        public var doc: String?
        public var location: SourceLocation
    }

    public var name: String
    /// The base service, possibly qualified by an include (`shared.Base`).
    public var extends: String?
    public var extendsLocation: SourceLocation?
    public var functions: [Function]
    public var annotations: [Annotation]
    public var doc: String?
    public var location: SourceLocation
}
