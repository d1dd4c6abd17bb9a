import DecisionEngine
import Foundation
import Kafka
import Logging
import WireFormat

/// Reads back the decisions topic, whose partition p holds exactly the decisions for input partition p,
/// and (when dead letters follow their input's partition number) the dead-letter topic's partition p, up
/// to the high watermarks taken when the restore starts, and hands every record to the engine's
/// ``StateRestore`` (Kafka Streams restores from its changelog the same way). With checkpoints, a
/// partition starts from its valid checkpoint and reads only the records after it; without, from the
/// first record the retention keeps (where the brokers can say which) (``RestoreRange``). Bounded by the
/// restore timeout, and abandoned promptly when the service stops.
struct StateRestorer: Sendable {
    let settings: ServiceSettings
    /// The decisions topic to read (`replay` may write to another than the service's).
    let outputTopic: String
    /// The dead-letter topic whose partition p holds input partition p's dead letters, to read back too;
    /// `nil` when dead letters do not follow their input's partition number (at-least-once).
    var deadLetterTopic: String? = nil
    let logger: Logger
    /// Polled between reads: a stop abandons the restore with ``Interrupted``.
    var isStopping: @Sendable () -> Bool = { false }
    /// Told, once the ranges are known and after every batch, each partition's progress.
    var progress: @Sendable (RestoreProgress) -> Void = { _ in }
    /// Where checkpoints are loaded from (`run --state-dir`); `nil`: every partition is read in full.
    var checkpoints: Checkpoints? = nil

    /// What a restore did: records read, where it stopped reading each topic partition (the high
    /// watermarks taken when it started), and the offsets each checkpoint it started from covered.
    struct Outcome: Sendable {
        var recordsRead: Int
        var ends: [TopicPartition: Int64]
        var checkpointed: [Int32: [TopicPartition: Int64]]

        var fromCheckpoint: [Int32] { checkpointed.keys.sorted() }
    }

    /// How far a restore has come: per input partition, records read by the latest batch and records left.
    struct RestoreProgress: Sendable {
        var read: [Int32: Int]
        var remaining: [Int32: Int64]
        var totalRemaining: Int64 { remaining.values.reduce(0, +) }
    }

    /// The restore was abandoned because the service is stopping.
    struct Interrupted: Error {}

    private var timeout: Duration { settings.restoreTimeout }

    /// Rebuilds `partitions`' state for `store`'s rules and installs it.
    func restore(_ partitions: [Int32], into store: DecisionStateStore) async throws -> Outcome {
        guard !partitions.isEmpty else { return Outcome(recordsRead: 0, ends: [:], checkpointed: [:]) }
        let loaded = await checkpoints?.load(partitions) ?? [:]
        let consumer = try KafkaConsumer(
            configuration: settings.kafka.forManualAssignment,
            groupID: "optimizer-decider-restore-\(UUID().uuidString)", logger: logger)
        do {
            let deadline = Deadline(end: ContinuousClock.now + timeout, isStopping: isStopping) {
                [outputTopic, timeout] in
                ServiceError(
                    "restoring state from \(outputTopic) partitions \(partitions.sorted()) did not finish within \(timeout)"
                )
            }
            let marks = try await watermarks(partitions, with: consumer, deadline: deadline)
            let checkpointed = usable(loaded, marks: marks)
            let ranges = try await ranges(marks, checkpointed: checkpointed, with: consumer, deadline: deadline)
            var restore = store.beginRestore(
                partitions, nowMs: WallClock.nowMs(), checkpointed: checkpointed.mapValues(\.state))
            try await read(ranges, with: consumer, into: &restore, deadline: deadline)
            await consumer.close(timeout: .seconds(2))
            await store.install(restore.states)
            return Outcome(
                recordsRead: restore.recordsRead, ends: ranges.mapValues(\.upperBound),
                checkpointed: checkpointed.mapValues { checkpoint in covered(by: checkpoint) })
        } catch {
            await consumer.close(timeout: .seconds(2))
            throw error
        }
    }

    /// The restore's deadline and the stop, checked between reads.
    private struct Deadline {
        let end: ContinuousClock.Instant
        let isStopping: @Sendable () -> Bool
        let timedOut: () -> ServiceError

        func check() throws {
            if isStopping() { throw Interrupted() }
            guard ContinuousClock.now < end else { throw timedOut() }
        }
    }

    private var topics: [String] { [outputTopic] + (deadLetterTopic.map { [$0] } ?? []) }

    private func watermarks(_ partitions: [Int32], with consumer: KafkaConsumer, deadline: Deadline) async throws
        -> [TopicPartition: (low: Int64, high: Int64)]
    {
        var found: [TopicPartition: (low: Int64, high: Int64)] = [:]
        for partition in topics.flatMap({ topic in partitions.map { TopicPartition(topic, $0) } }) {
            while found[partition] == nil {
                try deadline.check()
                // Short look-ups, retried until the deadline, so that a stop is seen within a second.
                found[partition] = try? await consumer.watermarks(partition, timeout: .seconds(1))
            }
        }
        return found
    }

