import DecisionCore
import WireFormat

/// One input message as the engine sees it: where it came from and its bytes. No transport type crosses
/// into the engine; the caller keeps its own message and matches outcomes by position.
public struct EngineInput: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestampMs: Int64?
    public var value: [UInt8]

    public init(topic: String, partition: Int32, offset: Int64, timestampMs: Int64?, value: [UInt8]) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestampMs = timestampMs
        self.value = value
    }
}

/// The service's state, isolated in one actor: per input partition, the decisions made (deduplication),
/// each workflow's recent runs (history) and variants. A partition's state exists only while it is
/// assigned and restored; a batch reaches the actor in one hop and is decided message by message, in order.
public actor DecisionStateStore {
    public nonisolated let decider: Decider
    private let retentionMs: Int64?
    private let capacity: Int
    private var partitions: [Int32: PartitionState] = [:]
    private let scratch = DecisionScratch()

    public init(decider: Decider, retentionMs: Int64?, capacityPerPartition: Int) {
        self.decider = decider
        self.retentionMs = retentionMs
        self.capacity = capacityPerPartition
    }

    /// An empty state for one partition, sized by the rules and the service's settings.
    public nonisolated func emptyState() -> PartitionState {
        PartitionState(rules: decider.rules, retentionMs: retentionMs, capacity: capacity)
    }

    /// A restore of `partitions` for this store's rules and settings, retention measured from `nowMs`,
    /// starting from the checkpoints' states where there are some.
    public nonisolated func beginRestore(
        _ partitions: [Int32], nowMs: Int64, checkpointed: [Int32: PartitionState] = [:]
    ) -> StateRestore {
        StateRestore(
            partitions, template: emptyState(), rulesFingerprint: decider.rulesFingerprint, nowMs: nowMs,
            checkpointed: checkpointed)
    }

    /// What a checkpoint of `partition` written by this store must name (its rules and state settings,
    /// the topics given).
    public nonisolated func checkpointIdentity(
        partition: Int32, inputTopic: String, decisionsTopic: String, deadLetterTopic: String?
    ) -> PartitionCheckpoint.Identity {
        PartitionCheckpoint.Identity(
            rulesFingerprint: decider.rulesFingerprint, stateSettings: emptyState().settingsDescription,
            inputTopic: inputTopic, partition: partition, decisionsTopic: decisionsTopic,
            deadLetterTopic: deadLetterTopic)
    }

    /// Copies of `partitions`' states as they are now (copied on write: the store goes on deciding).
    public func snapshot(_ snapshotted: [Int32]) -> [Int32: PartitionState] {
        snapshotted.reduce(into: [:]) { states, partition in states[partition] = partitions[partition] }
    }

    /// Takes the partitions a restore rebuilt: from now on their messages are decided.
    public func install(_ restored: [Int32: PartitionState]) {
        partitions.merge(restored) { $1 }
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

    /// Decides a batch in order: one outcome per input, at the same position. Inputs of a partition whose
    /// state is not installed get `nil` and must not have their offsets stored.
    public func process(_ batch: [EngineInput], nowMs: Int64) -> [DecisionOutcome?] {
        var results: [DecisionOutcome?] = []
        results.reserveCapacity(batch.count)
        var expired = Set<Int32>()
        for input in batch {
            guard partitions[input.partition] != nil else {
                results.append(nil)
                continue
            }
            if expired.insert(input.partition).inserted { partitions[input.partition]!.expire(nowMs: nowMs) }
            let source = MessageSource(
                topic: input.topic, partition: input.partition, offset: input.offset, timestampMs: input.timestampMs)
            var outcome = input.value.withUnsafeBytes { bytes in
                decider.process(
                    bytes, source: source, nowMs: nowMs, state: &partitions[input.partition]!, scratch: scratch)
            }
            if case let .rejected(rejection) = outcome {
                // One dead letter per message: a redelivered bad message whose dead letter was written
                // (before a crash, read back by the restore) is not dead-lettered again.
                if partitions[input.partition]!.hasDeadLetter(forOffset: input.offset) {
                    outcome = .rejectedBefore(rejection)
                } else {
                    partitions[input.partition]!.recordDeadLetter(forOffset: input.offset)
                }
            }
            results.append(outcome)
        }
        return results
    }
}
