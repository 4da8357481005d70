/// A constant as written: in a `const`, a field default or a nested list or map.
public struct ConstValue: Hashable, Sendable {
    public indirect enum Kind: Hashable, Sendable {
        case integer(Int64)
        case double(Double)
        case string(String)
        /// `true` and `false`.
        case bool(Bool)
        /// A reference to a const or an enum value: `MAX`, `Color.RED`, `shared.Color.RED`.
        case identifier(String)
        case list([ConstValue])
        case map([MapEntry])
    }

    public struct MapEntry: Hashable, Sendable {
        public var key: ConstValue
        public var value: ConstValue

        public init(key: ConstValue, value: ConstValue) {
            self.key = key
            self.value = value
        }
    }

    public var kind: Kind
    public var location: SourceLocation

    public init(_ kind: Kind, location: SourceLocation) {
        self.kind = kind
        self.location = location
    }
}
