import ApusIDL
import Testing

/// Errors name the place (line:column) and say what is wrong in plain words.
@Suite struct IDLErrorTests {
    @Test func missingFieldType() {
        #expect(TestSupport.errors(in: "struct S {\n  1: required }\n") == ["2:15: expected a type, found '}'"])
    }

    @Test func unterminatedStringAndComment() {
        #expect(TestSupport.errors(in: "const string S = \"abc\n") == ["1:18: unterminated string"])
        #expect(TestSupport.errors(in: "/* never closed\nstruct S {}") == ["1:1: unterminated comment"])
    }

    @Test func unexpectedCharacter() {
        #expect(TestSupport.errors(in: "struct S { 1: i32 a @ }") == ["1:21: unexpected character '@'"])
    }

    @Test func severalErrorsInOneRun() {
        let errors = TestSupport.errors(
            in: """
                struct A { 1: i32 }
                struct B { 1: i32 b, 2: 3 }
                enum C { X = "no" }
                service D { void f( }
                """)
        #expect(
            errors == [
                "1:19: expected a field name, found '}'",
                "2:25: expected a type, found '3'",
                "3:14: expected an integer value for C.X, found string \"no\"",
                "4:21: expected a type, found '}'",
            ])
    }

    @Test func undefinedNames() {
        let errors = TestSupport.errors(
            in: """
                struct S {
                  1: Missing a
                  2: other.Thing b
                }
                service X extends Nope {}
                const i32 C = UNKNOWN
                """)
        #expect(
            errors == [
                "2:6: unknown type 'Missing'",
                "3:6: unknown type 'other.Thing': no included file is named 'other'",
                "5:19: unknown service 'Nope'",
                "6:15: constant C: unknown constant or enum value 'UNKNOWN'",
            ])
    }

    @Test func duplicates() {
        let errors = TestSupport.errors(
            in: """
                struct S { 1: i32 a, 1: i32 b, 2: i32 a }
                struct S {}
                const i8 BIG = 300
                enum E { A, A }
                """)
        #expect(
            errors == [
                "1:29: field id 1 of 'b' is already used by 'a' in struct S",
                "1:39: struct S already has a field named 'a'",
                "2:1: 'S' is already defined at test.thrift:1:1",
                "3:16: constant BIG: value out of range for i8",
                "4:13: enum E already has a value named 'A'",
            ])
    }

    @Test func keywordsCannotBeNames() {
        #expect(TestSupport.errors(in: "struct list {}") == ["1:8: 'list' is a keyword; it cannot be a struct name"])
        #expect(TestSupport.errors(in: "struct S { 1: i32 required }") == ["1:19: 'required' is a keyword; it cannot be a field name"])
        #expect(TestSupport.errors(in: "struct S { 1: i32 a.b }") == ["1:19: a field name 'a.b' must not contain '.'"])
    }

    @Test func outOfRangeNumbers() {
        #expect(TestSupport.errors(in: "struct T { 0: i32 z }") == ["1:12: field id 0 in struct T is out of range (1...32767)"])
        #expect(TestSupport.errors(in: "enum E { A = 2147483648 }") == ["1:10: value 2147483648 of E.A does not fit in i32"])
        #expect(TestSupport.errors(in: "const i64 X = 9223372036854775808") == ["1:15: integer literal is out of range for i64"])
    }

    @Test func serviceRules() {
        let errors = TestSupport.errors(
            in: """
                struct NotAnException {}
                exception Bad {}
                service S {
                  oneway i32 f()
                  oneway void g() throws (1: Bad bad)
                  void h() throws (1: NotAnException e)
                  void h()
                }
                """)
        #expect(
            errors == [
                "4:14: oneway function S.f must return void",
                "5:15: oneway function S.g cannot throw exceptions",
                "6:38: 'NotAnException' in the throws of S.h is not an exception",
                "7:8: service S already has a function named 'h'",
            ])
    }

    @Test func typedefCycleAndWrongKinds() {
        let errors = TestSupport.errors(
            in: """
                typedef A B
                typedef B A
                const i32 K = 1
                struct S { 1: K k }
                """)
        #expect(
            errors == [
                "1:1: typedef B refers to itself",
                "2:1: typedef A refers to itself",
                "4:15: 'K' is a constant, not a type",
            ])
    }

    @Test func includesResolveAcrossFilesAndSearchPaths() throws {
        let program = try TestSupport.load(
            [
                "main.thrift": "include \"shared.thrift\"\nstruct M { 1: shared.Item item, 2: shared.Color c = shared.Color.RED }",
                "lib/shared.thrift": "enum Color { RED }\nstruct Item { 1: i32 id }",
            ],
            roots: ["main.thrift"], searchPaths: ["lib"]
        )
        #expect(program.roots == ["main.thrift"])
        #expect(program.definition(named: "shared.Item", from: "main.thrift")?.file.path == "lib/shared.thrift")
    }

    @Test func includeCyclesAndMissingIncludes() {
        do {
            _ = try TestSupport.load(
                ["a.thrift": "include \"b.thrift\"", "b.thrift": "include \"a.thrift\"\ninclude \"gone.thrift\""],
                roots: ["a.thrift"]
            )
            Issue.record("expected errors")
        } catch {
            let messages = error.errors.map { "\($0.location): \($0.message)" }
            #expect(messages == ["b.thrift:1:1: include cycle: a -> b -> a", "b.thrift:2:1: cannot find included file 'gone.thrift'"])
        }
    }

    @Test func renderedWithCaret() {
        do {
            _ = try TestSupport.load(["t.thrift": "struct S {\n\t1: i32 a @\n}"])
            Issue.record("expected an error")
        } catch {
            #expect(error.errors.first?.description == "t.thrift:2:11: error: unexpected character '@'\n\t1: i32 a @\n\t         ^")
        }
    }
}
