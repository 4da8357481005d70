import ApusCodegen
import ArgumentParser

/// `apus gen`: Thrift IDL to Swift for ApusThrift and ApusRPC.
struct Gen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate Swift from Thrift IDL files.",
        discussion: """
            Writes one <file>.thrift.swift per IDL file, or with --split-services \
            <file>_types.swift (structs, unions, exceptions, enums, typedefs, consts) plus \
            <Service>.swift per service. Output is deterministic. Includes are resolved against the including file's directory, \
            then each -I directory in order. Two types that would get one Swift name in one module \
            (a.Item and b.Item) are an error. Exit status 1 on any error; every error found is printed.
            """
    )

    @Argument(help: "The IDL files to generate.")
    var files: [String]

    @Option(name: .shortAndLong, help: "The directory to write into (created if missing).")
    var output: String

    @Option(
        name: .customShort("I", allowingJoined: true),
        help: ArgumentHelp("A directory to search for included files (repeatable).", valueName: "dir"))
    var includePaths: [String] = []

    @Flag(help: "Write <file>_types.swift plus <Service>.swift per service instead of one file per IDL file.")
    var splitServices = false

    @Option(help: ArgumentHelp("The access level of the generated declarations.", valueName: "level"))
    var accessLevel = SwiftGenerator.AccessLevel.public

    @Option(
        name: .customLong("module-idl"),
        help: ArgumentHelp(
            "Another IDL file compiled into the same Swift module (repeatable): checked for clashing type names, not generated.",
            valueName: "file"))
    var moduleFiles: [String] = []

    func run() throws {
        let generation = CodeGeneration(
            inputs: files, outputDirectory: output, searchPaths: includePaths,
            layout: splitServices ? .typesAndServices : .oneFilePerIDL,
            accessLevel: accessLevel, moduleFiles: moduleFiles
        )
        do throws(CodeGeneration.Failure) {
            let outcome = try generation.run()
            for warning in outcome.warnings { Console.error(warning.description) }
            for file in outcome.files { Console.out(file) }
        } catch {
            Console.error(error.description)
            throw ExitCode.failure
        }
    }
}

extension SwiftGenerator.AccessLevel: ExpressibleByArgument {}
