import ApusIDL

extension Emitter {
    /// A function as its service's generated code sees it.
    struct FunctionModel {
        var function: ServiceDefinition.Function
        /// The Swift name of the service that declares it (differs for inherited functions).
        var owner: String
        var isInherited: Bool
        var name: String
        var parameters: [FieldModel]
        var exceptions: [FieldModel]
        /// `nil` for void.
        var returnType: String?
        var path: String

        /// The nested argument and result structs' names (see `nestedTypeNames`).
        var argsName: String
        var resultName: String

        var ident: String { SwiftNames.escaped(name) }
        var qualifier: String { isInherited ? "\(owner)." : "" }
        var argsType: String { qualifier + argsName }
        /// `(apus.views)`: the handler takes views of its arguments, read in place, synchronously.
        var takesViews: Bool { Emitter.isOn(function.annotations["apus.views"]) }
        var argsViewType: String { qualifier + Emitter.viewName(argsName) }
        var resultType: String { qualifier + resultName }
    }

    /// A flag annotation is on unless it says "false" or "0" (a bare `(key)` is "1").
    static func isOn(_ value: String?) -> Bool { value.map { $0 != "false" && $0 != "0" } ?? false }

    /// `EchoItemArgs` and `EchoItemResult` for `echoItem`: from the IDL name, so a
    /// member renamed to dodge a clash (`all_`) keeps a clean type name. Nested in
    /// the service's enum they would shadow an IDL type of the same name (the
    /// common `SearchResult search(...)`), so where the declaring file can see
    /// such a type (`visible`, from `visibleTypeNames`) they get a trailing
    /// underscore. Decided from the declaring file alone, so every service
    /// extending this one, in whichever file, names them the same way.
    func nestedTypeNames(_ function: ServiceDefinition.Function, visible: Set<String>) -> (args: String, result: String) {
        let prefix = SwiftNames.upperFirst(SwiftNames.lowerCamel(function.name))
        func unshadowed(_ name: String) -> String {
            var name = name
            while visible.contains(name) { name += "_" }
            return name
        }
        return (unshadowed(prefix + "Args"), unshadowed(prefix + "Result"))
    }

    /// The Swift names of the types declared in the file at `path` and in the files it includes, transitively.
    func visibleTypeNames(from path: String) -> Set<String> {
        var names: Set<String> = []
        var visited: Set<String> = []
        var pending = [path]
        while let next = pending.popLast() {
            guard visited.insert(next).inserted, let file = program.file(next) else { continue }
            for definition in file.document.definitions {
                switch definition {
                case .struct, .enum, .typedef, .service: names.insert(SwiftNames.typeName(definition.name))
                case .const: break
                }
            }
            pending += file.includes.values
        }
        return names
    }

    /// A parameter as Apache Thrift treats it: `optional` is ignored in argument
    /// lists, so such an argument is written by the client and read if present by
    /// the server (the handler sees its default when it is not), like one without a
    /// keyword; `required` holds: Apache's servers reject a call without it
    /// (C++ TProtocolException INVALID_DATA, Python's validate), and so does Apus.
    static func argument(_ parameter: Field) -> Field {
        guard parameter.requiredness == .optional else { return parameter }
        var parameter = parameter
        parameter.requiredness = .default
        return parameter
    }

