import ArgumentParser

@main
struct Apus: AsyncParsableCommand {
    /// This build's version (`apus --version`).
    static let version = "0.4.0-dev"

    static let configuration = CommandConfiguration(
        commandName: "apus",
        abstract: "Apus: Apache Thrift RPC for Swift over AF_XDP and kernel sockets.",
        version: Apus.version,
        subcommands: [Serve.self, Bench.self, XDP.self, Net.self, Dump.self, Gen.self, Init.self]
    )
}
