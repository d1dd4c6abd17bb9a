import DecisionCore
import Kafka
import WireFormat

/// What became of one input message in the pipeline.
public struct ProcessedMessage: Sendable {
    public var message: KafkaMessage
    public var outcome: DecisionOutcome
}

/// The service's state, isolated in one actor: per input partition, the decisions made (deduplication)
/// and each workflow's recent runs (history). A partition's state exists only while it is assigned and
/// restored; a batch reaches the actor in one hop and is decided message by message, in order.
public actor DecisionStateStore {
    public let decider: Decider
    private let retentionMs: Int64?
    private let capacity: Int
    private var partitions: [Int32: PartitionState] = [:]
    private let scratch = DecisionScratch()

    public init(decider: Decider, retentionMs: Int64?, capacityPerPartition: Int) {
        self.decider = decider
        self.retentionMs = retentionMs
        self.capacity = capacityPerPartition
    }

    /// An empty state for one partition, sized by the service's settings.
    public nonisolated func emptyState() -> PartitionState {
        PartitionState(
            retentionMs: retentionMs, capacity: capacity, historyWindow: decider.rules.history.baselineWindow,
            variantWindow: decider.rules.variants.window)
    }

    public func install(_ state: PartitionState, for partition: Int32) {
        partitions[partition] = state
    }

    public func drop(_ dropped: [Int32]) {
        for partition in dropped { partitions[partition] = nil }
    }

    public var ownedPartitions: Set<Int32> { Set(partitions.keys) }

    /// Decision ids and workflows held, over every partition.
    public var size: (decisions: Int, workflows: Int) {
        partitions.values.reduce((0, 0)) { ($0.0 + $1.decisionCount, $0.1 + $1.workflowCount) }
    }

    /// Decides a batch in order. Messages of a partition whose state is not installed are returned as
    /// `nil` outcomes and must not have their offsets stored.
    public func process(_ batch: [KafkaMessage], nowMs: Int64) -> [ProcessedMessage?] {
        var results: [ProcessedMessage?] = []
        results.reserveCapacity(batch.count)
        var expired = Set<Int32>()
        for message in batch {
            guard partitions[message.partition] != nil else {
                results.append(nil)
                continue
            }
            if expired.insert(message.partition).inserted { partitions[message.partition]!.expire(nowMs: nowMs) }
            let source = MessageSource(topic: message.topic, partition: message.partition, offset: message.offset, timestampMs: message.timestampMs)
            let outcome = message.value.withUnsafeBytes { bytes in
                decider.process(bytes, source: source, nowMs: nowMs, state: &partitions[message.partition]!, scratch: scratch)
            }
            results.append(ProcessedMessage(message: message, outcome: outcome))
        }
        return results
    }
}
