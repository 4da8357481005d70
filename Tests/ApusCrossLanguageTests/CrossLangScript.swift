import Foundation

/// scripts/interop/crosslang.py as a child process, run to completion on its
/// own thread: waiting for it blocks, and a blocked cooperative-pool thread
/// (there are as many as cores) stalls every other test.
enum CrossLangScript {
    static let python = "/usr/bin/python3"
    /// The repository root, with symlinks resolved so the tests also run from a package that links this directory in.
    static let repository = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Apache's Python library and compiler are installed (scripts/setup.sh, as root).
    static let isAvailable: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import thrift, shutil, sys; sys.exit(0 if shutil.which('thrift') else 1)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs one step (`echo` or `check`); its combined output when it exits non-zero.
    static func run(_ step: String, directory: URL, protocol protocolID: String, seed: UInt64, count: Int) async throws -> String? {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw Failure(description: "\(python) is missing; the cross-language tests need it, python3-thrift and thrift-compiler: run `bash scripts/setup.sh`")
        }
        let arguments = [
            repository.appendingPathComponent("scripts/interop/crosslang.py").path, step, "--dir", directory.path,
            "--protocol", protocolID, "--seed", String(seed), "--count", String(count),
        ]
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try runToCompletion(arguments) })
            }.start()
        }
    }

    private static func runToCompletion(_ arguments: [String]) throws -> String? {
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // Read to EOF before waiting, so a chatty child cannot fill the pipe and stall.
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus != 0 else { return nil }
        return "crosslang.py \(arguments[1]) exited with \(process.terminationStatus):\n\(text)"
    }
}