    /// Functions of `service`, inherited ones first (`extends` composes).
    func functionModels(_ service: ServiceDefinition, path: String, depth: Int = 0) throws(CodegenError) -> [FunctionModel] {
        guard depth < 64 else { throw CodegenError("service \(service.name) extends itself", location: service.location.description) }
        var models: [FunctionModel] = []
        if let base = service.extends {
            guard let found = program.definition(named: base, from: path), case .service(let baseService) = found.value else {
                throw CodegenError("unknown service '\(base)'", location: service.extendsLocation?.description)
            }
            models = try functionModels(baseService, path: found.file.path, depth: depth + 1).map { model in
                var model = model
                model.isInherited = true
                return model
            }
        }
        let owner = SwiftNames.typeName(service.name)
        let names = SwiftNames.members(service.functions.map(\.name), avoiding: ["all", "transport"])
        let visible = visibleTypeNames(from: path)
        for (function, name) in zip(service.functions, names) {
            if let clash = models.first(where: { $0.name == name }) {
                throw CodegenError(
                    "\(service.name).\(function.name) has the same Swift name as \(clash.owner).\(clash.function.name), which it inherits",
                    location: function.location.description
                )
            }
            let parameterNames = SwiftNames.members(
                function.parameters.map(\.name), avoiding: ["context", "options", "transport", "result"])
            let exceptionNames = SwiftNames.members(function.exceptions.map(\.name), avoiding: ["success"])
            let nested = nestedTypeNames(function, visible: visible)
            models.append(
                FunctionModel(
                    function: function, owner: owner, isInherited: false, name: name,
                    parameters: try fieldModels(function.parameters.map(Self.argument), path: path, names: parameterNames),
                    exceptions: try fieldModels(function.exceptions, path: path, names: exceptionNames, allOptional: true),
                    returnType: try function.returnType.map { (type) throws(CodegenError) in try swiftType(type, path) }, path: path,
                    argsName: nested.args, resultName: nested.result
                )
            )
        }
        return models
    }

    func serviceFile(_ service: ServiceDefinition) throws(CodegenError) -> String {
        let name = SwiftNames.typeName(service.name)
        let functions = try functionModels(service, path: file.path)
        let own = functions.filter { !$0.isInherited }
        var writer = CodeWriter()
        writer.lines(header)
        writer.line()
        writer.lines(SwiftNames.docLines(service.doc))
        try writer.block("\(access)enum \(name) {") { (writer) throws(CodegenError) in
            writer.line("\(access)static let serviceName = \(SwiftNames.stringLiteral(service.name))")
            writer.line()
            try writer.block("\(access)enum Method {") { (writer) throws(CodegenError) in
                for function in functions {
                    var arguments =
                        "service: \(SwiftNames.stringLiteral(service.name)), method: \(SwiftNames.stringLiteral(function.function.name))"
                    if function.function.isOneway { arguments += ", kind: .oneway" }
                    if Self.isOn(function.function.annotations["idempotent"]) {
                        arguments += ", isIdempotent: true"
                    }
                    writer.line("\(access)static let \(function.ident) = MethodDescriptor(\(arguments))")
                }
                if functions.isEmpty {
                    writer.line("\(access)static let all: [MethodDescriptor] = []")
                } else {
                    writer.line("\(access)static let all = [\(functions.map(\.ident).joined(separator: ", "))]")
                }
            }
            writer.line()
            writer.line("/// What a server implements.")
            let base = try baseName(service).map { $0 + ".ServiceProtocol" }
            if own.isEmpty {
                writer.line("\(access)protocol ServiceProtocol: \(base ?? "Sendable") {}")
            } else {
                try writer.block("\(access)protocol ServiceProtocol: \(base ?? "Sendable") {") { (writer) throws(CodegenError) in
                    for function in own {
                        writer.lines(methodDoc(function, forHandler: true))
                        let returns = function.returnType.map { " -> \($0)" } ?? ""
                        if function.takesViews {
                            let parameters = (try viewFields(function.parameters).map { "\($0.model.ident): \($0.declaredType)" }
                                + ["context: ServerContext"]).joined(separator: ", ")
                            writer.line("func \(function.ident)(\(parameters)) throws\(returns)")
                        } else {
                            let parameters = (function.parameters.map { "\($0.ident): \($0.declaredType)" } + ["context: ServerContext"])
                                .joined(separator: ", ")
                            writer.line("func \(function.ident)(\(parameters)) async throws\(returns)")
                        }
                    }
                }
            }
            writer.line()
            try emitSyncServiceProtocol(own, base: try baseName(service).map { $0 + ".SyncServiceProtocol" }, into: &writer)
            writer.line()
            writer.line("/// `handler`'s methods, to register with a `Router`.")
            try emitService(functions, sync: false, into: &writer)
            writer.line()
            writer.line("/// `handler`'s methods, to register with a `Router`: each call runs on the transport's thread, with no task.")
            try emitService(functions, sync: true, into: &writer)
            writer.line()
            try emitClientProtocol(own, base: try baseName(service).map { $0 + ".ClientProtocol" }, into: &writer)
            writer.line()
            writer.line("/// Calls a server through `transport` (a connection pool, or middleware around one).")
            try writer.block("\(access)struct Client<Transport: ClientTransport>: ClientProtocol {") { (writer) throws(CodegenError) in
                writer.line("\(access)let transport: Transport")
                writer.line()
                writer.line("\(access)init(_ transport: Transport) { self.transport = transport }")
                for function in functions {
                    writer.line()
                    try emitClientMethod(function, service: service.name, into: &writer)
                }
            }
            for function in own {
                writer.line()
                try emitStruct(
                    StructShape(
                        name: function.argsName, displayName: "\(name).\(function.argsName)", doc: nil, fields: function.parameters,
                        isNested: true, isException: false
                    ),
                    into: &writer
                )
                if function.takesViews {
                    writer.line()
                    try emitView(of: function.argsName, displayName: "\(name).\(function.argsName)", models: function.parameters,
                                 into: &writer)
                }
                if function.function.isOneway { continue }
                var fields = function.exceptions
                if let returnType = function.function.returnType {
                    let success = Field(
                        id: 0, name: "success", type: returnType, requiredness: .optional, location: function.function.location)
                    fields = try fieldModels([success], path: function.path, names: ["success"], allOptional: true) + fields
                }
                writer.line()
                try emitStruct(
                    StructShape(
                        name: function.resultName, displayName: "\(name).\(function.resultName)", doc: nil, fields: fields, isNested: true,
                        isException: false),
                    into: &writer
                )
            }
        }
        if !own.isEmpty {
            writer.line()
            try emitClientDefaults(own, service: name, into: &writer)
        }
        return writer.text
    }

