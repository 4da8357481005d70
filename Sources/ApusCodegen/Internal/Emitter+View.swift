import ApusIDL

/// View types (DESIGN decision 7): next to each struct and exception `Foo`, a
/// `FooView` that decodes in place. Strings and binaries become `BytesView`s,
/// lists, sets and maps `ListView`/`MapView`s, nested structs their views, all
/// pointing into the input, so decoding allocates nothing and copies nothing.
/// A view lives only as long as its input: inside the handler that received it.
extension Emitter {
    /// How a field is held in a view.
    enum ViewForm {
        /// As in the owned struct: numbers, enums, unions, and containers whose elements have
        /// no element form in a view (a list of lists).
        case owned
        case bytes
        case structure(String)
        case list(String)
        case set(String)
        case map(String, String)
    }

    static func viewName(_ structName: String) -> String { structName + "View" }

    func viewForm(_ type: TypeReference, _ path: String) throws(CodegenError) -> ViewForm {
        let (resolved, resolvedPath) = underlying(type, path)
        switch resolved {
        case .structure(let structure):
            return structure.kind == .union ? .owned : .structure(Self.viewName(SwiftNames.typeName(structure.name)))
        case .enumeration:
            return .owned
        case .base(let base):
            switch base {
            case .string, .binary:
                return .bytes
            case .list(let element):
                return try viewElement(element, resolvedPath).map(ViewForm.list) ?? .owned
            case .set(let element):
                return try viewElement(element, resolvedPath).map(ViewForm.set) ?? .owned
            case .map(let key, let value):
                guard let key = try viewElement(key, resolvedPath), let value = try viewElement(value, resolvedPath) else {
                    return .owned
                }
                return .map(key, value)
            default:
                return .owned
            }
        }
    }

    /// The element type a container view holds for `type`; nil when it has none.
    private func viewElement(_ type: TypeReference, _ path: String) throws(CodegenError) -> String? {
        switch try viewForm(type, path) {
        case .owned: return isElement(type, path) ? try swiftType(type, path) : nil
        case .bytes: return "BytesView"
        case .structure(let name): return name
        case .list, .set, .map: return nil
        }
    }

    struct ViewField {
        var model: FieldModel
        var form: ViewForm
        var isOptional: Bool
        var swiftType: String
        var initialValue: String
        var declaredType: String { isOptional ? swiftType + "?" : swiftType }
    }

    func viewFields(_ models: [FieldModel]) throws(CodegenError) -> [ViewField] {
        var fields: [ViewField] = []
        for model in models {
            let form = try viewForm(model.field.type, model.path)
            switch form {
            case .owned:
                fields.append(ViewField(model: model, form: form, isOptional: model.isOptional, swiftType: model.swiftType,
                                        initialValue: model.initialValue))
            default:
                let swiftType: String
                var initialValue = ".empty"
                switch form {
                case .bytes: swiftType = "BytesView"
                case .structure(let name): swiftType = name; initialValue = "\(name)()"
                case .list(let element), .set(let element): swiftType = "ListView<\(element)>"
                case .map(let key, let value): swiftType = "MapView<\(key), \(value)>"
                case .owned: preconditionFailure()
                }
                // A default the input may leave out cannot point into it: nil stands for it.
                let isOptional = model.isOptional || model.field.defaultValue != nil
                fields.append(ViewField(model: model, form: form, isOptional: isOptional, swiftType: swiftType,
                                        initialValue: isOptional ? "nil" : initialValue))
            }
        }
        return fields
    }

    func emitView(of structName: String, displayName: String, models: [FieldModel], into writer: inout CodeWriter) throws(CodegenError) {
        let name = Self.viewName(structName)
        let fields = try viewFields(models)
        writer.line("/// `\(structName)` read in place: strings, binaries and containers stay in the input, so")
        writer.line("/// decoding allocates nothing. Valid only while the input is (inside the call that received it).")
        if fields.contains(where: { $0.isOptional && !$0.model.isOptional }) {
            writer.line("/// A field whose IDL default is not a number is nil when the input left it out.")
        }
        try writer.block("\(access)struct \(name): ThriftCodable, ThriftElement {") { (writer) throws(CodegenError) in
            for field in fields {
                writer.line("\(access)var \(field.model.ident): \(field.declaredType) = \(field.initialValue)")
            }
            if !fields.isEmpty { writer.line() }
            writer.line("\(inlinablePrefix)\(access)init() {}")
            writer.line()
            let codecFields = fields.map { field in
                CodecField(model: field.model, isOptional: field.isOptional,
                           encode: { (value) throws(CodegenError) in try viewEncodeLines(field, value: value) },
                           decode: { (assign) throws(CodegenError) in try viewDecodeLines(field, assign: assign) })
            }
            try emitCodecBodies(codecFields, displayName: displayName, into: &writer)
        }
    }

    private func viewDecodeLines(_ field: ViewField, assign: (String) -> String) throws(CodegenError) -> [String] {
        switch field.form {
        case .owned: return try decodeLines(field.model.field.type, field.model.path, assign: assign)
        case .bytes: return [assign("try reader.readBinary()")]
        case .structure(let name): return [assign("try \(name)(from: &reader)")]
        case .list(let element): return [assign("try ListView<\(element)>(from: &reader)")]
        case .set(let element): return [assign("try ListView<\(element)>(from: &reader, set: true)")]
        case .map(let key, let value): return [assign("try MapView<\(key), \(value)>(from: &reader)")]
        }
    }

    private func viewEncodeLines(_ field: ViewField, value: String) throws(CodegenError) -> [String] {
        switch field.form {
        case .owned: return try encodeLines(field.model.field.type, field.model.path, value: value)
        case .bytes: return ["try writer.writeBinary(\(value))"]
        case .structure: return ["try \(value).encode(to: &writer)"]
        case .list: return ["try writer.writeList(\(value))"]
        case .set: return ["try writer.writeSet(\(value))"]
        case .map: return ["try writer.writeMap(\(value))"]
        }
    }
}
