import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// `apus init NAME`: a new package serving a Thrift service with Apus, as `volo init`
/// does for Rust: an IDL, the build plugin wired to it, a handler to fill in and a
/// `main` that serves on kernel sockets or AF_XDP from flags.
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a package that serves a Thrift service with Apus.",
        discussion: """
            Writes NAME/ with Package.swift, Sources/NAME/<name>.thrift (a NAMEService to edit), \
            Handler.swift (its implementation) and main.swift (serves it: --host, --port; \
            --transport xdp --interface IF --address A for AF_XDP). The build plugin turns the IDL into \
            Swift at build time. Then: cd NAME && swift run NAME --port 9090.

            --apus names the Apus package to depend on: a local checkout (a path: SwiftPM calls the \
            package by its directory's name) or a git URL (by its last component). Default: the \
            checkout this apus was built from.
            """
    )

    @Argument(help: "The package name: a Swift identifier (letters, digits, _), also the service's prefix.")
    var name: String

    @Option(help: "The Apus package: a path to a checkout, or a git URL (https://..., followed by its main branch).")
    var apus: String?

    @Option(name: .shortAndLong, help: "Where to create NAME/ (default: the current directory).")
    var directory = "."

    func validate() throws {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic || first == "_",
              name.unicodeScalars.allSatisfy({ ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || $0 == "_" })
        else {
            throw ValidationError("'\(name)' is not a Swift identifier: use ASCII letters, digits and _, not starting with a digit")
        }
    }

    func run() throws {
        let source = try apusSource()
        let root = directory == "." ? name : "\(directory)/\(name)"
        var status = stat()
        if stat(root, &status) == 0 {
            Console.error("apus init: \(root) already exists: choose another NAME or --directory (nothing was written)")
            throw ExitCode(1)
        }
        let service = name.prefix(1).uppercased() + name.dropFirst() + "Service"
        let idl = name.lowercased()
        let files: [(String, String)] = [
            ("Package.swift", packageManifest(source)),
            ("Sources/\(name)/\(idl).thrift", thrift(service: service, namespace: idl)),
            ("Sources/\(name)/Handler.swift", handler(service: service)),
            ("Sources/\(name)/main.swift", main(service: service)),
            (".gitignore", ".build/\nPackage.resolved\n"),
            ("README.md", readme(service: service, idl: idl)),
        ]
        for (path, text) in files {
            let full = "\(root)/\(path)"
            try makeDirectories(String(full[..<full.lastIndex(of: "/")!]))
            try write(text, to: full)
        }
        Console.out("apus init: created \(root)/ (\(service) in Sources/\(name)/\(idl).thrift, Apus from \(source.description))")
        Console.out("  next: cd \(root) && swift run \(name) --port 9090")
    }

    /// Where the new package gets Apus, and the name SwiftPM gives that package.
    struct Source: CustomStringConvertible {
        var dependency: String
        var identity: String
        var description: String
    }

    func apusSource() throws -> Source {
        let location = apus ?? Self.buildCheckout
        guard let location else {
            Console.error("apus init: cannot tell where Apus is: give --apus PATH (a checkout) or --apus URL")
            throw ExitCode(1)
        }
        var last = location
        while last.hasSuffix("/") { last.removeLast() }
        var identity = String(last.split(separator: "/").last ?? "apus")
        if identity.hasSuffix(".git") { identity.removeLast(4) }
        identity = identity.lowercased()
        if location.contains("://") || location.hasPrefix("git@") {
            return Source(dependency: ".package(url: \"\(location)\", branch: \"main\")", identity: identity, description: location)
        }
        var status = stat()
        guard stat("\(location)/Package.swift", &status) == 0 else {
            Console.error("apus init: --apus \(location) has no Package.swift: give the path of an Apus checkout")
            throw ExitCode(1)
        }
        let absolute = location.hasPrefix("/") ? location : Self.currentDirectory + "/" + location
        return Source(dependency: ".package(path: \"\(absolute)\")", identity: identity, description: absolute)
    }

    /// The checkout this binary was built from, if it is still there.
    static var buildCheckout: String? {
        // #filePath is <checkout>/Sources/apus/Init.swift.
        let parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count > 3 else { return nil }
        let root = parts.dropLast(3).joined(separator: "/")
        var status = stat()
        return stat("\(root)/Package.swift", &status) == 0 ? root : nil
    }

    static var currentDirectory: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func makeDirectories(_ path: String) throws {
        var built = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            built += "/\(part)"
            if mkdir(built, 0o755) != 0 && errno != EEXIST {
                Console.error("apus init: cannot create \(built): \(String(cString: strerror(errno)))")
                throw ExitCode(1)
            }
        }
    }

    private func write(_ text: String, to path: String) throws {
        guard let file = fopen(path, "w") else {
            Console.error("apus init: cannot write \(path): \(String(cString: strerror(errno)))")
            throw ExitCode(1)
        }
        defer { fclose(file) }
        fputs(text, file)
    }

    // MARK: Templates

    func packageManifest(_ source: Source) -> String {
        """
        // swift-tools-version: 6.1
        // Made by `apus init \(name)`.
        import PackageDescription

        let package = Package(
            name: "\(name)",
            dependencies: [
                // The Apus package; SwiftPM names a path dependency after its directory
                // ("\(source.identity)" here), a URL dependency after its last component.
                \(source.dependency),
                .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
                .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
            ],
            targets: [
                .executableTarget(
                    name: "\(name)",
                    dependencies: [
                        .product(name: "ApusRPC", package: "\(source.identity)"),
                        .product(name: "ApusThrift", package: "\(source.identity)"),
                        .product(name: "ApusTransportPosix", package: "\(source.identity)"),
                        .product(name: "ApusTransportXDP", package: "\(source.identity)"),
                        .product(name: "Logging", package: "swift-log"),
                        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                    ],
                    // Turns the .thrift files among the sources into Swift at build time.
                    plugins: [.plugin(name: "ApusGenPlugin", package: "\(source.identity)")]
                ),
            ]
        )

        """
    }

    func thrift(service: String, namespace: String) -> String {
        """
        // The service \(name) serves. Edit it: the build plugin regenerates the Swift.
        namespace py \(namespace)

        exception Invalid {
          1: string reason,
        }

        service \(service) {
          /// A greeting for `name`.
          string hello(1: string name),
          /// a + b; Invalid when the sum does not fit.
          i64 add(1: i64 a, 2: i64 b) throws (1: Invalid invalid),
        }

        """
    }

    func handler(service: String) -> String {
        """
        import ApusRPC

        /// What \(service) does: one method per IDL method, `context` for metadata and deadline.
        struct Handler: \(service).ServiceProtocol {
            func hello(name: String, context: ServerContext) async throws -> String {
                "Hello, \\(name)!"
            }

            func add(a: Int64, b: Int64, context: ServerContext) async throws -> Int64 {
                let (sum, overflow) = a.addingReportingOverflow(b)
                if overflow { throw Invalid(reason: "\\(a) + \\(b) does not fit in 64 bits") }
                return sum
            }
        }

        """
    }

    func main(service: String) -> String {
        """
        import ApusRPC
        import ApusTransportPosix
        import ApusTransportXDP
        import Logging
        import ServiceLifecycle
        #if canImport(Glibc)
        import Glibc
        #endif

        // Serves \(service) until SIGTERM or SIGINT (then drains in-flight calls):
        //   \(name) [--host 127.0.0.1] [--port 9090]                       kernel sockets
        //   \(name) --transport xdp --interface IF --address A [--port P]  AF_XDP (root, the XDP program loaded)

        /// Writes a line to file descriptor `fd` at once (no buffered stdio shared across tasks).
        func say(_ line: String, to fd: Int32 = 1) {
            let bytes = Array((line + "\\n").utf8)
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        }

        func fail(_ message: String) -> Never {
            say("\(name): \\(message)", to: 2)
            exit(2)
        }

        var options: [String: String] = [:]
        var arguments = CommandLine.arguments.dropFirst()
        while let key = arguments.popFirst() {
            guard key.hasPrefix("--"), let value = arguments.popFirst() else {
                fail("expected --option value pairs (--host, --port, --transport, --interface, --address), got '\\(key)'")
            }
            options[String(key.dropFirst(2))] = value
        }
        guard let port = Int(options["port"] ?? "9090"), (0...65535).contains(port) else { fail("--port must be 0...65535") }
        let logger = Logger(label: "\(name)")

        func serve<Transport: ServerTransport>(_ transport: Transport) async throws {
            var router = Router()
            router.register(\(service).service(Handler()))
            let server = RPCServer(transport: transport, router: router, logger: logger)
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: server, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            async let running: Void = group.run()
            let address = try await server.listeningAddress
            say("\(name): serving \(service) on \\(address)")
            try await running
        }

        switch options["transport"] ?? "kernel" {
        case "kernel":
            try await serve(EpollServerTransport(host: options["host"] ?? "127.0.0.1", port: port))
        case "xdp":
            guard let interface = options["interface"], let address = options["address"] else {
                fail("--transport xdp needs --interface IF and --address A (the IPv4 address Apus owns)")
            }
            let placement = XDPPlacement(interface: interface, address: address)
            try await serve(XDPServerTransport(configuration: .init(placement: placement, port: UInt16(port)), logger: logger))
        case let other:
            fail("--transport must be kernel or xdp, got '\\(other)'")
        }

        """
    }

    func readme(service: String, idl: String) -> String {
        """
        # \(name)

        Serves `\(service)` (Sources/\(name)/\(idl).thrift) with Apus.

        ```sh
        swift run \(name) --port 9090                  # kernel sockets
        sudo .build/debug/\(name) --transport xdp --interface eth1 --address 10.0.0.50 --port 9090
        ```

        Edit the IDL and `Handler.swift`; the Apus build plugin regenerates the Swift types, the
        `\(service).ServiceProtocol` to implement and the `\(service).Client` on every build.

        """
    }
}
