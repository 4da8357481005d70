import ApusCodegen
import ApusIDL
import Foundation
import Testing

/// Mutated and random IDL must never trap the parser, the resolver or the generator.
/// Seeded, and bounded to a couple of seconds.
@Suite struct IDLFuzzTests {
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let fragments = [
        "struct", "union", "exception", "enum", "service", "typedef", "const", "include", "namespace", "extends",
        "oneway", "void", "throws", "required", "optional", "list<", "map<", "set<", ">", "{", "}", "(", ")", "[", "]",
        ",", ";", ":", "=", "1:", "-1", "0x7fffffff", "99999999999999999999", "1.5e3", "\"s\"", "'q'", "\"\\u12\"",
        "/**doc*/", "/*", "*/", "//", "#", "\n", " ", "A", "A.B", "shared.Item", "i32", "binary", "uuid", "byte",
        "(a = \"b\")", "@", "é", "\0", "\"",
    ]

    static func mutate(_ text: String, using random: inout SplitMix64) -> String {
        var bytes = Array(text.utf8)
        for _ in 0..<Int.random(in: 1...8, using: &random) {
            switch Int.random(in: 0..<4, using: &random) {
            case 0 where !bytes.isEmpty:
                bytes.remove(at: Int.random(in: 0..<bytes.count, using: &random))
            case 1:
                let fragment = Array(fragments.randomElement(using: &random)!.utf8)
                bytes.insert(contentsOf: fragment, at: Int.random(in: 0...bytes.count, using: &random))
            case 2 where !bytes.isEmpty:
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            default:
                bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random)))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses, resolves and (when that succeeds) generates; any outcome but a trap is fine.
    static func exercise(_ source: String, shared: String) {
        let files = ["main.thrift": source, "shared.thrift": shared]
        guard let program = try? IDLLoader(readFile: { files[$0] }).load(["main.thrift"]) else { return }
        _ = try? SwiftGenerator(program: program).generate()
    }

    @Test func mutatedFixturesNeverTrap() throws {
        let everything = try String(contentsOfFile: TestSupport.fixturesDirectory + "/everything.thrift", encoding: .utf8)
        let shared = try String(contentsOfFile: TestSupport.fixturesDirectory + "/include/shared.thrift", encoding: .utf8)
        var random = SplitMix64(state: 0xA905)
        let deadline = ContinuousClock.now + .seconds(2)
        var runs = 0
        while ContinuousClock.now < deadline {
            Self.exercise(Self.mutate(everything, using: &random), shared: shared)
            runs += 1
        }
        #expect(runs > 10)
    }

    @Test func randomTokenSoupNeverTraps() {
        var random = SplitMix64(state: 7)
        let deadline = ContinuousClock.now + .seconds(1)
        while ContinuousClock.now < deadline {
            let count = Int.random(in: 0..<80, using: &random)
            let source = (0..<count).map { _ in Self.fragments.randomElement(using: &random)! }.joined(separator: " ")
            Self.exercise(source, shared: "struct Item {}")
        }
    }

    @Test func deepNestingIsAnErrorNotAStackOverflow() {
        let deepType = "struct S { 1: " + String(repeating: "list<", count: 5000) + "i32" + String(repeating: ">", count: 5000) + " x }"
        #expect(TestSupport.errors(in: deepType).first?.contains("nest more than") == true)
        let deepValue = "const list<i32> X = " + String(repeating: "[", count: 5000)
        #expect(TestSupport.errors(in: deepValue).first?.contains("nest more than") == true)
    }
}
