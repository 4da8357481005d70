/// A program the parser accepted but Swift cannot express as generated.
public struct CodegenError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var location: String?

    public init(_ message: String, location: String? = nil) {
        self.message = message
        self.location = location
    }

    public var description: String { location.map { "\($0): error: \(message)" } ?? "error: \(message)" }
}
