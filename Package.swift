// swift-tools-version: 6.1
// Apus: a kernel-bypass Apache Thrift RPC stack for Swift on Linux.
// Module layout and dependency rules: ../shared/DESIGN.md ("Modules").
import PackageDescription

let package = Package(
    name: "Apus",
    products: [
        .library(name: "ApusThrift", targets: ["ApusThrift"]),
        .library(name: "ApusWire", targets: ["ApusWire"]),
        .executable(name: "apus", targets: ["apus"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // The zero-copy Thrift codec: protocols, message boundaries, limits. No dependencies.
        .target(name: "ApusThrift"),
        // Ethernet/ARP/IPv4/ICMP/UDP/TCP header views and reprs, checksums. No I/O, no dependencies.
        .target(name: "ApusWire"),
        .executableTarget(
            name: "apus",
            dependencies: [
                "ApusThrift",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "ApusThriftTests", dependencies: ["ApusThrift"], exclude: ["Fixtures"]),
        .testTarget(name: "ApusWireTests", dependencies: ["ApusWire"]),
    ]
)
