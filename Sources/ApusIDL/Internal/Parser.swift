/// Recursive descent over the grammar in Apache Thrift's doc/specs/idl.md.
/// Errors are recorded, then the parser skips to a point it can resume from
/// (the next field or the next definition), so one run reports several.
struct Parser {
    /// Thrown after a diagnostic is recorded, to unwind to a recovery point.
    struct Failure: Error {}

    /// Nesting deeper than this (types, const values) is an error rather than a deep stack.
    static let maximumDepth = 64
    /// A run stops after this many errors: the rest are usually echoes of the first.
    static let maximumErrors = 100

    private var tokens: [Token]
    private var position = 0
    private var depth = 0
    private(set) var diagnostics: [Diagnostic] = []
    private var errorCount = 0
    private var document: IDLDocument

    init(tokens: [Token], path: String) {
        self.tokens = tokens
        self.document = IDLDocument(path: path)
    }

    private static let definitionKeywords: Set<String> = [
        "include", "cpp_include", "namespace", "const", "typedef", "enum", "senum", "struct", "union", "exception",
        "service",
    ]

    private static let baseTypes: [String: TypeReference] = [
        "bool": .bool, "byte": .i8, "i8": .i8, "i16": .i16, "i32": .i32, "i64": .i64, "double": .double,
        "string": .string, "binary": .binary, "uuid": .uuid,
    ]

    mutating func parseDocument() -> IDLDocument {
        while !current.isEnd, errorCount < Self.maximumErrors {
            let start = position
            do throws(Failure) {
                try parseTopLevel()
            } catch {
                recoverToDefinition(from: start)
            }
        }
        return document
    }

    // MARK: Tokens

    private var current: Token { tokens[position] }

