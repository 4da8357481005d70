import ApusIDL

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What `apus gen` and the build plugin do: load IDL files, generate Swift,
/// write it. Files whose contents did not change are left alone, so a build
/// does not recompile them.
public struct CodeGeneration: Sendable {
    public var inputs: [String]
    public var outputDirectory: String
    public var searchPaths: [String]
    public var layout: SwiftGenerator.Layout
    public var accessLevel: SwiftGenerator.AccessLevel
    /// Other IDL files compiled into the same Swift module: parsed and checked
    /// for clashing type names, not generated (the build plugin runs once per
    /// file and names the target's other files here).
    public var moduleFiles: [String]

    public init(
        inputs: [String], outputDirectory: String, searchPaths: [String] = [], layout: SwiftGenerator.Layout = .typesAndServices,
        accessLevel: SwiftGenerator.AccessLevel = .public, moduleFiles: [String] = []
    ) {
        self.inputs = inputs
        self.outputDirectory = outputDirectory
        self.searchPaths = searchPaths
        self.layout = layout
        self.accessLevel = accessLevel
        self.moduleFiles = moduleFiles
    }

    public struct Outcome: Sendable {
        /// Every generated file's path, written or already current.
        public var files: [String]
        public var warnings: [Diagnostic]
    }

    public enum Failure: Error, Sendable, CustomStringConvertible {
        case idl(IDLError)
        case codegen(CodegenError)
        case write(path: String, reason: String)

        public var description: String {
            switch self {
            case .idl(let error): error.description
            case .codegen(let error): error.description
            case .write(let path, let reason): "error: cannot write \(path): \(reason)"
            }
        }
    }

    public func run() throws(Failure) -> Outcome {
        let program: IDLProgram
        do throws(IDLError) {
            program = try IDLLoader(searchPaths: searchPaths).load(inputs + moduleFiles)
        } catch {
            throw .idl(error)
        }
        let files: [GeneratedFile]
        do throws(CodegenError) {
            var generating: [String] = []
            for input in inputs.map(IDLLoader.normalize) where !generating.contains(input) { generating.append(input) }
            files = try SwiftGenerator(program: program, layout: layout, accessLevel: accessLevel, generating: generating).generate()
        } catch {
            throw .codegen(error)
        }
        do {
            try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        } catch {
            throw .write(path: outputDirectory, reason: "\(error)")
        }
        var paths: [String] = []
        for file in files {
            let path = outputDirectory.hasSuffix("/") ? outputDirectory + file.name : outputDirectory + "/" + file.name
            paths.append(path)
            let bytes = Data(file.contents.utf8)
            if FileManager.default.contents(atPath: path) == bytes { continue }
            do {
                try bytes.write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw .write(path: path, reason: "\(error)")
            }
        }
        return Outcome(files: paths, warnings: program.warnings)
    }
}
