/// One key as a range read it.
public struct EtcdKeyValue: Hashable, Sendable {
    public var key: String
    public var value: [UInt8]
    /// The revision of the key's last change: with the key, what identifies one version of a
    /// value (a malformed one is reported once per version, not once per read).
    public var modRevision: Int64

    public init(key: String, value: [UInt8], modRevision: Int64) {
        self.key = key
        self.value = value
        self.modRevision = modRevision
    }

    /// The value as UTF-8 text (invalid sequences replaced).
    public var valueString: String { String(decoding: value, as: UTF8.self) }
}
