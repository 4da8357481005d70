import ApusRPC
import Foundation

/// The value under `PREFIX/SERVICE/INSTANCE`:
/// `{"host":..,"port":..,"weight":..,"transport":..,"protocol":..,"tags":[..]}`.
///
/// Only host and port are required, so another registrar (a script, a
/// sidecar) can write entries by hand; the rest default as `Endpoint` does.
enum ServiceRecord {
    static func encode(_ endpoint: Endpoint) -> [UInt8] {
        var object: [String: Any] = ["host": endpoint.host, "port": endpoint.port, "weight": endpoint.weight, "tags": endpoint.tags]
        if let transport = endpoint.transport { object["transport"] = transport }
        if let protocolName = endpoint.protocolName { object["protocol"] = protocolName }
        return Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    /// The endpoint a value describes, or what is wrong with it.
    static func decode(_ value: [UInt8]) -> Result<Endpoint, Malformed> {
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(value)) else { return .failure(Malformed("it is not JSON")) }
        guard parsed is [String: Any], let fields = try? JSONDecoder().decode(Fields.self, from: Data(value)) else {
            return .failure(Malformed("it is not a JSON object"))
        }
        guard let host = fields.host, !host.isEmpty else { return .failure(Malformed("it has no \"host\" string")) }
        guard let port = fields.port else { return .failure(Malformed("it has no integer \"port\"")) }
        guard (1...65535).contains(port) else { return .failure(Malformed("its port \(port) is not in 1...65535")) }
        return .success(Endpoint(host: host, port: port, weight: fields.weight ?? 1, transport: fields.transport,
                                 protocol: fields.protocolName, tags: fields.tags ?? []))
    }

    /// Each field on its own: one of the wrong type is absent (JSONDecoder, unlike a cast from
    /// JSONSerialization's NSNumber, keeps `true` from passing for 1).
    private struct Fields: Decodable {
        var host: String?
        var port: Int?
        var weight: Int?
        var transport: String?
        var protocolName: String?
        var tags: [String]?

        enum CodingKeys: String, CodingKey {
            case host, port, weight, transport, protocolName = "protocol", tags
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            host = try? container.decodeIfPresent(String.self, forKey: .host)
            port = try? container.decodeIfPresent(Int.self, forKey: .port)
            weight = try? container.decodeIfPresent(Int.self, forKey: .weight)
            transport = try? container.decodeIfPresent(String.self, forKey: .transport)
            protocolName = try? container.decodeIfPresent(String.self, forKey: .protocolName)
            tags = try? container.decodeIfPresent([String].self, forKey: .tags)
        }
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
