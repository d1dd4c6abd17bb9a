import DecisionCore
import DecisionEngine
import Foundation
import Kafka
import Logging
import WireFormat

/// Rebuilds partition state from the decisions topic, whose partition p holds exactly the decisions for
/// input partition p: every decision made under the current rules fingerprint, within the retention,
/// up to the high watermark taken when the restore starts (Kafka Streams restores from its changelog
/// the same way). Bounded by `timeout`, and abandoned promptly when the service stops.
struct StateRestorer: Sendable {
    let settings: ServiceSettings
    /// The decisions topic to read (`replay` may write to another than the service's).
    let outputTopic: String
    let logger: Logger
    /// Polled between reads: a stop abandons the restore with ``Interrupted``.
    var isStopping: @Sendable () -> Bool = { false }

    struct Result: Sendable {
        var states: [Int32: PartitionState]
        var decisionsRead: Int
    }

    /// The restore was abandoned because the service is stopping.
    struct Interrupted: Error {}

    private var timeout: Duration { settings.restoreTimeout }

    /// Rebuilds `partitions`' state for `store`'s rules fingerprint and installs it; returns how many
    /// decisions were read back.
    func restore(_ partitions: [Int32], into store: DecisionStateStore) async throws -> Int {
        let result = try await restore(
            partitions, fingerprint: store.decider.rulesFingerprint, into: { store.emptyState() },
            nowMs: WallClock.nowMs())
        for (partition, state) in result.states { await store.install(state, for: partition) }
        return result.decisionsRead
    }

    private func restore(
        _ partitions: [Int32], fingerprint: String, into emptyState: @Sendable () -> PartitionState, nowMs: Int64
    ) async throws -> Result {
        var states = Dictionary(uniqueKeysWithValues: partitions.map { ($0, emptyState()) })
        guard !partitions.isEmpty else { return Result(states: states, decisionsRead: 0) }
        let consumer = try KafkaConsumer(
            configuration: settings.kafka.forManualAssignment,
            groupID: "optimizer-decider-restore-\(UUID().uuidString)", logger: logger)
        do {
            let result = try await read(
                partitions, fingerprint: fingerprint, with: consumer, states: &states, nowMs: nowMs)
            await consumer.close(timeout: .seconds(2))
            return result
        } catch {
            await consumer.close(timeout: .seconds(2))
            throw error
        }
    }

    private func read(
        _ partitions: [Int32], fingerprint: String, with consumer: KafkaConsumer, states: inout [Int32: PartitionState],
        nowMs: Int64
    ) async throws -> Result {
        let deadline = ContinuousClock.now + timeout
        func checkpoint() throws {
            if isStopping() { throw Interrupted() }
            guard ContinuousClock.now < deadline else {
                throw ServiceError(
                    "restoring state from \(outputTopic) partitions \(partitions.sorted()) did not finish within \(timeout)"
                )
            }
        }
        var ends: [Int32: Int64] = [:]
        var starts: [TopicPartitionOffset] = []
        for partition in partitions {
            var marks: (low: Int64, high: Int64)?
            while marks == nil {
                try checkpoint()
                // Short look-ups, retried until the deadline, so that a stop is seen within a second.
                marks = try? await consumer.watermarks(TopicPartition(outputTopic, partition), timeout: .seconds(1))
            }
            if marks!.high > marks!.low {
                ends[partition] = marks!.high
                starts.append(TopicPartitionOffset(TopicPartition(outputTopic, partition), offset: marks!.low))
            }
        }
        guard !starts.isEmpty else { return Result(states: states, decisionsRead: 0) }
        try await consumer.assign(starts)
        let parser = SimdJSONParser()
        var read = 0
        while !ends.isEmpty {
            try checkpoint()
            for message in try await consumer.nextBatch(maxMessages: 5000, timeout: .milliseconds(200)) {
                guard let end = ends[message.partition], message.offset < end else { continue }
                read += 1
                if message.offset >= end - 1 { ends[message.partition] = nil }
                guard let record = DecisionRecord.parse(message.value, fastParser: parser),
                    record.rulesFingerprint == fingerprint
                else { continue }
                let atMs = message.timestampMs ?? nowMs
                if atMs < nowMs - settings.retentionMs { continue }
                states[message.partition]!.record(
                    record.decisionID, workflowID: record.workflowID, point: record.point,
                    variant: record.variant.map { ($0.name, $0.run) }, recordedBaseline: record.variant.map(\.baseline),
                    atMs: atMs)
            }
        }
        return Result(states: states, decisionsRead: read)
    }
}