    /// The topic partitions' offsets `checkpoint` covers.
    private func covered(by checkpoint: PartitionCheckpoint) -> [TopicPartition: Int64] {
        var covered = [TopicPartition(outputTopic, checkpoint.identity.partition): checkpoint.decisionsOffset]
        if let deadLetterTopic {
            covered[TopicPartition(deadLetterTopic, checkpoint.identity.partition)] = checkpoint.deadLettersOffset ?? 0
        }
        return covered
    }

    /// The loaded checkpoints whose offsets lie within what the topics hold now; the others are named.
    private func usable(
        _ loaded: [Int32: PartitionCheckpoint], marks: [TopicPartition: (low: Int64, high: Int64)]
    ) -> [Int32: PartitionCheckpoint] {
        loaded.filter { partition, checkpoint in
            var offsets = [(outputTopic, checkpoint.decisionsOffset)]
            if let deadLetterTopic { offsets.append((deadLetterTopic, checkpoint.deadLettersOffset ?? -1)) }
            for (topic, offset) in offsets {
                let mark = marks[TopicPartition(topic, partition)]!
                if let problem = RestoreRange.problem(offset: offset, low: mark.low, high: mark.high, topic: topic) {
                    checkpoints?.rejected(partition, problem)
                    return false
                }
            }
            return true
        }
    }

    /// Each topic partition's range to read (``RestoreRange/start(low:high:checkpointOffset:firstRetained:)``).
    private func ranges(
        _ marks: [TopicPartition: (low: Int64, high: Int64)], checkpointed: [Int32: PartitionCheckpoint],
        with consumer: KafkaConsumer, deadline: Deadline
    ) async throws -> [TopicPartition: Range<Int64>] {
        try deadline.check()
        let firstRetained = await firstRetained(Array(marks.keys.filter { $0.topic == outputTopic }), consumer)
        var ranges: [TopicPartition: Range<Int64>] = [:]
        for (partition, mark) in marks {
            let checkpoint = checkpointed[partition.partition]
            let offset = partition.topic == outputTopic ? checkpoint?.decisionsOffset : checkpoint?.deadLettersOffset
            // Dead letters have no retention: only the checkpoint shortens their read.
            let retained = partition.topic == outputTopic ? firstRetained[partition] : nil
            let start = RestoreRange.start(
                low: mark.low, high: mark.high, checkpointOffset: offset, firstRetained: retained)
            ranges[partition] = start..<mark.high
        }
        return ranges
    }

    /// The first decision the retention keeps per partition, where the brokers can look it up; none (read
    /// from the low watermark) where they cannot, or without a retention.
    private func firstRetained(_ partitions: [TopicPartition], _ consumer: KafkaConsumer) async
        -> [TopicPartition: Int64]
    {
        guard settings.retentionMs > 0, !partitions.isEmpty else { return [:] }
        let since = WallClock.nowMs() - settings.retentionMs
        let query = Dictionary(uniqueKeysWithValues: partitions.map { ($0, since) })
        guard let found = try? await consumer.offsetsForTimes(query, timeout: .seconds(2)) else { return [:] }
        return found.compactMapValues { $0 }
    }

    private func read(
        _ ranges: [TopicPartition: Range<Int64>], with consumer: KafkaConsumer, into restore: inout StateRestore,
        deadline: Deadline
    ) async throws {
        // Only what the state needs: a decision's value and timestamp, a dead letter's headers.
        var parts = [outputTopic: MessageParts.value]
        if let deadLetterTopic { parts[deadLetterTopic] = .headers }
        var reader = ReadAhead(
            try await PartitionReader(consumer: consumer, ranges: ranges), maxMessages: 10_000, parts: parts)
        do {
            try await read(&reader, ranges: ranges, into: &restore, deadline: deadline)
        } catch {
            await reader.finish()
            throw error
        }
    }

    private func read(
        _ reader: inout ReadAhead, ranges: [TopicPartition: Range<Int64>], into restore: inout StateRestore,
        deadline: Deadline
    ) async throws {
        func remaining() -> [Int32: Int64] {
            ranges.reduce(into: [:]) { left, range in
                left[range.key.partition, default: 0] += range.value.upperBound - reader.next[range.key]!
            }
        }
        progress(RestoreProgress(read: [:], remaining: remaining()))
        while !reader.isFinished {
            try deadline.check()
            var read: [Int32: Int] = [:]
            for message in try await reader.nextBatch() {
                if message.topic == outputTopic {
                    restore.apply(message.value, partition: message.partition, timestampMs: message.timestampMs)
                } else {
                    restore.applyDeadLetter(
                        sourceOffset: DeadLetterHeaders.sourceOffset(
                            topic: settings.inputTopic, partition: message.partition, header: message.header),
                        partition: message.partition)
                }
                read[message.partition, default: 0] += 1
            }
            if !read.isEmpty { progress(RestoreProgress(read: read, remaining: remaining())) }
        }
    }
}
