/// One Swift file the generator produced.
public struct GeneratedFile: Hashable, Sendable {
    /// The file name, without a directory: `echo_types.swift`, `Echo.swift`.
    public var name: String
    public var contents: String
    /// The IDL file it came from.
    public var sourcePath: String

    public init(name: String, contents: String, sourcePath: String) {
        self.name = name
        self.contents = contents
        self.sourcePath = sourcePath
    }
}
