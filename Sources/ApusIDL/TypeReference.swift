/// A type as written in the IDL. Named types stay names until an
/// `IDLProgram` resolves them, because they may come from another file.
public indirect enum TypeReference: Hashable, Sendable {
    case bool
    /// `i8`, or its old spelling `byte`.
    case i8
    case i16
    case i32
    case i64
    case double
    case string
    case binary
    case uuid
    case list(TypeReference)
    case set(TypeReference)
    case map(key: TypeReference, value: TypeReference)
    /// A struct, union, exception, enum or typedef: `Item` or `shared.Item`.
    case named(String, SourceLocation)

    /// The type as the IDL spells it.
    public var idlName: String {
        switch self {
        case .bool: "bool"
        case .i8: "i8"
        case .i16: "i16"
        case .i32: "i32"
        case .i64: "i64"
        case .double: "double"
        case .string: "string"
        case .binary: "binary"
        case .uuid: "uuid"
        case .list(let element): "list<\(element.idlName)>"
        case .set(let element): "set<\(element.idlName)>"
        case .map(let key, let value): "map<\(key.idlName),\(value.idlName)>"
        case .named(let name, _): name
        }
    }
}
