import ApusCodegen
import ApusIDL
import Foundation

enum TestSupport {
    /// This directory, with symlinks resolved so tests also run from a package that links the sources in.
    static let testsDirectory: String = {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().path
    }()

    static let fixturesDirectory = testsDirectory + "/Fixtures"

    /// The repository root (two levels above this directory).
    static let repositoryRoot: String = {
        URL(fileURLWithPath: testsDirectory).deletingLastPathComponent().deletingLastPathComponent().path
    }()

    /// Loads IDL from memory: `files` maps paths to contents.
    static func load(_ files: [String: String], roots: [String]? = nil, searchPaths: [String] = []) throws(IDLError) -> IDLProgram {
        try IDLLoader(searchPaths: searchPaths, readFile: { files[$0] }).load(roots ?? files.keys.sorted())
    }

    /// Loads files relative to `directory`, keeping the relative paths for headers and diagnostics.
    static func load(_ paths: [String], relativeTo directory: String, searchPaths: [String] = []) throws(IDLError) -> IDLProgram {
        try IDLLoader(searchPaths: searchPaths, readFile: { IDLLoader.readFromDisk(directory + "/" + $0) }).load(paths)
    }

    /// The errors `source` produces, as `line:column: message`.
    static func errors(in source: String, path: String = "test.thrift") -> [String] {
        do {
            _ = try load([path: source])
            return []
        } catch {
            return error.errors.map { "\($0.location.line):\($0.location.column): \($0.message)" }
        }
    }

    /// Writes `contents` to `path` when `APUS_UPDATE_SNAPSHOTS=1`, else returns what is on disk.
    static func snapshot(_ contents: String, at path: String) -> String? {
        if ProcessInfo.processInfo.environment["APUS_UPDATE_SNAPSHOTS"] == "1" {
            try? FileManager.default.createDirectory(
                atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true
            )
            try? contents.write(toFile: path, atomically: true, encoding: .utf8)
            return contents
        }
        return try? String(contentsOfFile: path, encoding: .utf8)
    }
}
