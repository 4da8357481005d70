import ApusThrift
import Foundation
import Testing

/// Random values of crosslang.thrift through Apus's generated code and Apache
/// Thrift's Python library (code from Debian's thrift-compiler, generated at
/// test time by scripts/interop/crosslang.py), compared by value both ways:
/// (a) Apus encodes; Python decodes, skipping and leaving unset nothing, and
/// re-encodes; Apus decodes that and compares it with its original.
/// (b) Python encodes; Apus decodes and re-encodes; Python decodes that and
/// compares it with its original. Both sides also agree on `Defaults()`.
/// (c) Python's bytes read through the generated `EverythingView` (in place)
/// and written again decode to the same value as the owned decoding.
@Suite(.enabled(if: CrossLangScript.isAvailable, "needs /usr/bin/python3 with thrift and thrift-compiler: bash scripts/setup.sh"))
struct CrossLanguageTests {
    static let count = 250

    @Test(arguments: ThriftProtocolID.allCases)
    func randomValuesMatchApacheThriftPython(_ protocolID: ThriftProtocolID) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("apus-crosslang-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let swiftSeed: UInt64 = protocolID == .binary ? 0x5EED_0001 : 0x5EED_0002
        let pythonSeed: UInt64 = swiftSeed + 0x100

        var random = RandomValues(seed: swiftSeed)
        let originals = (0..<Self.count).map { _ in random.everything() }
        try RecordFile.write(originals.map { try Thrift.encode($0, protocol: protocolID) }, to: directory.appendingPathComponent("swift.bin"))
        try RecordFile.write([Thrift.encode(Defaults(), protocol: protocolID)], to: directory.appendingPathComponent("swift-defaults.bin"))

        if let failure = try await CrossLangScript.run(
            "echo", directory: directory, protocol: protocolID.rawValue, seed: pythonSeed, count: Self.count)
        {
            Issue.record("\(failure)")
            guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("python.bin").path) else { return }
        }

        // (a) Apus → Python → Apus.
        let echoed = try RecordFile.read(directory.appendingPathComponent("swift-echoed.bin"))
        #expect(echoed.count == Self.count)
        for (index, (original, bytes)) in zip(originals, echoed).enumerated() {
            do {
                let decoded = try Thrift.decode(Everything.self, from: bytes, protocol: protocolID)
                if let difference = ValueDifference.path(original, decoded, at: "Everything") {
                    Issue.record("\(protocolID) value \(index) (seed \(swiftSeed)) came back from Python different at \(difference)")
                }
            } catch {
                Issue.record("\(protocolID) value \(index) (seed \(swiftSeed)): Python's re-encoding does not decode: \(error)")
            }
        }
        let pythonDefaults = try RecordFile.read(directory.appendingPathComponent("python-defaults.bin"))
        #expect(try Thrift.decode(Defaults.self, from: #require(pythonDefaults.first), protocol: protocolID) == Defaults())

        // (b) Python → Apus → Python: Python compares with its originals in `check`.
        var reencoded: [[UInt8]] = []
        for (index, bytes) in try RecordFile.read(directory.appendingPathComponent("python.bin")).enumerated() {
            do {
                let owned = try Thrift.decode(Everything.self, from: bytes, protocol: protocolID)
                reencoded.append(try Thrift.encode(owned, protocol: protocolID))
                // (c) The generated view reads the same bytes in place; written again, it says what they said.
                do {
                    let throughView = try bytes.withUnsafeBytes { input throws(ThriftError) in
                        try Thrift.encode(Thrift.decode(EverythingView.self, from: input, protocol: protocolID), protocol: protocolID)
                    }
                    let again = try Thrift.decode(Everything.self, from: throughView, protocol: protocolID)
                    if let difference = ValueDifference.path(owned, again, at: "EverythingView") {
                        Issue.record("\(protocolID) Python value \(index) (seed \(pythonSeed)) differs through the view at \(difference)")
                    }
                } catch {
                    Issue.record("\(protocolID) Python value \(index) (seed \(pythonSeed)) fails through the view: \(error)")
                }
            } catch {
                Issue.record("\(protocolID) Python value \(index) (seed \(pythonSeed)) does not decode: \(error)")
                reencoded.append([])
            }
        }
        try RecordFile.write(reencoded, to: directory.appendingPathComponent("python-echoed.bin"))
        if let failure = try await CrossLangScript.run(
            "check", directory: directory, protocol: protocolID.rawValue, seed: pythonSeed, count: Self.count)
        {
            Issue.record("\(failure)")
        }
    }
}