    /// The Swift name of the service `service` extends, if any.
    private func baseName(_ service: ServiceDefinition) throws(CodegenError) -> String? {
        guard let base = service.extends else { return nil }
        guard let found = program.definition(named: base, from: file.path) else { throw CodegenError("unknown service '\(base)'") }
        return SwiftNames.typeName(found.value.name)
    }

    private func methodDoc(_ function: FunctionModel, forHandler: Bool = false) -> [String] {
        var lines = SwiftNames.docLines(function.function.doc)
        if forHandler && function.takesViews {
            lines.append("/// Its arguments are views into the request, valid until this returns (`apus.views`).")
        }
        if !function.exceptions.isEmpty {
            lines.append("/// - Throws: " + function.exceptions.map { "`\($0.swiftType)`" }.joined(separator: ", "))
        }
        return lines
    }

    /// `ServiceProtocol` with every method synchronous: what a handler whose methods never suspend implements.
    /// One synchronous method witnesses both protocols' requirements, so such a handler is a `ServiceProtocol` too.
    private func emitSyncServiceProtocol(_ own: [FunctionModel], base: String?, into writer: inout CodeWriter) throws(CodegenError) {
        writer.line("/// What a server implements when none of its methods suspends (no `await`): `service(_:)` then runs each")
        writer.line("/// call on the transport's thread as its request is read, with no task, so a method must not block.")
        let opening = "\(access)protocol SyncServiceProtocol: \(base.map { $0 + ", " } ?? "")ServiceProtocol {"
        let asyncOnes = own.filter { !$0.takesViews }
        if asyncOnes.isEmpty {
            writer.line(opening + "}")
            return
        }
        try writer.block(opening) { (writer) throws(CodegenError) in
            for function in asyncOnes {
                writer.lines(methodDoc(function, forHandler: true))
                let parameters = (function.parameters.map { "\($0.ident): \($0.declaredType)" } + ["context: ServerContext"])
                    .joined(separator: ", ")
                writer.line("func \(function.ident)(\(parameters)) throws\(function.returnType.map { " -> \($0)" } ?? "")")
            }
        }
    }

