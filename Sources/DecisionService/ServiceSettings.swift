import DecisionCore
import Kafka
import WireFormat

/// Everything `run` and `replay` need, resolved from flags, `DECIDER_*` variables and the rules file.
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
    /// How many shards of partitions decide at the same time: one per core this process can use.
    public var decisionShards = UsableCores.count
    /// How long to wait for the brokers at startup.
    public var startupTimeout: Duration = .seconds(30)
    /// How long restoring an assignment's state may take.
    public var restoreTimeout: Duration = .seconds(300)
    /// The budget of a whole stop: batch in hand, in-flight deliveries, commit, leaving the group.
    public var stopTimeout: Duration = .seconds(10)
    /// How long a commit (timer, revoke, stop) may wait for the coordinator outside a stop.
    public var commitTimeout: Duration = .seconds(5)
    /// How long the stop's own commit may wait for the coordinator; past it the coordinator counts as
    /// silent for the rest of the stop (a rebalance holds its requests), and the group leave waits no longer.
    public var stopCommitTimeout: Duration = .seconds(2)
    /// How long a revoke waits for the partitions' outputs in flight before committing what was delivered.
    public var revokeDrainTimeout: Duration = .seconds(10)
    /// Where each owned partition's state is checkpointed (`--state-dir`); `nil` writes and reads none.
    public var stateDirectory: String?
    /// A checkpoint of every owned partition is written after this long, or after
    /// ``checkpointDecisions`` decisions, whichever comes first (and on every revoke and stop).
    public var checkpointInterval: Duration = .seconds(60)
    public var checkpointDecisions = 1_000_000
    /// How long one round of checkpoint writes may take before the rest are left for the next round.
    public var checkpointTimeout: Duration = .seconds(30)
    /// Outputs in flight at most (messages, bytes) before the loop stops fetching until deliveries catch up.
    public var maximumInFlightMessages = 20_000
    public var maximumInFlightBytes = 64 << 20

    public init(bootstrapServers: String) {
        kafka = KafkaConfiguration(bootstrapServers: bootstrapServers)
    }

    var retentionMs: Int64 { dedupRetention.inMilliseconds }

    /// Dead letters carry the input bytes unchanged, even above the input limit: the broker, not the
    /// client, decides what the DLQ topic accepts.
    static let producerMessageMaxBytes = 64 << 20

    var producerConfiguration: KafkaConfiguration {
        var configuration = kafka
        if configuration.messageMaxBytes == nil { configuration.messageMaxBytes = Self.producerMessageMaxBytes }
        return configuration
    }
}
