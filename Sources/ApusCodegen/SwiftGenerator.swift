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

    public init(program: IDLProgram, layout: Layout = .typesAndServices, accessLevel: AccessLevel = .public) {
        self.program = program
        self.layout = layout
        self.accessLevel = accessLevel
    }

    /// Generates the root files of the program, in root order.
    public func generate() throws(CodegenError) -> [GeneratedFile] {
        var files: [GeneratedFile] = []
        var names: [String: String] = [:]
        for root in program.roots {
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
