/// Parses one IDL file's text. Names are not resolved here (they may live in
/// included files); `IDLLoader` does that for a whole set of files.
public enum IDLParser {
    /// The document, as much of it as could be parsed, and every problem found.
    /// Never traps, whatever the input.
    public static func parse(_ source: String, path: String) -> (document: IDLDocument, diagnostics: [Diagnostic]) {
        var lexer = Lexer(source, file: path)
        let tokens = lexer.tokenize()
        var parser = Parser(tokens: tokens, path: path)
        let document = parser.parseDocument()
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        let diagnostics = (lexer.diagnostics + parser.diagnostics).map { diagnostic in
            var diagnostic = diagnostic
            let index = diagnostic.location.line - 1
            if lines.indices.contains(index) { diagnostic.sourceLine = String(lines[index].trimmingSuffix("\r")) }
            return diagnostic
        }
        return (document, diagnostics.sortedByLocation())
    }
}

extension Substring {
    func trimmingSuffix(_ suffix: Character) -> Substring { last == suffix ? dropLast() : self }
}

extension Array where Element == Diagnostic {
    func sortedByLocation() -> [Diagnostic] {
        enumerated().sorted { a, b in
            let (l, r) = (a.element.location, b.element.location)
            if l.file != r.file { return a.offset < b.offset }
            if l.line != r.line { return l.line < r.line }
            if l.column != r.column { return l.column < r.column }
            return a.offset < b.offset
        }.map(\.element)
    }
}
