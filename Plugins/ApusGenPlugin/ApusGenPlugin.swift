import Foundation
import PackagePlugin

/// Generates Swift for every `.thrift` file among a target's sources: one
/// `<file>.thrift.swift` each (a build command must name its output before it
/// runs, so the plugin uses the one-file-per-IDL layout). Includes resolve
/// against the including file's directory, then the target's directory.
/// Options come from `apus-gen.json` in the target's directory (`ApusGenConfig`).
@main
struct ApusGenPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let target = target as? SourceModuleTarget else { return [] }
        let idlFiles = target.sourceFiles(withSuffix: "thrift").map(\.url).sorted { $0.path < $1.path }
        guard !idlFiles.isEmpty else { return [] }
        let (config, configFile) = try ApusGenConfig.load(from: target.directoryURL)
        let tool = try context.tool(named: "apus-gen")
        let output = context.pluginWorkDirectoryURL.appending(path: "Generated")
        return idlFiles.map { idl in
            let name = idl.deletingPathExtension().lastPathComponent + ".thrift.swift"
            // The target's other IDL files share its module: named so two types with one Swift name are caught.
            let siblings = idlFiles.filter { $0 != idl }.flatMap { ["--module-idl", $0.path] }
            return .buildCommand(
                displayName: "apus gen \(idl.lastPathComponent)",
                executable: tool.url,
                arguments: ["--one-file-per-idl"] + config.arguments + siblings
                    + ["-o", output.path, "-I", target.directoryURL.path, idl.path],
                // Every IDL file of the target: an include may be any of them.
                inputFiles: idlFiles + (configFile.map { [$0] } ?? []),
                outputFiles: [output.appending(path: name)]
            )
        }
    }
}
