import ArgumentParser

@main
struct Apus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apus",
        abstract: "Apus: Apache Thrift RPC for Swift over AF_XDP and kernel sockets.",
        subcommands: [Serve.self, Bench.self, XDP.self, Net.self, Dump.self, Gen.self]
    )
}
