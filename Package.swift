// swift-tools-version: 6.1
// Apus: a kernel-bypass Apache Thrift RPC stack for Swift on Linux.
// Module layout and dependency rules: ../shared/DESIGN.md ("Modules").
import PackageDescription

let package = Package(
    name: "Apus",
    products: [
        .library(name: "ApusThrift", targets: ["ApusThrift"]),
        .executable(name: "apus", targets: ["apus"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // The zero-copy Thrift codec: protocols, message boundaries, limits. No dependencies.
        .target(name: "ApusThrift"),
        .executableTarget(
            name: "apus",
            dependencies: [
                "ApusThrift",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "ApusThriftTests", dependencies: ["ApusThrift"], exclude: ["Fixtures"]),
    ]
)
