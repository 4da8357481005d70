import ApusIDL

/// Turns a resolved IDL program into Swift source for ApusThrift and ApusRPC.
///
/// By default each IDL file named as a root gives `<file>_types.swift`
/// (structs, unions, exceptions, enums, typedefs, consts; omitted when there
/// are none) and one `<Service>.swift` per service. Output depends only on the
/// program, so regenerating is deterministic.
public struct SwiftGenerator: Sendable {
    /// How output is split into files.
    public enum Layout: Hashable, Sendable {
        /// `<file>_types.swift` plus `<Service>.swift` per service: the layout of
        /// Sources/ApusExamples/Generated.
        case typesAndServices
        /// One `<file>.thrift.swift` per IDL file, always written: what the build
        /// plugin uses, since it must name its outputs before generating them.
        case oneFilePerIDL
    }

    public let program: IDLProgram
    public let layout: Layout
    public let accessLevel: AccessLevel
    /// The files to generate: the program's roots unless told otherwise. Other
    /// roots are still checked for Swift names that clash with these (the build
    /// plugin loads a target's other IDL files that way, one generation per file).
    public let generating: [String]

    public init(program: IDLProgram, layout: Layout = .typesAndServices, accessLevel: AccessLevel = .public, generating: [String]? = nil) {
        self.program = program
        self.layout = layout
        self.accessLevel = accessLevel
        self.generating = generating ?? program.roots
    }

    /// Generates the files in `generating`, in that order.
    public func generate() throws(CodegenError) -> [GeneratedFile] {
        try TypeNameClashes(program: program).check(generating)
        var files: [GeneratedFile] = []
        var names: [String: String] = [:]
        for root in generating {
            guard let file = program.file(root) else { continue }
            for generated in try Emitter(program: program, file: file, accessLevel: accessLevel).files(layout: layout) {
                if let other = names[generated.name] {
                    throw CodegenError("\(root) and \(other) both generate \(generated.name)")
                }
                names[generated.name] = root
                files.append(generated)
            }
        }
        return files
    }
}
