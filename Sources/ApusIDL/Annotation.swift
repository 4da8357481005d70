/// A Thrift annotation, `(key = "value")`; a bare `(key)` has the value "1"
/// as in Apache's compiler.
public struct Annotation: Hashable, Sendable {
    public var key: String
    public var value: String
    public var location: SourceLocation

    public init(key: String, value: String, location: SourceLocation) {
        self.key = key
        self.value = value
        self.location = location
    }
}

extension Array where Element == Annotation {
    /// The last value given for `key` (a later annotation overrides an earlier one).
    public subscript(key: String) -> String? { last { $0.key == key }?.value }
}
