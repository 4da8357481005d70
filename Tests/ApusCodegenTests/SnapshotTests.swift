import ApusCodegen
import ApusIDL
import Foundation
import Testing

/// Generated code for the fixtures, compared with the files under
/// Fixtures/Snapshots. Refresh them after an intended change with
/// `APUS_UPDATE_SNAPSHOTS=1 swift test --filter SnapshotTests`.
@Suite struct SnapshotTests {
    static let fixtures = ["everything.thrift", "include/shared.thrift"]

    @Test(arguments: fixtures) func matchesSnapshot(_ fixture: String) throws {
        let program = try TestSupport.load([fixture], relativeTo: TestSupport.fixturesDirectory, searchPaths: ["include"])
        let files = try SwiftGenerator(program: program).generate()
        #expect(!files.isEmpty)
        for file in files {
            let path = TestSupport.fixturesDirectory + "/Snapshots/" + file.name
            let snapshot = try #require(
                TestSupport.snapshot(file.contents, at: path), "no snapshot \(file.name); run with APUS_UPDATE_SNAPSHOTS=1")
            #expect(file.contents == snapshot, "\(file.name) differs from its snapshot; run with APUS_UPDATE_SNAPSHOTS=1 if intended")
        }
    }

    @Test func outputIsDeterministic() throws {
        let first = try TestSupport.load(["everything.thrift"], relativeTo: TestSupport.fixturesDirectory, searchPaths: ["include"])
        let second = try TestSupport.load(["everything.thrift"], relativeTo: TestSupport.fixturesDirectory, searchPaths: ["include"])
        #expect(try SwiftGenerator(program: first).generate() == SwiftGenerator(program: second).generate())
    }
}