    /// `static func service(_ handler: some ServiceProtocol) -> ServiceDefinition`, or for `SyncServiceProtocol`.
    private func emitService(_ functions: [FunctionModel], sync: Bool, into writer: inout CodeWriter) throws(CodegenError) {
        let handler = sync ? "SyncServiceProtocol" : "ServiceProtocol"
        try writer.block("\(access)static func service(_ handler: some \(handler)) -> ServiceDefinition {") {
            (writer) throws(CodegenError) in
            if functions.isEmpty {
                writer.line("ServiceDefinition(name: serviceName, methods: [])")
                return
            }
            if !sync {
                writer.line("// A synchronous handler's calls run inline, however the caller's code typed it.")
                writer.line("if let handler = handler as? any SyncServiceProtocol { return service(handler) }")
            }
            let opening = (sync ? "" : "return ") + "ServiceDefinition(name: serviceName, methods: ["
            try writer.block(opening, closing: "])") { (writer) throws(CodegenError) in
                for function in functions {
                    try emitRegistration(function, inline: sync || function.takesViews, into: &writer)
                }
            }
        }
    }

    /// One method: `inline`, a synchronous call over the borrowed request (views of its arguments with
    /// `apus.views`); otherwise arguments decoded first and a call that may suspend.
    private func emitRegistration(_ function: FunctionModel, inline: Bool, into writer: inout CodeWriter) throws(CodegenError) {
        let arguments = (function.parameters.map { "\(SwiftNames.label($0.name)): args.\($0.ident)" } + ["context: context"]).joined(
            separator: ", ")
        let decode = function.parameters.isEmpty ? "_ = try message.decodeBody" : "let args = try message.decodeBody"
        if inline {
            let argsType = function.takesViews ? function.argsViewType : function.argsType
            try writer.block(
                "RPCMethod(Method.\(function.ident), inline: { (message: borrowing IncomingMessage, context: ServerContext) throws -> ServerResponse in",
                closing: "}),"
            ) { (writer) throws(CodegenError) in
                writer.line("\(decode)(\(argsType).self)")
                try emitInvocationBody(function, call: "try handler.\(function.ident)(\(arguments))", returns: true, into: &writer)
            }
            return
        }
        try writer.block("RPCMethod(Method.\(function.ident)) { (message: borrowing IncomingMessage) throws(RPCError) in", closing: "},") {
            (writer) throws(CodegenError) in
            writer.line("\(decode)(\(function.argsType).self)")
            try writer.block("return { context in") { (writer) throws(CodegenError) in
                try emitInvocationBody(function, call: "try await handler.\(function.ident)(\(arguments))", into: &writer)
            }
        }
    }

    /// Runs the handler and wraps what it returns or throws in the result struct.
    /// `returns`: the body follows other statements, so a lone expression needs its `return`.
    private func emitInvocationBody(_ function: FunctionModel, call: String, returns: Bool = false, into writer: inout CodeWriter)
        throws(CodegenError)
    {
        if function.function.isOneway {
            writer.line(call)
            writer.line("return .none")
            return
        }
        var body: [String]
        if function.returnType != nil {
            body = ["\(returns ? "return " : "")ServerResponse(body: \(function.resultType)(success: \(call)))"]
        } else {
            body = [call, "return ServerResponse(body: \(function.resultType)())"]
        }
        guard !function.exceptions.isEmpty else {
            writer.lines(body)
            return
        }
        if function.returnType != nil && !returns { body[0] = "return " + body[0] }
        try writer.block("do {") { (writer) throws(CodegenError) in writer.lines(body) }
        // Replace the closing brace of `do` with the catch clauses.
        writer.dropLastLine()
        for exception in function.exceptions {
            writer.line("} catch let error as \(exception.swiftType) {")
            writer.indent()
            writer.line("return ServerResponse(body: \(function.resultType)(\(SwiftNames.label(exception.name)): error))")
            writer.dedent()
        }
        writer.line("}")
    }

