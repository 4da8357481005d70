import ApusCodegen
import ApusIDL
import Foundation
import Testing

/// Two IDL types that would become one Swift type name are an error naming
/// both places, not two declarations of one name (or one silently standing in
/// for the other).
@Suite struct TypeNameClashTests {
    static func message(
        _ files: [String: String], roots: [String], generating: [String]? = nil
    ) throws -> String? {
        let program = try TestSupport.load(files, roots: roots)
        do {
            _ = try SwiftGenerator(program: program, generating: generating).generate()
            return nil
        } catch {
            return error.description
        }
    }

    @Test func twoFilesOfOneModuleDefiningItem() throws {
        let message = try #require(
            try Self.message(["a.thrift": "struct Item { 1: i32 x }", "b.thrift": "\n\nunion Item { 1: string s }"], roots: ["a.thrift", "b.thrift"]))
        #expect(
            message
                == "b.thrift:3:1: error: union Item and struct Item at a.thrift:1:1 are both the Swift type Item in one module "
                + "(files with the same `namespace swift`, or none, compile into one module); "
                + "rename one, or give one file its own `namespace swift Module` and generate it into another target")
    }

    @Test func aStructNamedLikeAnotherStructsView() throws {
        // `Item` brings `ItemView`, its zero-copy view: a struct of that name would be declared twice.
        let message = try #require(try Self.message(["a.thrift": "struct Item { 1: i32 x }\nstruct ItemView { 1: i32 y }"], roots: ["a.thrift"]))
        #expect(message.hasPrefix("a.thrift:2:1: error: struct ItemView and the view ItemView of Item at a.thrift:1:1 are both the Swift type ItemView"))
        // A union has no view: `ChoiceView` is free.
        #expect(try Self.message(["a.thrift": "union Choice { 1: i32 x }\nstruct ChoiceView { 1: i32 y }"], roots: ["a.thrift"]) == nil)
    }

    @Test func aSiblingFileNotGeneratedStillCounts() throws {
        // The plugin generates one file per run and names the target's others (`--module-idl`).
        let files = ["a.thrift": "namespace swift App\nstruct Item {}", "b.thrift": "namespace swift App\nenum Item { A = 1 }"]
        let message = try #require(try Self.message(files, roots: ["a.thrift", "b.thrift"], generating: ["a.thrift"]))
        #expect(message.contains("enum Item") && message.contains("a.thrift:2:1") && message.contains("in module App"))
    }

    @Test func anIncludingFileSeesBothItems() throws {
        let files = [
            "a.thrift": "struct Item { 1: i32 x }",
            "b.thrift": "struct Item { 1: string s }",
            "c.thrift": "include \"a.thrift\"\ninclude \"b.thrift\"\nstruct Order { 1: a.Item first, 2: b.Item second }",
        ]
        let message = try #require(try Self.message(files, roots: ["c.thrift"]))
        #expect(message.contains("a.thrift:1:1") && message.contains("b.thrift:1:1") && message.contains("Swift type Item"))
    }

    @Test func itemsOfTwoImportedModulesAreAmbiguous() throws {
        let files = [
            "a.thrift": "namespace swift A\nstruct Item { 1: i32 x }",
            "b.thrift": "namespace swift B\nstruct Item { 1: string s }",
            "c.thrift": "namespace swift C\ninclude \"a.thrift\"\ninclude \"b.thrift\"\nstruct Order { 1: a.Item first, 2: b.Item second }",
        ]
        let message = try #require(try Self.message(files, roots: ["c.thrift"]))
        #expect(
            message
                == "c.thrift:4:19: error: a.Item (struct Item at a.thrift:2:1) and struct Item at b.thrift:2:1 are both the Swift type "
                + "Item in the code generated from c.thrift; "
                + "rename one, or give one file its own `namespace swift Module` and generate it into another target")
    }

    @Test func renamesCount() throws {
        // `Error` is generated as `Error_`.
        let message = try #require(try Self.message(["main.thrift": "struct Error {}\nstruct Error_ {}"], roots: ["main.thrift"]))
        #expect(message.contains("struct Error_ and struct Error at main.thrift:1:1 are both the Swift type Error_"))
    }

    @Test func distinctNamesAndSeparateModulesPass() throws {
        #expect(try Self.message(["a.thrift": "struct Item {}", "b.thrift": "struct Order {}"], roots: ["a.thrift", "b.thrift"]) == nil)
        // Same name in two modules, and a file using only one of them and its own types.
        let files = [
            "a.thrift": "namespace swift A\nstruct Item {}",
            "b.thrift": "namespace swift B\nstruct Item {}",
            "c.thrift": "namespace swift C\ninclude \"a.thrift\"\nstruct Order { 1: a.Item item }",
        ]
        #expect(try Self.message(files, roots: ["a.thrift", "b.thrift", "c.thrift"]) == nil)
    }

    @Test func theCommandLineFailsWithTheMessage() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apus-clash-\(UInt64.random(in: 0...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "struct Item {}".write(toFile: directory + "/a.thrift", atomically: true, encoding: .utf8)
        try "struct Item {}".write(toFile: directory + "/b.thrift", atomically: true, encoding: .utf8)
        let generation = CodeGeneration(
            inputs: [directory + "/a.thrift"], outputDirectory: directory + "/out", moduleFiles: [directory + "/b.thrift"])
        #expect(throws: CodeGeneration.Failure.self) { try generation.run() }
        #expect(!FileManager.default.fileExists(atPath: directory + "/out/a.thrift.swift"))
    }
}
