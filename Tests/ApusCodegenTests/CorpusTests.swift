import ApusCodegen
import ApusIDL
import Foundation
import Testing

/// The IDL corpus under Tests/ApusCodegenCorpus (compiled, and round-tripped
/// by ApusCodegenCorpusTests): it loads clean, ApusIDL sees the definitions
/// Apache's compiler sees, and it is as large and as deep as it claims.
@Suite struct CorpusTests {
    static let directory = TestSupport.repositoryRoot + "/Tests/ApusCodegenCorpus"

    struct Counts: Equatable, CustomStringConvertible {
        var structs = 0, fields = 0, enums = 0, typedefs = 0, consts = 0, services = 0, functions = 0

        var description: String {
            "\(structs) structs, \(fields) fields, \(enums) enums, \(typedefs) typedefs, \(consts) consts, \(services) services, \(functions) functions"
        }
    }

    /// As `thrift --gen json` (Apache Thrift 0.17) counts them; structs include unions and exceptions.
    static let expected: [String: Counts] = [
        "common/base.thrift": Counts(structs: 14, fields: 54, enums: 4, typedefs: 7, consts: 5, services: 1, functions: 5),
        "common/geo.thrift": Counts(structs: 7, fields: 42, enums: 4, typedefs: 4, consts: 2),
        "common/identity.thrift": Counts(structs: 5, fields: 61, enums: 5, typedefs: 4),
        "common/money.thrift": Counts(structs: 6, fields: 31, enums: 2, typedefs: 4, consts: 4),
        "common/pricing.thrift": Counts(structs: 7, fields: 40, enums: 2, typedefs: 1, consts: 1),
        "ads/exchange.thrift": Counts(structs: 26, fields: 349, enums: 9, typedefs: 7, consts: 4, services: 2, functions: 21),
        "commerce/catalog.thrift": Counts(structs: 20, fields: 213, enums: 7, typedefs: 6, consts: 4, services: 1, functions: 26),
        "commerce/orders.thrift": Counts(structs: 20, fields: 210, enums: 7, typedefs: 5, consts: 3, services: 2, functions: 28),
        "payments/ledger.thrift": Counts(structs: 19, fields: 229, enums: 8, typedefs: 7, consts: 3, services: 1, functions: 23),
        "search/indexing.thrift": Counts(structs: 21, fields: 204, enums: 6, typedefs: 5, consts: 5, services: 2, functions: 20),
        "social/feed.thrift": Counts(structs: 18, fields: 206, enums: 7, typedefs: 5, consts: 4, services: 1, functions: 26),
    ]

    static func paths() -> [String] {
        let files = FileManager.default.enumerator(atPath: directory)?.compactMap { $0 as? String } ?? []
        return files.filter { $0.hasSuffix(".thrift") }.sorted()
    }

    static func load() throws -> IDLProgram { try TestSupport.load(paths(), relativeTo: directory) }

    @Test func loadsWithoutWarningsAndMatchesApacheCounts() throws {
        let program = try Self.load()
        #expect(program.warnings.isEmpty, "\(program.warnings)")
        #expect(Self.paths() == Self.expected.keys.sorted())
        for path in Self.paths() {
            var counts = Counts()
            let file = try #require(program.file(path))
            for definition in file.document.definitions {
                switch definition {
                case .struct(let structure):
                    counts.structs += 1
                    counts.fields += structure.fields.count
                case .enum: counts.enums += 1
                case .typedef: counts.typedefs += 1
                case .const: counts.consts += 1
                case .service(let service):
                    counts.services += 1
                    counts.functions += service.functions.count
                }
            }
            #expect(counts == Self.expected[path], "\(path)")
        }
    }

    /// At least five service files of 200+ fields, each with a struct of 60+ fields.
    @Test func domainFilesAreLarge() throws {
        let program = try Self.load()
        let domains = Self.paths().filter { !$0.hasPrefix("common/") }
        #expect(domains.count >= 5)
        for path in domains {
            let structs = try #require(program.file(path)).document.definitions.compactMap { definition -> StructDefinition? in
                if case .struct(let structure) = definition { structure } else { nil }
            }
            #expect(structs.reduce(0) { $0 + $1.fields.count } >= 200, "\(path)")
            #expect(structs.contains { $0.fields.count >= 60 }, "\(path)")
        }
    }

    /// payments/ledger.thrift → commerce/orders → commerce/catalog → common/pricing → common/money → common/base,
    /// each include resolved against the including file's directory.
    @Test func includeChainsAreDeep() throws {
        let program = try Self.load()
        func depth(_ path: String) -> Int {
            1 + (program.file(path)?.includes.values.map(depth).max() ?? 0)
        }
        #expect(depth("payments/ledger.thrift") == 6)
        #expect(depth("search/indexing.thrift") == 5)
        #expect(depth("common/base.thrift") == 1)
    }

    /// ApusGenPlugin compiles every file of a target into one module, so no two files may declare the same name.
    @Test func typeNamesAreUniqueAcrossFiles() throws {
        let program = try Self.load()
        var owners: [String: [String]] = [:]
        for path in Self.paths() {
            for definition in try #require(program.file(path)).document.definitions {
                if case .const = definition { continue }
                owners[definition.name, default: []].append(path)
            }
        }
        #expect(owners.filter { $0.value.count > 1 }.isEmpty)
    }

    @Test func generatesOneFilePerIDL() throws {
        let files = try SwiftGenerator(program: Self.load(), layout: .oneFilePerIDL).generate()
        #expect(files.map(\.name) == Self.paths().map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent + ".thrift.swift" })
    }
}
