#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Loads IDL files and everything they include, then checks names and
/// values across them. Problems in any file are collected and thrown together.
public struct IDLLoader: Sendable {
    /// Directories searched (after the including file's own) for `include "x.thrift"`: `-I`.
    public var searchPaths: [String]
    /// Reads a file, or returns nil when there is none (tests substitute an in-memory set).
    public var readFile: @Sendable (String) -> String?

    public init(searchPaths: [String] = [], readFile: @escaping @Sendable (String) -> String? = IDLLoader.readFromDisk) {
        self.searchPaths = searchPaths
        self.readFile = readFile
    }

    @Sendable
    public static func readFromDisk(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Loads `paths` and their includes. Throws when any file has an error;
    /// warnings alone come back in `IDLProgram.warnings`.
    public func load(_ paths: [String]) throws(IDLError) -> IDLProgram {
        var state = LoadState()
        var roots: [String] = []
        for path in paths {
            let normalized = Self.normalize(path)
            guard let source = readFile(normalized) else {
                state.diagnostics.append(Diagnostic(.error, "cannot read '\(path)'", at: SourceLocation(file: path, line: 1, column: 1)))
                continue
            }
            if !roots.contains(normalized) { roots.append(normalized) }
            load(normalized, source: source, chain: [], state: &state)
        }
        var program = IDLProgram(files: state.files, roots: roots, warnings: [])
        if !state.diagnostics.contains(where: { $0.severity == .error }) {
            var resolver = Resolver(program: program, sources: state.sources)
            resolver.check()
            state.diagnostics += resolver.diagnostics
        }
        let diagnostics = state.diagnostics
        if diagnostics.contains(where: { $0.severity == .error }) { throw IDLError(diagnostics) }
        program.warnings = diagnostics
        return program
    }

    private struct LoadState {
        var files: [String: IDLProgram.File] = [:]
        var sources: [String: String] = [:]
        var diagnostics: [Diagnostic] = []
    }

    private func load(_ path: String, source: String, chain: [String], state: inout LoadState) {
        guard state.files[path] == nil else { return }
        let (document, diagnostics) = IDLParser.parse(source, path: path)
        state.diagnostics += diagnostics
        state.sources[path] = source
        state.files[path] = IDLProgram.File(path: path, document: document, includes: [:])
        var includes: [String: String] = [:]
        for include in document.includes {
            let located = locate(include.path, from: path)
            guard let (includedPath, includedSource) = located else {
                state.diagnostics.append(
                    diagnostic(.error, "cannot find included file '\(include.path)'", at: include.location, sources: state.sources))
                continue
            }
            if includedPath == path || chain.contains(includedPath) {
                let cycle = (chain + [path, includedPath]).drop { $0 != includedPath }.map(IDLProgram.File.baseName(of:))
                state.diagnostics.append(
                    diagnostic(.error, "include cycle: \(cycle.joined(separator: " -> "))", at: include.location, sources: state.sources)
                )
                continue
            }
            let prefix = IDLProgram.File.baseName(of: includedPath)
            if let earlier = includes[prefix], earlier != includedPath {
                state.diagnostics.append(
                    diagnostic(.error, "two included files are both named '\(prefix)'", at: include.location, sources: state.sources)
                )
                continue
            }
            includes[prefix] = includedPath
            load(includedPath, source: includedSource, chain: chain + [path], state: &state)
        }
        state.files[path]?.includes = includes
    }

    private func locate(_ include: String, from path: String) -> (String, String)? {
        let directory = Self.directory(of: path)
        let candidates = include.hasPrefix("/") ? [include] : ([directory] + searchPaths).map { Self.join($0, include) }
        for candidate in candidates {
            let normalized = Self.normalize(candidate)
            if let source = readFile(normalized) { return (normalized, source) }
        }
        return nil
    }

    private func diagnostic(
        _ severity: Diagnostic.Severity, _ message: String, at location: SourceLocation, sources: [String: String]
    ) -> Diagnostic {
        Diagnostic(severity, message, at: location, sourceLine: Self.line(location.line, of: sources[location.file]))
    }

    static func line(_ number: Int, of source: String?) -> String? {
        guard let source else { return nil }
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        return lines.indices.contains(number - 1) ? String(lines[number - 1].trimmingSuffix("\r")) : nil
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func join(_ directory: String, _ path: String) -> String {
        directory.isEmpty || directory == "." ? path : directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }

    /// Removes `.` and resolvable `..` components so one file has one key.
    public static func normalize(_ path: String) -> String {
        let isAbsolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
                continue
            }
            if part == "..", isAbsolute { continue }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        return isAbsolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
}
