import ArgumentParser
import DecisionService
import Foundation
import Kafka
import Logging

/// The options `run` and `replay` share (contract section 6). Each one falls back to the environment
/// variable `DECIDER_<NAME>` when the flag is not given: flags win over the environment, the
/// environment over the defaults.
struct ServiceOptions: ParsableArguments {
    @Option(help: "Kafka bootstrap servers, host:port[,host:port…] (required). Env: DECIDER_BOOTSTRAP_SERVERS.")
    var bootstrapServers: String?

    @Option(help: "Consumer group id (default: optimizer-decider). Env: DECIDER_GROUP_ID.")
    var groupId: String?

    @Option(help: "Input topic (default: executor-results). Env: DECIDER_INPUT_TOPIC.")
    var inputTopic: String?

    @Option(help: "Decisions topic (default: optimizer-decisions). Env: DECIDER_OUTPUT_TOPIC.")
    var outputTopic: String?

    @Option(help: "Dead-letter topic (default: executor-results.dlq). Env: DECIDER_DLQ_TOPIC.")
    var dlqTopic: String?

    @Option(help: "Rules file, YAML or JSON (default: the seed's rules). Env: DECIDER_RULES.")
    var rules: String?

    @Option(
        help:
            "host:port serving /metrics, /healthz, /readyz (default: 127.0.0.1:9464; \"off\" disables). Env: DECIDER_METRICS_ADDRESS."
    )
    var metricsAddress: String?

    @Option(
        help: ArgumentHelp(
            "A librdkafka property key=value, repeatable; security settings go here and are never logged. Env: DECIDER_KAFKA_OPTION (one per line) and DECIDER_KAFKA_OPTION_<ANY>.",
            valueName: "key=value"))
    var kafkaOption: [String] = []

    @Option(help: "Static group membership id, e.g. the pod name (default: none). Env: DECIDER_GROUP_INSTANCE_ID.")
    var groupInstanceId: String?

    @Option(
        help:
            "Largest input message in bytes; larger ones are dead letters (default: 1048576). Env: DECIDER_MAX_MESSAGE_BYTES."
    )
    var maxMessageBytes: Int?

    @Option(
        help:
            "How long a decision blocks duplicates of its run, in hours (default: 168). Env: DECIDER_DEDUP_RETENTION_HOURS."
    )
    var dedupRetentionHours: Double?

    @Option(help: "Messages per batch (default: 1000). Env: DECIDER_BATCH_SIZE.")
    var batchSize: Int?

    @Option(
        help:
            "Shards of partitions decided at the same time, one per core (default: the cores this process may use). Env: DECIDER_DECISION_SHARDS."
    )
    var decisionShards: Int?

    @Option(
        help:
            "Outputs sent and not yet confirmed, at most: past it no message is read until deliveries catch up (default: 20000). Env: DECIDER_MAX_IN_FLIGHT."
    )
    var maxInFlight: Int?

    @Option(
        name: .customLong("max-in-flight-mib"),
        help: "The same bound on those outputs' bytes, in MiB (default: 64). Env: DECIDER_MAX_IN_FLIGHT_MIB.")
    var maxInFlightMiB: Int?

    @Option(
        help: "Seconds to wait for the brokers at startup before giving up (default: 30). Env: DECIDER_STARTUP_TIMEOUT."
    )
    var startupTimeout: Double?

    @Option(
        help:
            "Seconds a stop may take in all: outputs in flight, commit, leaving the group (default: 10). Env: DECIDER_STOP_TIMEOUT."
    )
    var stopTimeout: Double?

    @Option(help: "Log format: text or json (default: text). Env: DECIDER_LOG_FORMAT.")
    var logFormat: String?

    @Option(
        help: "Log level: trace, debug, info, notice, warning, error, critical (default: info). Env: DECIDER_LOG_LEVEL."
    )
    var logLevel: String?

    static func environment(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment["DECIDER_\(name)"], !value.isEmpty else { return nil }
        return value
    }

    func value(_ flag: String?, _ name: String) -> String? { flag ?? Self.environment(name) }

    static func number<T: LosslessStringConvertible>(_ flag: T?, _ name: String, _ option: String) throws -> T? {
        if let flag { return flag }
        guard let text = Self.environment(name) else { return nil }
        guard let parsed = T(text) else {
            throw CommandFailure("DECIDER_\(name)=\(text) is not a valid value for --\(option)")
        }
        return parsed
    }

    /// The Kafka options from the flags and the environment, flags last so they win.
    var allKafkaOptions: [String] {
        let environment = ProcessInfo.processInfo.environment
        var options: [String] = []
        if let lines = environment["DECIDER_KAFKA_OPTION"] {
            options += lines.split(whereSeparator: \.isNewline).map(String.init).filter {
                !$0.trimmingCharacters(in: .whitespaces).isEmpty
            }
        }
        for key in environment.keys.sorted() where key.hasPrefix("DECIDER_KAFKA_OPTION_") {
            options.append(environment[key]!)
        }
        return options + kafkaOption
    }

