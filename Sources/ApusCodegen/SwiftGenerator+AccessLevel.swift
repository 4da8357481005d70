extension SwiftGenerator {
    /// The access level of every declaration generated code makes: `public` for
    /// a library target others import, `package` to share generated types only
    /// within one Swift package, `internal` to keep them inside the target.
    public enum AccessLevel: String, CaseIterable, Hashable, Sendable {
        case `public`, `package`, `internal`

        /// The modifier before a declaration: `public `, `package `, or nothing for
        /// internal (the default, so spelling it would only add noise).
        var modifier: String {
            switch self {
            case .public: "public "
            case .package: "package "
            case .internal: ""
            }
        }
    }
}
