import ApusCodegen
import ApusIDL
import Foundation
import Testing

/// `--access-level`: every declaration takes the chosen level. That the output
/// compiles at each level is shown by the targets the plugin generates:
/// ApusCodegenCorpus (package, used from another module), ApusGenPluginTests
/// (internal) and the rest (public).
@Suite struct AccessLevelTests {
    static let source = """
        enum Kind { A = 1 }
        struct S { 1: i32 x, 2: Kind kind }
        union U { 1: string s }
        typedef S T
        const i32 LIMIT = 3
        service Svc { S get(1: U u) }
        """

    static func generate(_ level: SwiftGenerator.AccessLevel) throws -> String {
        let program = try TestSupport.load(["main.thrift": source])
        return try SwiftGenerator(program: program, layout: .oneFilePerIDL, accessLevel: level).generate()[0].contents
    }

    @Test func publicIsTheDefault() throws {
        let program = try TestSupport.load(["main.thrift": Self.source])
        #expect(try SwiftGenerator(program: program, layout: .oneFilePerIDL).generate()[0].contents == Self.generate(.public))
    }

    @Test func packageReplacesEveryPublic() throws {
        let packaged = try Self.generate(.package)
        #expect(!packaged.contains("public"))
        #expect(packaged == (try Self.generate(.public)).replacingOccurrences(of: "public ", with: "package "))
        #expect(packaged.contains("@inlinable\n    package func encode<Writer"))
    }

    @Test func internalDropsTheModifierAndInlinable() throws {
        let unmarked = try Self.generate(.internal)
        #expect(!unmarked.contains("public") && !unmarked.contains("package ") && !unmarked.contains("@inlinable"))
        #expect(unmarked.contains("\nstruct S: Sendable, Hashable {\n    var x: Int32\n"))
        #expect(unmarked.contains("    protocol ClientProtocol: Sendable {"))
    }
}
