import DecisionCore
import Kafka
import WireFormat

/// Everything `run` needs, resolved from flags, `DECIDER_*` variables and the rules file.
public struct ServiceSettings: Sendable {
    public var kafka: KafkaConfiguration
    public var groupID = "optimizer-decider"
    /// Static group membership (`group.instance.id`): a restart within `session.timeout.ms` keeps the
    /// member's partitions without a rebalance.
    public var groupInstanceID: String?
    public var inputTopic = "executor-results"
    public var outputTopic = "optimizer-decisions"
    public var dlqTopic = "executor-results.dlq"
    public var rules = ScoringRules()
    public var metricsAddress = "127.0.0.1:9464"
    public var maximumMessageBytes = InputDecoder.defaultMaximumMessageBytes
    /// How long a decision blocks duplicates of its run (contract: 7 days by default).
    public var dedupRetention: Duration = .seconds(7 * 24 * 3600)
    /// Decision ids kept per partition at most; the oldest are forgotten first beyond it.
    public var stateCapacityPerPartition = 2_000_000
    public var batchSize = 1000
    /// How long to wait for the brokers at startup.
    public var startupTimeout: Duration = .seconds(30)
    /// How long restoring an assignment's state may take.
    public var restoreTimeout: Duration = .seconds(300)

    public init(bootstrapServers: String) {
        kafka = KafkaConfiguration(bootstrapServers: bootstrapServers)
    }

    var retentionMs: Int64 {
        let (seconds, attoseconds) = dedupRetention.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
