import ApusIDL
import Testing

@Suite struct IDLParserTests {
    static func parse(_ source: String) -> IDLDocument {
        let (document, diagnostics) = IDLParser.parse(source, path: "t.thrift")
        #expect(diagnostics.filter { $0.severity == .error }.isEmpty, "\(diagnostics)")
        return document
    }

    @Test func headers() {
        let document = Self.parse(
            """
            include "shared.thrift"
            cpp_include '<map>'
            namespace swift Apus
            namespace * fallback
            namespace py.twisted twisted_ns
            """)
        #expect(document.includes.map(\.path) == ["shared.thrift"])
        #expect(document.cppIncludes == ["<map>"])
        #expect(document.namespace(for: "swift") == "Apus")
        #expect(document.namespace(for: "go") == "fallback")
        #expect(document.namespaces.map(\.scope) == ["swift", "*", "py.twisted"])
    }

    @Test func annotationsOnTypesAreKept() {
        let document = Self.parse(
            """
            typedef i64 (js.type = "Long") Millis
            struct S { 1: list<string (py.encoding = "utf8")> (python.immutable = "") names }
            """)
        let kept = document.typeAnnotations.map { "\($0.type.idlName):" + $0.annotations.map { "\($0.key)=\($0.value)" }.joined(separator: ",") }
        #expect(kept == ["i64:js.type=Long", "string:py.encoding=utf8", "list<string>:python.immutable="])
        #expect(document.typeAnnotations.map(\.location.line) == [1, 2, 2])
    }

    @Test func enumValuesExplicitImplicitNegative() throws {
        let document = Self.parse("enum E { A, B = 10; C D = -3, E = 0x10 F }")
        guard case .enum(let enumeration) = document.definitions.first else {
            Issue.record("not an enum")
            return
        }
        #expect(enumeration.values.map(\.name) == ["A", "B", "C", "D", "E", "F"])
        #expect(enumeration.values.map(\.value) == [0, 10, 11, -3, 16, 17])
        #expect(enumeration.values.map(\.hasExplicitValue) == [false, true, false, true, true, false])
    }

    @Test func fieldsRequirednessDefaultsAnnotationsDocs() throws {
        let document = Self.parse(
            """
            /** A thing. */
            struct S {
              /** First. */
              1: required i64 a = 5 (x = "y", bare),
              2: optional list<map<string, set<binary>>> b;
              3: i8 c
              4: byte d = -0x7f
              5: uuid e
            } (struct.note = "n")
            """)
        guard case .struct(let structure) = document.definitions.first else {
            Issue.record("not a struct")
            return
        }
        #expect(structure.doc == "A thing.")
        #expect(structure.annotations["struct.note"] == "n")
        #expect(structure.fields.map(\.requiredness) == [.required, .optional, .default, .default, .default])
        #expect(structure.fields[0].doc == "First.")
        #expect(structure.fields[0].annotations.map(\.key) == ["x", "bare"])
        #expect(structure.fields[0].annotations["bare"] == "1")
        #expect(structure.fields[0].defaultValue?.kind == .integer(5))
        #expect(structure.fields[1].type == .list(.map(key: .string, value: .set(.binary))))
        #expect(structure.fields[2].type == .i8)
        #expect(structure.fields[3].type == .i8)
        #expect(structure.fields[3].defaultValue?.kind == .integer(-127))
        #expect(structure.fields[4].type == .uuid)
    }

    @Test func implicitFieldIDsCountDownWithAWarning() {
        let (document, diagnostics) = IDLParser.parse("struct S { string a, 5: i32 b, bool c }", path: "t.thrift")
        guard case .struct(let structure) = document.definitions.first else {
            Issue.record("not a struct")
            return
        }
        #expect(structure.fields.map(\.id) == [-1, 5, -2])
        #expect(structure.fields.map(\.hasExplicitID) == [false, true, false])
        #expect(diagnostics.map(\.severity) == [.warning, .warning])
    }

    @Test func constants() {
        let document = Self.parse(
            #"""
            const i32 HEX = 0xFF
            const i64 NEG = -42
            const double D = 1.5e-3
            const double E = .5
            const string S1 = "a\"b\n\u00e9"
            const string S2 = 'c\'d'
            const list<i32> L = [1, 2; 3]
            const map<string, list<i32>> M = {"a": [1], 'b': []}
            const bool T = true
            const E R = E.X
            """#)
        let values = document.definitions.compactMap { definition -> ConstValue.Kind? in
            if case .const(let const) = definition { return const.value.kind }
            return nil
        }
        #expect(values.count == 10)
        #expect(values[0] == .integer(255))
        #expect(values[1] == .integer(-42))
        #expect(values[2] == .double(0.0015))
        #expect(values[3] == .double(0.5))
        #expect(values[4] == .string("a\"b\né"))
        #expect(values[5] == .string("c'd"))
        if case .list(let items) = values[6] {
            #expect(items.map(\.kind) == [.integer(1), .integer(2), .integer(3)])
        } else {
            Issue.record("not a list")
        }
        if case .map(let entries) = values[7] {
            #expect(entries.map(\.key.kind) == [.string("a"), .string("b")])
        } else {
            Issue.record("not a map")
        }
        #expect(values[8] == .bool(true))
        #expect(values[9] == .identifier("E.X"))
    }

    @Test func servicesWithExtendsOnewayThrowsAndAnnotations() {
        let document = Self.parse(
            """
            service S extends shared.Base {
              /** Doc. */
              oneway void fire(1: i64 id),
              string get(1: string key) throws (1: NotFound nf, 2: Other o) (idempotent = "true");
              void ping()
            } (svc = "1")
            """)
        guard case .service(let service) = document.definitions.first else {
            Issue.record("not a service")
            return
        }
        #expect(service.extends == "shared.Base")
        #expect(service.annotations["svc"] == "1")
        #expect(service.functions.map(\.name) == ["fire", "get", "ping"])
        #expect(service.functions[0].isOneway)
        #expect(service.functions[0].returnType == nil)
        #expect(service.functions[0].doc == "Doc.")
        #expect(service.functions[1].exceptions.map(\.name) == ["nf", "o"])
        #expect(service.functions[1].annotations["idempotent"] == "true")
    }

    @Test func commentsOfEveryKind() {
        let document = Self.parse(
            """
            # hash
            // slashes
            /* block
               comment */
            typedef i32 /* inline */ Count // trailing
            /**
             * Multi-line
             *   indented
             */
            typedef string Name
            """)
        let typedefs = document.definitions.compactMap { definition -> TypedefDefinition? in
            if case .typedef(let typedef) = definition { return typedef }
            return nil
        }
        #expect(typedefs.map(\.name) == ["Count", "Name"])
        #expect(typedefs[0].doc == nil)
        #expect(typedefs[1].doc == "Multi-line\n  indented")
    }

    @Test func unionsAndExceptions() {
        let document = Self.parse("union U { 1: i32 a, 2: string b } exception X { 1: string why }")
        let kinds = document.definitions.compactMap { definition -> StructDefinition.Kind? in
            if case .struct(let structure) = definition { return structure.kind }
            return nil
        }
        #expect(kinds == [.union, .exception])
    }
}
