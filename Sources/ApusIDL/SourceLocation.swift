/// A point in an IDL file. Columns count Unicode scalars from 1, so the
/// caret under a diagnostic lines up on non-ASCII lines too.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}