    func makeLogger(label: String) throws -> Logger {
        let format = value(logFormat, "LOG_FORMAT") ?? "text"
        let levelName = value(logLevel, "LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelName) else {
            throw CommandFailure(
                "log level \"\(levelName)\" is not one of trace, debug, info, notice, warning, error, critical")
        }
        let logger: Logger
        switch format {
        case "text": logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        case "json": logger = Logger(label: label) { JSONLogHandler(label: $0) }
        default: throw CommandFailure("log format \"\(format)\" is not text or json")
        }
        var configured = logger
        configured.logLevel = level
        return configured
    }

    func settings() throws -> ServiceSettings {
        guard let bootstrap = value(bootstrapServers, "BOOTSTRAP_SERVERS") else {
            throw CommandFailure("--bootstrap-servers (or DECIDER_BOOTSTRAP_SERVERS) is required")
        }
        var settings = ServiceSettings(bootstrapServers: bootstrap)
        for option in allKafkaOptions {
            do {
                try settings.kafka.set(option: option)
            } catch {
                throw CommandFailure(error.description)
            }
        }
        settings.kafka.bootstrapServers = bootstrap
        if let group = value(groupId, "GROUP_ID") { settings.groupID = group }
        if let topic = value(inputTopic, "INPUT_TOPIC") { settings.inputTopic = topic }
        if let topic = value(outputTopic, "OUTPUT_TOPIC") { settings.outputTopic = topic }
        if let topic = value(dlqTopic, "DLQ_TOPIC") { settings.dlqTopic = topic }
        settings.rules = try loadRules(value(rules, "RULES"))
        if let address = value(metricsAddress, "METRICS_ADDRESS") { settings.metricsAddress = address }
        settings.groupInstanceID = value(groupInstanceId, "GROUP_INSTANCE_ID")
        if let bytes = try Self.number(maxMessageBytes, "MAX_MESSAGE_BYTES", "max-message-bytes") {
            guard bytes > 0 else { throw CommandFailure("--max-message-bytes must be positive") }
            settings.maximumMessageBytes = bytes
        }
        if let hours = try Self.number(dedupRetentionHours, "DEDUP_RETENTION_HOURS", "dedup-retention-hours") {
            guard hours > 0, hours.isFinite else { throw CommandFailure("--dedup-retention-hours must be positive") }
            settings.dedupRetention = .milliseconds(Int64(hours * 3_600_000))
        }
        if let seconds = try Self.number(startupTimeout, "STARTUP_TIMEOUT", "startup-timeout") {
            guard seconds > 0, seconds.isFinite else { throw CommandFailure("--startup-timeout must be positive") }
            settings.startupTimeout = .milliseconds(Int64(seconds * 1000))
        }
        if let seconds = try Self.number(stopTimeout, "STOP_TIMEOUT", "stop-timeout") {
            guard seconds > 0, seconds <= 3600, seconds.isFinite else {
                throw CommandFailure("--stop-timeout must be between 0 and 3600 seconds")
            }
            settings.stopTimeout = .milliseconds(Int64(seconds * 1000))
        }
        try applyFlowOptions(to: &settings)
        return settings
    }

    /// Batch size, shards and the in-flight bounds.
    private func applyFlowOptions(to settings: inout ServiceSettings) throws {
        func bounded(_ flag: Int?, _ name: String, _ option: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let number = try Self.number(flag, name, option) else { return nil }
            guard range.contains(number) else {
                throw CommandFailure("--\(option) must be between \(range.lowerBound) and \(range.upperBound)")
            }
            return number
        }
        if let size = try bounded(batchSize, "BATCH_SIZE", "batch-size", 1...100_000) { settings.batchSize = size }
        if let shards = try bounded(decisionShards, "DECISION_SHARDS", "decision-shards", 1...256) {
            settings.decisionShards = shards
        }
        if let outputs = try bounded(maxInFlight, "MAX_IN_FLIGHT", "max-in-flight", 1...1_000_000) {
            settings.maximumInFlightMessages = outputs
        }
        if let mebibytes = try bounded(maxInFlightMiB, "MAX_IN_FLIGHT_MIB", "max-in-flight-mib", 1...4096) {
            settings.maximumInFlightBytes = mebibytes << 20
        }
    }
}

/// One JSON object per log line on standard error: `ts`, `level`, `logger`, `msg`, and the metadata.
struct JSONLogHandler: LogHandler {
    let label: String
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("ts", ISO8601DateFormatter().string(from: Date())), ("level", event.level.rawValue), ("logger", label),
            ("msg", event.message.description),
        ]
        for (key, value) in self.metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }).sorted(by: {
            $0.key < $1.key
        }) {
            fields.append((key, "\(value)"))
        }
        let object = "{" + fields.map { "\(jsonString($0.0)):\(jsonString($0.1))" }.joined(separator: ",") + "}\n"
        FileHandle.standardError.write(Data(object.utf8))
    }

    private func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
