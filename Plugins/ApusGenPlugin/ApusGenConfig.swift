import Foundation

/// `apus-gen.json` beside a target's sources: options for the code generated
/// from its `.thrift` files. Every key is optional:
/// `{"accessLevel": "package"}` (`public`, the default, `package` or `internal`).
struct ApusGenConfig: Decodable {
    static let fileName = "apus-gen.json"
    static let accessLevels = ["public", "package", "internal"]

    var accessLevel: String?

    enum Failure: Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case badAccessLevel(path: String, value: String)

        var description: String {
            switch self {
            case .unreadable(let path, let reason): "\(path): not a valid \(ApusGenConfig.fileName): \(reason)"
            case .badAccessLevel(let path, let value):
                "\(path): accessLevel must be one of \(ApusGenConfig.accessLevels.joined(separator: ", ")), not '\(value)'"
            }
        }
    }

    /// The config in `directory`, or the defaults when there is none.
    static func load(from directory: URL) throws(Failure) -> (config: ApusGenConfig, file: URL?) {
        let url = directory.appending(path: fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else { return (ApusGenConfig(), nil) }
        let config: ApusGenConfig
        do {
            config = try JSONDecoder().decode(ApusGenConfig.self, from: data)
        } catch {
            throw .unreadable(path: url.path, reason: "\(error)")
        }
        if let level = config.accessLevel, !accessLevels.contains(level) { throw .badAccessLevel(path: url.path, value: level) }
        return (config, url)
    }

    /// The generator's arguments for these options.
    var arguments: [String] { accessLevel.map { ["--access-level", $0] } ?? [] }
}
