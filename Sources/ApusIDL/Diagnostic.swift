/// One problem found in an IDL file, with where it is and, for rendering,
/// the source line it is on.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Hashable, Sendable {
        case error, warning
    }

    public var severity: Severity
    public var location: SourceLocation
    public var message: String
    /// The text of the line at `location`, when the file could be read.
    public var sourceLine: String?

    public init(_ severity: Severity, _ message: String, at location: SourceLocation, sourceLine: String? = nil) {
        self.severity = severity
        self.message = message
        self.location = location
        self.sourceLine = sourceLine
    }

    /// `file:line:column: error: message`, then the source line and a caret under the column.
    public var description: String {
        var text = "\(location): \(severity.rawValue): \(message)"
        if let sourceLine {
            text += "\n" + sourceLine + "\n"
            // Tabs stay tabs so the caret lines up under however the terminal renders them.
            for scalar in sourceLine.unicodeScalars.prefix(max(location.column - 1, 0)) {
                text.unicodeScalars.append(scalar == "\t" ? "\t" : " ")
            }
            text += "^"
        }
        return text
    }
}

/// Every error (and the warnings met on the way) from parsing or resolving
/// a set of IDL files: one run reports as many problems as it can find.
public struct IDLError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
