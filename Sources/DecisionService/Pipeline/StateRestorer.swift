import DecisionEngine
import Foundation
import Kafka
import Logging
import WireFormat

/// Reads back the decisions topic, whose partition p holds exactly the decisions for input partition p,
/// and (when dead letters follow their input's partition number) the dead-letter topic's partition p, up
/// to the high watermarks taken when the restore starts, and hands every record to the engine's
/// ``StateRestore`` (Kafka Streams restores from its changelog the same way). Bounded by the restore
/// timeout, and abandoned promptly when the service stops.
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

    /// How far a restore has come: per input partition, records read by the latest batch and records left.
    struct RestoreProgress: Sendable {
        var read: [Int32: Int]
        var remaining: [Int32: Int64]
        var totalRemaining: Int64 { remaining.values.reduce(0, +) }
    }

    /// The restore was abandoned because the service is stopping.
    struct Interrupted: Error {}

    private var timeout: Duration { settings.restoreTimeout }

    /// Rebuilds `partitions`' state for `store`'s rules and installs it; returns how many records were read.
    func restore(_ partitions: [Int32], into store: DecisionStateStore) async throws -> Int {
        var restore = store.beginRestore(partitions, nowMs: WallClock.nowMs())
        if !partitions.isEmpty {
            let consumer = try KafkaConsumer(
                configuration: settings.kafka.forManualAssignment,
                groupID: "optimizer-decider-restore-\(UUID().uuidString)", logger: logger)
            do {
                try await read(partitions, with: consumer, into: &restore)
                await consumer.close(timeout: .seconds(2))
            } catch {
                await consumer.close(timeout: .seconds(2))
                throw error
            }
        }
        await store.install(restore.states)
        return restore.recordsRead
    }

    private func read(_ partitions: [Int32], with consumer: KafkaConsumer, into restore: inout StateRestore)
        async throws
    {
        let deadline = ContinuousClock.now + timeout
        func checkpoint() throws {
            if isStopping() { throw Interrupted() }
            guard ContinuousClock.now < deadline else {
                throw ServiceError(
                    "restoring state from \(outputTopic) partitions \(partitions.sorted()) did not finish within \(timeout)"
                )
            }
        }
        var ranges: [TopicPartition: Range<Int64>] = [:]
        let topics = [outputTopic] + (deadLetterTopic.map { [$0] } ?? [])
        for partition in topics.flatMap({ topic in partitions.map { TopicPartition(topic, $0) } }) {
            var marks: (low: Int64, high: Int64)?
            while marks == nil {
                try checkpoint()
                // Short look-ups, retried until the deadline, so that a stop is seen within a second.
                marks = try? await consumer.watermarks(partition, timeout: .seconds(1))
            }
            ranges[partition] = marks!.low..<marks!.high
        }
        var reader = try await PartitionReader(consumer: consumer, ranges: ranges)
        func remaining() -> [Int32: Int64] {
            ranges.reduce(into: [:]) { left, range in
                left[range.key.partition, default: 0] += range.value.upperBound - reader.next[range.key]!
            }
        }
        progress(RestoreProgress(read: [:], remaining: remaining()))
        while !reader.isFinished {
            try checkpoint()
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
