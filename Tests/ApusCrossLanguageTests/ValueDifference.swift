/// Where two values of generated types differ (`Everything.containers.hands`),
/// so a mismatch message names the field rather than printing two whole values.
enum ValueDifference {
    static func path(_ expected: Any, _ actual: Any, at path: String) -> String? {
        if let left = expected as? AnyHashable, let right = actual as? AnyHashable, left == right { return nil }
        let left = Mirror(reflecting: expected)
        let right = Mirror(reflecting: actual)
        // Structs, unions (one child, labelled by the case), optionals and arrays
        // line up child by child; sets and dictionaries are reported whole.
        let comparable: Set<Mirror.DisplayStyle> = [.struct, .enum, .optional, .collection]
        if let style = left.displayStyle, comparable.contains(style), style == right.displayStyle,
            left.children.count == right.children.count,
            zip(left.children, right.children).allSatisfy({ $0.label == $1.label })
        {
            for (index, (l, r)) in zip(left.children, right.children).enumerated() {
                let component =
                    switch style {
                    case .collection: "[\(index)]"
                    case .optional: ""
                    default: "." + (l.label ?? "\(index)")
                    }
                if let found = Self.path(l.value, r.value, at: path + component) { return found }
            }
        }
        return "\(path): expected \(describe(expected)), got \(describe(actual))"
    }

    private static func describe(_ value: Any) -> String {
        let text = String(describing: value)
        return text.count <= 160 ? text : text.prefix(160) + "…"
    }
}
