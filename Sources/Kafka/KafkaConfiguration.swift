import CRdKafka

/// librdkafka configuration: typed accessors for the options this service sets, plus every other
/// librdkafka property as a raw `key=value` pair. Values of secret properties never appear in a
/// description, a log line or an error.
public struct KafkaConfiguration: Sendable, CustomStringConvertible {
    public private(set) var properties: [String: String] = [:]

    public init(bootstrapServers: String) {
        properties["bootstrap.servers"] = bootstrapServers
    }

    public subscript(key: String) -> String? {
        get { properties[key] }
        set { properties[key] = newValue }
    }

    public var bootstrapServers: String {
        get { properties["bootstrap.servers"] ?? "" }
        set { properties["bootstrap.servers"] = newValue }
    }

    public var clientID: String? {
        get { properties["client.id"] }
        set { properties["client.id"] = newValue }
    }

    /// Static group membership (`group.instance.id`).
    public var groupInstanceID: String? {
        get { properties["group.instance.id"] }
        set { properties["group.instance.id"] = newValue }
    }

    /// Whether the consumer commits stored offsets on a timer (`enable.auto.commit`).
    public var enableAutoCommit: Bool? {
        get { properties["enable.auto.commit"].map { $0 == "true" } }
        set { properties["enable.auto.commit"] = newValue.map { $0 ? "true" : "false" } }
    }

    /// The interval of automatic commits (`auto.commit.interval.ms`).
    public var autoCommitInterval: Duration? {
        get { properties["auto.commit.interval.ms"].flatMap(Int64.init).map { .milliseconds($0) } }
        set { properties["auto.commit.interval.ms"] = newValue.map { String($0.milliseconds) } }
    }

    /// The largest message the producer accepts (`message.max.bytes`).
    public var messageMaxBytes: Int? {
        get { properties["message.max.bytes"].flatMap(Int.init) }
        set { properties["message.max.bytes"] = newValue.map(String.init) }
    }

    /// How long the group waits for a member's heartbeat before it hands its partitions on (`session.timeout.ms`).
    public var sessionTimeout: Duration? {
        get { properties["session.timeout.ms"].flatMap(Int64.init).map { .milliseconds($0) } }
        set { properties["session.timeout.ms"] = newValue.map { String($0.milliseconds) } }
    }

    /// How often a member heartbeats (`heartbeat.interval.ms`).
    public var heartbeatInterval: Duration? {
        get { properties["heartbeat.interval.ms"].flatMap(Int64.init).map { .milliseconds($0) } }
        set { properties["heartbeat.interval.ms"] = newValue.map { String($0.milliseconds) } }
    }

    /// This configuration for a consumer that assigns partitions itself (a restore, a replay): it commits
    /// nothing and is no static member of the group. It reads ranges that end, so a fetch does not wait
    /// long for more data (`fetch.wait.max.ms` 10 rather than 500, unless set): with the default, each fetch
    /// of a partition near its end waited half a second, and a 200,000-record restore took twice as long.
    public var forManualAssignment: KafkaConfiguration {
        var configuration = self
        configuration.enableAutoCommit = false
        configuration.groupInstanceID = nil
        if configuration["fetch.wait.max.ms"] == nil { configuration["fetch.wait.max.ms"] = "10" }
        return configuration
    }

    /// Parses `key=value` (the `--kafka-option` form) into the configuration.
    public mutating func set(option: String) throws(KafkaError) {
        guard let equals = option.firstIndex(of: "="), equals != option.startIndex else {
            throw KafkaError(
                .configuration, "Kafka option \"\(Self.redactedOption(option))\" must have the form key=value")
        }
        properties[String(option[..<equals]).trimmingSpaces] = String(option[option.index(after: equals)...])
    }

    /// Whether a property holds a secret: passwords, keys, tokens, and anything named like them.
    public static func isSensitive(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return [
            "password", "secret", "sasl.oauthbearer.config", "ssl.key.pem", "ssl_key", "ssl.keystore", "token",
            "credentials", "sasl.jaas",
        ]
        .contains { lowered.contains($0) }
    }

    /// The secret values, for scrubbing from librdkafka's own log lines.
    var secretValues: [String] {
        properties.filter { Self.isSensitive($0.key) && !$0.value.isEmpty }.map(\.value)
    }

    public var description: String {
        properties.keys.sorted().map { key in
            "\(key)=\(Self.isSensitive(key) ? "[redacted]" : properties[key]!)"
        }.joined(separator: " ")
    }

    static func redactedOption(_ option: String) -> String {
        guard let equals = option.firstIndex(of: "=") else { return isSensitive(option) ? "[redacted]" : option }
        let key = String(option[..<equals])
        return isSensitive(key) ? "\(key)=[redacted]" : option
    }

    /// Builds librdkafka's configuration object; librdkafka's rejection of a key or value is an error that
    /// names the key (and the value only when it is not secret).
    func makeNative() throws(KafkaError) -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        var errorBuffer = [CChar](repeating: 0, count: 512)
        for key in properties.keys.sorted() {
            let value = properties[key]!
            let result = rd_kafka_conf_set(conf, key, value, &errorBuffer, errorBuffer.count)
            guard result == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(conf)
                let reason = String(
                    decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if Self.isSensitive(key) {
                    throw KafkaError(
                        .configuration, "librdkafka rejects the value of Kafka option \(key) (value redacted)")
                }
                throw KafkaError(.configuration, "librdkafka rejects Kafka option \(key)=\(value): \(reason)")
            }
        }
        return conf
    }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
