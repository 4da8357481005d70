// The build plugin's tool: `apus gen` without the rest of the `apus`
// executable, so building a client does not build the servers.
// Usage: apus-gen [--split-services] [--access-level public|package|internal]
//        [--module-idl FILE]... -o DIR [-I DIR]... FILE.thrift...
import ApusCodegen

#if canImport(Glibc)
import Glibc
#endif

func printError(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}

var inputs: [String] = []
var output: String?
var searchPaths: [String] = []
var layout = SwiftGenerator.Layout.oneFilePerIDL
var accessLevel = SwiftGenerator.AccessLevel.public
var moduleFiles: [String] = []
let usage = "usage: apus-gen [--split-services] [--access-level public|package|internal] [--module-idl FILE]... -o DIR [-I DIR]... FILE.thrift..."
var arguments = CommandLine.arguments.dropFirst()[...]
while let argument = arguments.popFirst() {
    switch argument {
    case "-o", "--output": output = arguments.popFirst()
    case "-I": if let path = arguments.popFirst() { searchPaths.append(path) }
    case "--one-file-per-idl": layout = .oneFilePerIDL
    case "--split-services": layout = .typesAndServices
    case "--access-level":
        guard let level = arguments.popFirst().flatMap(SwiftGenerator.AccessLevel.init(rawValue:)) else {
            printError("error: --access-level takes public, package or internal\n" + usage)
            exit(2)
        }
        accessLevel = level
    case "--module-idl": if let path = arguments.popFirst() { moduleFiles.append(path) }
    case let joined where joined.hasPrefix("-I"): searchPaths.append(String(joined.dropFirst(2)))
    default: inputs.append(argument)
    }
}
guard let output, !inputs.isEmpty else {
    printError(usage)
    exit(2)
}
do throws(CodeGeneration.Failure) {
    let outcome = try CodeGeneration(
        inputs: inputs, outputDirectory: output, searchPaths: searchPaths, layout: layout, accessLevel: accessLevel,
        moduleFiles: moduleFiles
    ).run()
    for warning in outcome.warnings { printError(warning.description) }
} catch {
    printError(error.description)
    exit(1)
}
