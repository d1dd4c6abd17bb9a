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

/// The service's state: per input partition, the decisions made (deduplication), each workflow's recent
/// runs (history) and variants. A partition's state exists only while it is assigned and restored.
///
/// The partitions are split over `shards` actors by partition number (``PartitionShard``): a batch is
/// split by shard, the shards decide their parts at the same time (on as many cores as there are shards),
/// and the outcomes come back at their inputs' positions. A partition is always decided by the same shard,
/// one message at a time and in order, so deduplication, history, variants, restore and revoke are exactly
/// what they are with one shard.
public final class DecisionStateStore: Sendable {
    public let decider: Decider
    private let retentionMs: Int64?
    private let capacity: Int
    private let shards: [PartitionShard]

    /// `shards` decide at the same time (at least 1); the service gives one per core it may run on.
    public init(decider: Decider, retentionMs: Int64?, capacityPerPartition: Int, shards: Int = 1) {
        self.decider = decider
        self.retentionMs = retentionMs
        self.capacity = capacityPerPartition
        self.shards = (0..<max(1, shards)).map { _ in PartitionShard(decider: decider) }
    }

    public var shardCount: Int { shards.count }

    private func shardIndex(of partition: Int32) -> Int {
        Int(UInt32(bitPattern: partition)) % shards.count
    }

    /// `partitions` grouped by the shard that owns them.
    private func byShard<Value>(_ values: [Int32: Value]) -> [Int: [Int32: Value]] {
        values.reduce(into: [:]) { groups, entry in
            groups[shardIndex(of: entry.key), default: [:]][entry.key] = entry.value
        }
    }

    private func byShard(_ partitions: [Int32]) -> [Int: [Int32]] {
        partitions.reduce(into: [:]) { groups, partition in
            groups[shardIndex(of: partition), default: []].append(partition)
        }
    }

    /// An empty state for one partition, sized by the rules and the service's settings.
    public func emptyState() -> PartitionState {
        PartitionState(rules: decider.rules, retentionMs: retentionMs, capacity: capacity)
    }

    /// A restore of `partitions` for this store's rules and settings, retention measured from `nowMs`,
    /// starting from the checkpoints' states where there are some.
    public func beginRestore(
        _ partitions: [Int32], nowMs: Int64, checkpointed: [Int32: PartitionState] = [:]
    ) -> StateRestore {
        StateRestore(
            partitions, template: emptyState(), rulesFingerprint: decider.rulesFingerprint, nowMs: nowMs,
            checkpointed: checkpointed)
    }

    /// What a checkpoint of `partition` written by this store must name (its rules and state settings,
    /// the topics given).
    public func checkpointIdentity(
        partition: Int32, inputTopic: String, decisionsTopic: String, deadLetterTopic: String?
    ) -> PartitionCheckpoint.Identity {
        PartitionCheckpoint.Identity(
            rulesFingerprint: decider.rulesFingerprint, stateSettings: emptyState().settingsDescription,
            inputTopic: inputTopic, partition: partition, decisionsTopic: decisionsTopic,
            deadLetterTopic: deadLetterTopic)
    }

    /// Copies of `partitions`' states as they are now (copied on write: the store goes on deciding).
    public func snapshot(_ snapshotted: [Int32]) async -> [Int32: PartitionState] {
        var states: [Int32: PartitionState] = [:]
        for (shard, partitions) in byShard(snapshotted) {
            states.merge(await shards[shard].snapshot(partitions)) { $1 }
        }
        return states
    }

    /// Takes the partitions a restore rebuilt: from now on their messages are decided.
    public func install(_ restored: [Int32: PartitionState]) async {
        for (shard, states) in byShard(restored) { await shards[shard].install(states) }
    }

    public func install(_ state: PartitionState, for partition: Int32) async {
        await install([partition: state])
    }

    public func drop(_ dropped: [Int32]) async {
        for (shard, partitions) in byShard(dropped) { await shards[shard].drop(partitions) }
    }

    public var ownedPartitions: Set<Int32> {
        get async {
            var owned = Set<Int32>()
            for shard in shards { owned.formUnion(await shard.ownedPartitions) }
            return owned
        }
    }

    /// Decision ids and workflows held, over every partition.
    public var size: (decisions: Int, workflows: Int) {
        get async {
            var total = (decisions: 0, workflows: 0)
            for shard in shards {
                let size = await shard.size
                total = (total.decisions + size.decisions, total.workflows + size.workflows)
            }
            return total
        }
    }

    /// Decides a batch: one outcome per input, at the same position; each partition's inputs in order.
    /// Inputs of a partition whose state is not installed get `nil` and must not have their offsets stored.
    public func process(_ batch: [EngineInput], nowMs: Int64) async -> [DecisionOutcome?] {
        var positions = [[Int]](repeating: [], count: shards.count)
        for (position, input) in batch.enumerated() { positions[shardIndex(of: input.partition)].append(position) }
        let busy = positions.indices.filter { !positions[$0].isEmpty }
        // One shard holds the whole batch: decided in one hop, positions unchanged.
        if busy.count <= 1 { return await shards[busy.first ?? 0].process(batch, nowMs: nowMs) }
        var outcomes = [DecisionOutcome?](repeating: nil, count: batch.count)
        await withTaskGroup(of: (Int, [DecisionOutcome?]).self) { group in
            for shard in busy {
                let part = positions[shard].map { batch[$0] }
                group.addTask { [shards] in (shard, await shards[shard].process(part, nowMs: nowMs)) }
            }
            for await (shard, decided) in group {
                for (position, outcome) in zip(positions[shard], decided) { outcomes[position] = outcome }
            }
        }
        return outcomes
    }
}
