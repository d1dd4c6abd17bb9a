import DecisionCore
import WireFormat

/// The state of the partitions one shard owns, isolated in its own actor with its own decoding buffers, so
/// that shards decide their partitions' messages at the same time on different cores. A partition belongs
/// to exactly one shard (``DecisionStateStore`` routes by partition number): its messages are decided in
/// order, one at a time, as when there was one store.
actor PartitionShard {
    private let decider: Decider
    private var partitions: [Int32: PartitionState] = [:]
    private let scratch = DecisionScratch()

    init(decider: Decider) {
        self.decider = decider
    }

    func snapshot(_ snapshotted: [Int32]) -> [Int32: PartitionState] {
        snapshotted.reduce(into: [:]) { states, partition in states[partition] = partitions[partition] }
    }

    func install(_ restored: [Int32: PartitionState]) {
        partitions.merge(restored) { $1 }
    }

    func drop(_ dropped: [Int32]) {
        for partition in dropped { partitions[partition] = nil }
    }

    var ownedPartitions: Set<Int32> { Set(partitions.keys) }

    var size: (decisions: Int, workflows: Int) {
        partitions.values.reduce((0, 0)) { ($0.0 + $1.decisionCount, $0.1 + $1.workflowCount) }
    }

    /// Decides `batch` in order: one outcome per input, at the same position; `nil` for an input whose
    /// partition's state is not installed here.
    func process(_ batch: [EngineInput], nowMs: Int64) -> [DecisionOutcome?] {
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
