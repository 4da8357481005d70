/// Builds indented Swift source line by line.
struct CodeWriter {
    var text = ""
    private var level = 0

    mutating func line(_ content: String = "") {
        if content.isEmpty {
            text += "\n"
        } else {
            text += String(repeating: "    ", count: level) + content + "\n"
        }
    }

    mutating func lines(_ contents: [String]) {
        for content in contents { line(content) }
    }

    /// `opening`, then the body one level in, then `closing`.
    mutating func block(
        _ opening: String, closing: String = "}", _ body: (inout CodeWriter) throws(CodegenError) -> Void
    ) throws(CodegenError) {
        line(opening)
        level += 1
        try body(&self)
        level -= 1
        line(closing)
    }

    mutating func indent() { level += 1 }

    mutating func dedent() { level -= 1 }
}

extension CodeWriter {
    /// Removes the last line written (to continue a closing brace, as in `} catch`).
    mutating func dropLastLine() {
        guard text.hasSuffix("\n") else { return }
        text.removeLast()
        if let newline = text.lastIndex(of: "\n") {
            text.removeSubrange(text.index(after: newline)...)
        } else {
            text = ""
        }
    }
}