    private mutating func advance() -> Token {
        let token = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    private mutating func fail(_ message: String, at location: SourceLocation? = nil) -> Failure {
        error(message, at: location ?? current.location)
        return Failure()
    }

    private mutating func error(_ message: String, at location: SourceLocation) {
        // A second error at the same place, or at the end after an earlier one, is an echo of the first.
        if let last = diagnostics.last(where: { $0.severity == .error }),
            last.location == location || (current.isEnd && location == current.location)
        {
            return
        }
        errorCount += 1
        diagnostics.append(Diagnostic(.error, message, at: location))
    }

    private mutating func warning(_ message: String, at location: SourceLocation) {
        diagnostics.append(Diagnostic(.warning, message, at: location))
    }

    private mutating func expect(_ symbol: UInt8, _ what: String) throws(Failure) -> Token {
        guard current.isSymbol(symbol) else { throw fail("expected \(what), found \(current.quoted)") }
        return advance()
    }

    private mutating func skip(_ symbol: UInt8) -> Bool {
        guard current.isSymbol(symbol) else { return false }
        _ = advance()
        return true
    }

    private mutating func skipKeyword(_ keyword: String) -> Bool {
        guard current.isKeyword(keyword) else { return false }
        _ = advance()
        return true
    }

    private mutating func skipListSeparator() {
        if !skip(UInt8(ascii: ",")) { _ = skip(UInt8(ascii: ";")) }
    }

    private mutating func identifier(_ what: String) throws(Failure) -> (String, SourceLocation) {
        guard let name = current.identifier else { throw fail("expected \(what), found \(current.quoted)") }
        let location = advance().location
        return (name, location)
    }

    /// A declared name: an identifier without dots that is not a keyword.
    private mutating func declaredName(_ what: String) throws(Failure) -> (String, SourceLocation) {
        let token = current
        let (name, location) = try identifier(what)
        if name.contains(".") { throw fail("\(what) '\(name)' must not contain '.'", at: token.location) }
        if Self.definitionKeywords.contains(name) || Self.baseTypes[name] != nil
            || ["list", "set", "map", "void", "oneway", "throws", "extends", "required", "optional"].contains(name)
        {
            throw fail("'\(name)' is a keyword; it cannot be \(what)", at: location)
        }
        return (name, location)
    }

    private mutating func literal(_ what: String) throws(Failure) -> String {
        guard case .string(let value) = current.kind else { throw fail("expected \(what), found \(current.quoted)") }
        _ = advance()
        return value
    }

    // MARK: Recovery

    /// Skips to the next definition keyword. Keywords cannot name anything,
    /// so one met inside a broken body still starts a definition.
    private mutating func recoverToDefinition(from start: Int) {
        if position == start { _ = advance() }
        while !current.isEnd {
            if let name = current.identifier, Self.definitionKeywords.contains(name) { return }
            _ = advance()
        }
    }

    /// Skips the rest of a bad field: past its separator, or up to the closing bracket.
    private mutating func recoverToNextField() {
        var nesting = 0
        while !current.isEnd {
            switch current.kind {
            case .symbol(UInt8(ascii: "(")), .symbol(UInt8(ascii: "[")), .symbol(UInt8(ascii: "{")), .symbol(UInt8(ascii: "<")):
                nesting += 1
            case .symbol(UInt8(ascii: ")")), .symbol(UInt8(ascii: "]")), .symbol(UInt8(ascii: "}")), .symbol(UInt8(ascii: ">")):
                if nesting == 0 { return }
                nesting -= 1
            case .symbol(UInt8(ascii: ",")), .symbol(UInt8(ascii: ";")):
                if nesting == 0 {
                    _ = advance()
                    return
                }
            case .identifier(let name) where nesting == 0 && Self.definitionKeywords.contains(name):
                return
            default:
                break
            }
            _ = advance()
        }
    }

    // MARK: Headers and definitions

    private mutating func parseTopLevel() throws(Failure) {
        let token = current
        guard let keyword = token.identifier else {
            throw fail("expected a definition (struct, enum, service, ...), found \(token.quoted)")
        }
        let doc = token.doc
        switch keyword {
        case "include":
            _ = advance()
            let path = try literal("a quoted file name after 'include'")
            document.includes.append(.init(path: path, location: token.location))
            if !document.definitions.isEmpty { warning("'include' after definitions", at: token.location) }
        case "cpp_include":
            _ = advance()
            document.cppIncludes.append(try literal("a quoted file name after 'cpp_include'"))
        case "namespace":
            _ = advance()
            let scope: String
            if skip(UInt8(ascii: "*")) {
                scope = "*"
            } else {
                scope = try identifier("a language after 'namespace'").0
            }
            let name: String
            if case .string(let value) = current.kind {
                _ = advance()
                name = value
            } else {
                name = try identifier("a namespace name").0
            }
            let annotations = try parseAnnotations()
            document.namespaces.append(.init(scope: scope, name: name, annotations: annotations, location: token.location))
        case "const":
            _ = advance()
            let type = try parseFieldType()
            let (name, _) = try declaredName("a constant name")
            _ = try expect(UInt8(ascii: "="), "'=' after the constant name")
            let value = try parseConstValue()
            let annotations = try parseAnnotations()
            skipListSeparator()
            document.definitions.append(
                .const(ConstDefinition(name: name, type: type, value: value, annotations: annotations, doc: doc, location: token.location))
            )
        case "typedef":
            _ = advance()
            let type = try parseFieldType()
            let (name, _) = try declaredName("a typedef name")
            let annotations = try parseAnnotations()
            skipListSeparator()
            document.definitions.append(
                .typedef(TypedefDefinition(name: name, type: type, annotations: annotations, doc: doc, location: token.location))
            )
        case "enum":
            _ = advance()
            try parseEnum(doc: doc, location: token.location)
        case "senum":
            throw fail("'senum' is deprecated and not supported; use an enum or a set<string>")
        case "struct", "union", "exception":
            _ = advance()
            let kind = StructDefinition.Kind(rawValue: keyword)!
            let (name, _) = try declaredName("a \(keyword) name")
            _ = skipKeyword("xsd_all")
            _ = try expect(UInt8(ascii: "{"), "'{' to open \(keyword) \(name)")
            let fields = parseFields(closing: UInt8(ascii: "}"), context: "\(keyword) \(name)")
            _ = try expect(UInt8(ascii: "}"), "'}' to close \(keyword) \(name)")
            let annotations = try parseAnnotations()
            document.definitions.append(
                .struct(
                    StructDefinition(kind: kind, name: name, fields: fields, annotations: annotations, doc: doc, location: token.location))
            )
        case "service":
            _ = advance()
            try parseService(doc: doc, location: token.location)
        default:
            throw fail("expected a definition (struct, enum, service, ...), found \(token.quoted)")
        }
    }

    private mutating func parseEnum(doc: String?, location: SourceLocation) throws(Failure) {
        let (name, _) = try declaredName("an enum name")
        _ = try expect(UInt8(ascii: "{"), "'{' to open enum \(name)")
        var values: [EnumDefinition.Value] = []
        var next: Int64 = 0
        while !current.isSymbol(UInt8(ascii: "}")), !current.isEnd {
            let start = position
            do throws(Failure) {
                let token = current
                let (valueName, valueLocation) = try declaredName("an enum value name")
                var value = next
                var isExplicit = false
                if skip(UInt8(ascii: "=")) {
                    guard case .integer(let explicit) = current.kind else {
                        throw fail("expected an integer value for \(name).\(valueName), found \(current.quoted)")
                    }
                    _ = advance()
                    value = explicit
                    isExplicit = true
                }
                guard let value32 = Int32(exactly: value) else {
                    throw fail("value \(value) of \(name).\(valueName) does not fit in i32", at: valueLocation)
                }
                let annotations = try parseAnnotations()
                skipListSeparator()
                values.append(
                    .init(
                        name: valueName, value: value32, hasExplicitValue: isExplicit, annotations: annotations, doc: token.doc,
                        location: valueLocation)
                )
                next = value + 1
            } catch {
                if errorCount >= Self.maximumErrors { throw error }
                if position == start { _ = advance() }
                recoverToNextField()
            }
        }
        _ = try expect(UInt8(ascii: "}"), "'}' to close enum \(name)")
        let annotations = try parseAnnotations()
        document.definitions.append(
            .enum(EnumDefinition(name: name, values: values, annotations: annotations, doc: doc, location: location)))
    }

    private mutating func parseService(doc: String?, location: SourceLocation) throws(Failure) {
        let (name, _) = try declaredName("a service name")
        var extends: String?
        var extendsLocation: SourceLocation?
        if skipKeyword("extends") {
            let base = try identifier("the name of the service to extend")
            extends = base.0
            extendsLocation = base.1
        }
        _ = try expect(UInt8(ascii: "{"), "'{' to open service \(name)")
        var functions: [ServiceDefinition.Function] = []
        while !current.isSymbol(UInt8(ascii: "}")), !current.isEnd {
            let start = position
            do throws(Failure) {
                functions.append(try parseFunction(service: name))
            } catch {
                if errorCount >= Self.maximumErrors { throw error }
                if position == start { _ = advance() }
                recoverToNextField()
            }
        }
        _ = try expect(UInt8(ascii: "}"), "'}' to close service \(name)")
        let annotations = try parseAnnotations()
        document.definitions.append(
            .service(
                ServiceDefinition(
                    name: name, extends: extends, extendsLocation: extendsLocation, functions: functions,
                    annotations: annotations, doc: doc, location: location
                ))
        )
    }

    private mutating func parseFunction(service: String) throws(Failure) -> ServiceDefinition.Function {
        let first = current
        let isOneway = skipKeyword("oneway")
        let returnType: TypeReference? = skipKeyword("void") ? nil : try parseFieldType()
        let (name, location) = try declaredName("a function name")
        _ = try expect(UInt8(ascii: "("), "'(' after \(service).\(name)")
        let parameters = parseFields(closing: UInt8(ascii: ")"), context: "the arguments of \(service).\(name)")
        _ = try expect(UInt8(ascii: ")"), "')' to close the arguments of \(service).\(name)")
        var exceptions: [Field] = []
        if skipKeyword("throws") {
            _ = try expect(UInt8(ascii: "("), "'(' after 'throws'")
            exceptions = parseFields(closing: UInt8(ascii: ")"), context: "the exceptions of \(service).\(name)")
            _ = try expect(UInt8(ascii: ")"), "')' to close the exceptions of \(service).\(name)")
        }
        let annotations = try parseAnnotations()
        skipListSeparator()
        return .init(
            name: name, returnType: returnType, parameters: parameters, exceptions: exceptions, isOneway: isOneway,
            annotations: annotations, doc: first.doc, location: location
        )
    }

    /// Fields up to `closing`. Implicit ids count down from -1 as in Apache's compiler.
    private mutating func parseFields(closing: UInt8, context: String) -> [Field] {
        var fields: [Field] = []
        var nextImplicitID: Int16 = -1
        while !current.isSymbol(closing), !current.isEnd, errorCount < Self.maximumErrors {
            if let keyword = current.identifier, Self.definitionKeywords.contains(keyword) { break }
            let start = position
            do throws(Failure) {
                var field = try parseField(context: context)
                if !field.hasExplicitID {
                    field.id = nextImplicitID
                    nextImplicitID &-= 1
                    warning(
                        "no field id for '\(field.name)' in \(context); assigned \(field.id) (give it an explicit id)", at: field.location)
                }
                fields.append(field)
            } catch {
                if position == start {
                    // Another construct's closing bracket: leave it to the caller.
                    if Self.isClosingBracket(current) { break }
                    _ = advance()
                }
                recoverToNextField()
            }
        }
        return fields
    }

    private mutating func parseField(context: String) throws(Failure) -> Field {
        let first = current
        var id: Int16 = 0
        var hasExplicitID = false
        if case .integer(let value) = current.kind {
            let location = advance().location
            _ = try expect(UInt8(ascii: ":"), "':' after the field id")
            guard value >= 1, value <= Int64(Int16.max) else {
                throw fail("field id \(value) in \(context) is out of range (1...32767)", at: location)
            }
            id = Int16(value)
            hasExplicitID = true
        }
        var requiredness = Field.Requiredness.default
        if skipKeyword("required") {
            requiredness = .required
        } else if skipKeyword("optional") {
            requiredness = .optional
        }
        let type = try parseFieldType()
        let (name, location) = try declaredName("a field name")
        var defaultValue: ConstValue?
        if skip(UInt8(ascii: "=")) { defaultValue = try parseConstValue() }
        _ = skipKeyword("xsd_optional")
        _ = skipKeyword("xsd_nillable")
        if skipKeyword("xsd_attrs") {
            _ = try expect(UInt8(ascii: "{"), "'{' after 'xsd_attrs'")
            _ = parseFields(closing: UInt8(ascii: "}"), context: "xsd_attrs")
            _ = try expect(UInt8(ascii: "}"), "'}' to close 'xsd_attrs'")
        }
        let annotations = try parseAnnotations()
        skipListSeparator()
        return Field(
            id: id, hasExplicitID: hasExplicitID, name: name, type: type, requiredness: requiredness,
            defaultValue: defaultValue, annotations: annotations, doc: first.doc, location: location
        )
    }

    // MARK: Types, values, annotations

    private mutating func parseFieldType() throws(Failure) -> TypeReference {
        let token = current
        guard let name = token.identifier else { throw fail("expected a type, found \(token.quoted)") }
        if Self.definitionKeywords.contains(name) || name == "void" {
            throw fail("expected a type, found \(token.quoted)")
        }
        _ = advance()
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { throw fail("types nest more than \(Self.maximumDepth) deep", at: token.location) }
        let type: TypeReference
        switch name {
        case "list", "set":
            try skipCppType()
            _ = try expect(UInt8(ascii: "<"), "'<' after '\(name)'")
            let element = try parseFieldType()
            _ = try expect(UInt8(ascii: ">"), "'>' to close '\(name)<'")
            try skipCppType()
            type = name == "list" ? .list(element) : .set(element)
        case "map":
            try skipCppType()
            _ = try expect(UInt8(ascii: "<"), "'<' after 'map'")
            let key = try parseFieldType()
            _ = try expect(UInt8(ascii: ","), "',' between the key and value types of 'map'")
            let value = try parseFieldType()
            _ = try expect(UInt8(ascii: ">"), "'>' to close 'map<'")
            type = .map(key: key, value: value)
        default:
            type = Self.baseTypes[name] ?? .named(name, token.location)
        }
        // Annotations on a type (`i32 (range = "0..9")`): kept in the document for tools; Swift has no use for them.
        let annotations = try parseAnnotations()
        if !annotations.isEmpty {
            document.typeAnnotations.append(IDLDocument.TypeAnnotation(type: type, annotations: annotations, location: token.location))
        }
        return type
    }

    private mutating func skipCppType() throws(Failure) {
        if skipKeyword("cpp_type") { _ = try literal("a quoted type after 'cpp_type'") }
    }

    private mutating func parseConstValue() throws(Failure) -> ConstValue {
        let token = current
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { throw fail("constant values nest more than \(Self.maximumDepth) deep") }
        switch token.kind {
        case .integer(let value):
            _ = advance()
            return ConstValue(.integer(value), location: token.location)
        case .double(let value):
            _ = advance()
            return ConstValue(.double(value), location: token.location)
        case .string(let value):
            _ = advance()
            return ConstValue(.string(value), location: token.location)
        case .identifier(let name):
            _ = advance()
            switch name {
            case "true": return ConstValue(.bool(true), location: token.location)
            case "false": return ConstValue(.bool(false), location: token.location)
            default: return ConstValue(.identifier(name), location: token.location)
            }
        case .symbol(UInt8(ascii: "[")):
            _ = advance()
            var elements: [ConstValue] = []
            while !skip(UInt8(ascii: "]")) {
                guard !current.isEnd else { throw fail("expected ']' to close the list") }
                elements.append(try parseConstValue())
                skipListSeparator()
            }
            return ConstValue(.list(elements), location: token.location)
        case .symbol(UInt8(ascii: "{")):
            _ = advance()
            var entries: [ConstValue.MapEntry] = []
            while !skip(UInt8(ascii: "}")) {
                guard !current.isEnd else { throw fail("expected '}' to close the map") }
                let key = try parseConstValue()
                _ = try expect(UInt8(ascii: ":"), "':' between a map key and its value")
                let value = try parseConstValue()
                entries.append(.init(key: key, value: value))
                skipListSeparator()
            }
            return ConstValue(.map(entries), location: token.location)
        default:
            throw fail("expected a constant value, found \(token.quoted)")
        }
    }

    private mutating func parseAnnotations() throws(Failure) -> [Annotation] {
        guard skip(UInt8(ascii: "(")) else { return [] }
        var annotations: [Annotation] = []
        while !skip(UInt8(ascii: ")")) {
            let (key, location) = try identifier("an annotation name")
            var value = "1"
            if skip(UInt8(ascii: "=")) { value = try literal("a quoted annotation value") }
            annotations.append(Annotation(key: key, value: value, location: location))
            skipListSeparator()
        }
        return annotations
    }
}

extension Token {
    var isEnd: Bool { kind == .end }
}

extension Parser {
    static func isClosingBracket(_ token: Token) -> Bool {
        token.isSymbol(UInt8(ascii: "}")) || token.isSymbol(UInt8(ascii: ")")) || token.isSymbol(UInt8(ascii: "]"))
    }
}
