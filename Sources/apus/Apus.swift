import ArgumentParser

@main
struct Apus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apus",
        abstract: "Apus: Apache Thrift RPC for Swift over AF_XDP and kernel sockets.",
        subcommands: [Dump.self]
    )
}