    /// `func echo(message: String, options: CallOptions) async throws -> String`, without access level.
    private func clientSignature(_ function: FunctionModel, options: Bool = true) -> String {
        let parameters = (function.parameters.map { "\($0.ident): \($0.declaredType)" } + (options ? ["options: CallOptions"] : []))
            .joined(separator: ", ")
        return "func \(function.ident)(\(parameters)) async throws\(function.returnType.map { " -> \($0)" } ?? "")"
    }

    /// The calls `Client` makes, as a protocol, so code under test can be handed a stand-in.
    private func emitClientProtocol(_ own: [FunctionModel], base: String?, into writer: inout CodeWriter) throws(CodegenError) {
        writer.line("/// What `Client` offers: take `some ClientProtocol` to call the service through a stand-in in tests.")
        let opening = "\(access)protocol ClientProtocol: \(base ?? "Sendable") {"
        if own.isEmpty {
            writer.line(opening + "}")
            return
        }
        try writer.block(opening) { (writer) throws(CodegenError) in
            for function in own {
                writer.lines(methodDoc(function))
                writer.line(clientSignature(function))
            }
        }
    }

    /// Calls without `options` (a protocol requirement cannot default an argument).
    private func emitClientDefaults(_ own: [FunctionModel], service: String, into writer: inout CodeWriter) throws(CodegenError) {
        try writer.block("extension \(service).ClientProtocol {") { (writer) throws(CodegenError) in
            for (index, function) in own.enumerated() {
                if index > 0 { writer.line() }
                let arguments = (function.parameters.map { "\(SwiftNames.label($0.name)): \($0.ident)" } + ["options: .defaults"])
                    .joined(separator: ", ")
                try writer.block("\(access)\(clientSignature(function, options: false)) {") { (writer) throws(CodegenError) in
                    writer.line("try await self.\(function.ident)(\(arguments))")
                }
            }
        }
    }

    private func emitClientMethod(_ function: FunctionModel, service: String, into writer: inout CodeWriter) throws(CodegenError) {
        writer.lines(methodDoc(function))
        let args =
            "\(function.argsType)(\(function.parameters.map { "\(SwiftNames.label($0.name)): \($0.ident)" }.joined(separator: ", ")))"
        // Inlinable where the access allows it, so a caller specializes the call for its transport.
        let inlinable = access.isEmpty ? "" : "@inlinable "
        let signature = "\(inlinable)\(access)\(clientSignature(function)) {"
        try writer.block(signature) { (writer) throws(CodegenError) in
            if function.function.isOneway {
                writer.line("try await transport.callOneway(\(args), method: Method.\(function.ident), options: options)")
                return
            }
            let call =
                "try await transport.call(\(args), method: Method.\(function.ident), options: options, result: \(function.resultType).self)"
            if function.returnType == nil, function.exceptions.isEmpty {
                writer.line("_ = " + call)
                return
            }
            writer.line("let result = " + call)
            if function.returnType != nil { writer.line("if let success = result.success { return success }") }
            for exception in function.exceptions {
                writer.line("if let \(exception.ident) = result.\(exception.ident) { throw \(exception.ident) }")
            }
            if function.returnType != nil {
                writer.line(
                    "throw RPCError(.missingResult, \(SwiftNames.stringLiteral("\(service).\(function.function.name) returned no result")))"
                )
            }
        }
    }
}
