import DecisionEngine
import Foundation
import Kafka
import Logging

/// A backfill: re-decides a fixed range of the input and exits. It reads with manual assignment (no
/// group, no commits), so it never disturbs a live `run`, and applies the same deduplication: replaying
/// with unchanged rules writes nothing new, with new rules one new decision per run.
public struct Replay: Sendable {
    public var settings: ServiceSettings
    public var from: ReplayPosition
    public var until: ReplayPosition
    /// Where decisions go (the settings' output topic unless overridden).
    public var outputTopic: String
    public var dryRun = false
    /// Whether dead letters are written to the DLQ again (a live `run` already wrote them once).
    public var writeDeadLetters = false
    /// The live group whose committed offsets cap the end: a replay never races `run` for runs the live
    /// service has not decided yet.
    public var liveGroupID: String?

    public init(settings: ServiceSettings, from: ReplayPosition, until: ReplayPosition, outputTopic: String? = nil) {
        self.settings = settings
        self.from = from
        self.until = until
        self.outputTopic = outputTopic ?? settings.outputTopic
        self.liveGroupID = settings.groupID
    }

    /// Runs the replay; `report` sees the progress after every batch, `emit` every decision in a dry run.
    /// `budget` bounds the wait for outputs in flight once a stop has begun; `isStopping` ends the reading.
    public func run(
        logger: Logger, budget: StopBudget, isStopping: @escaping @Sendable () -> Bool,
        report: @escaping @Sendable (ReplayProgress) -> Void,
        emit: @escaping @Sendable ([UInt8]) -> Void
    ) async throws -> ReplayProgress {
        let consumer = try KafkaConsumer(
            configuration: settings.kafka.forManualAssignment, groupID: "optimizer-decider-replay-\(UUID().uuidString)",
            logger: logger)
        let session = Session(logger: logger, budget: budget, isStopping: isStopping, report: report, emit: emit)
        do {
            let result = try await replay(with: consumer, session)
            await consumer.close(timeout: budget.bound(.seconds(5)))
            return result
        } catch {
            await consumer.close(timeout: budget.bound(.seconds(5)))
            throw error
        }
    }

    /// What one replay reports to and is stopped by.
    private struct Session {
        let logger: Logger
        let budget: StopBudget
        let isStopping: @Sendable () -> Bool
        let report: @Sendable (ReplayProgress) -> Void
        let emit: @Sendable ([UInt8]) -> Void
    }

    private func replay(with consumer: KafkaConsumer, _ session: Session) async throws -> ReplayProgress {
        guard let plan = try await plan(with: consumer, logger: session.logger, isStopping: session.isStopping) else {
            var progress = ReplayProgress(partitions: [], started: .now)
            progress.interrupted = true
            return progress
        }
        var progress = plan.progress
        let work = plan.work
        guard !work.isEmpty else {
            session.report(progress)
            return progress
        }
        // The same state the live service would have: decisions already on the output, this rules fingerprint.
        guard let store = try await restoredState(Array(work.keys.map(\.partition)), routing: plan.routing, session)
        else {
            progress.interrupted = true
            return progress
        }
        let ledger = DeliveryLedger()
        ledger.open(work.keys.map(\.partition))
        let outputs = OutputRecords(
            outputTopic: outputTopic, dlqTopic: settings.dlqTopic, writeDeadLetters: writeDeadLetters,
            routing: plan.routing)
        var publisher: Publisher?
        if !dryRun {
            let producer = try KafkaProducer(configuration: settings.producerConfiguration, logger: session.logger)
            try await producer.prepare(topics: outputs.topics, timeout: .seconds(1))
            publisher = Publisher(
                producer: producer, ledger: ledger, outputs: outputs, metrics: nil, logger: session.logger)
        }
        let path = BatchPath(
            settings: settings, store: store, ledger: ledger, publisher: publisher, isStopping: session.isStopping)
        do {
            var reader = try await PartitionReader(consumer: consumer, ranges: work)
            session.report(progress)
            try await decide(&reader, on: path, window: plan.window, progress: &progress, session)
            progress.interrupted = !reader.isFinished
            try await drain(path, interrupted: progress.interrupted, session)
        } catch {
            await publisher?.producer.close(timeout: session.budget.bound(.seconds(5)))
            throw error
        }
        await publisher?.producer.close(timeout: session.budget.bound(.seconds(10)))
        session.report(progress)
        return progress
    }

    /// The state of `partitions` restored from the output topic; `nil` when a stop abandoned the restore.
    private func restoredState(_ partitions: [Int32], routing: DeadLetterRouting, _ session: Session) async throws
        -> DecisionStateStore?
    {
        let store = DecisionStateStore(
            decider: Decider(rules: settings.rules, maximumMessageBytes: settings.maximumMessageBytes),
            retentionMs: settings.retentionMs, capacityPerPartition: settings.stateCapacityPerPartition,
            shards: settings.decisionShards)
        // Dead letters written again (when asked) are restored too, so that a replay writes each once.
        let restorer = StateRestorer(
            settings: settings, outputTopic: outputTopic,
            deadLetterTopic: writeDeadLetters && routing.followsSourcePartition ? settings.dlqTopic : nil,
            logger: session.logger, isStopping: session.isStopping)
        do {
            let outcome = try await restorer.restore(partitions, into: store)
            session.logger.info(
                "state restored from \(outputTopic)", metadata: ["decisions_read": "\(outcome.recordsRead)"])
            return store
        } catch is StateRestorer.Interrupted {
            return nil
        }
    }

    /// Reads the ranges to their ends (or until a stop) and decides what lies in the time window.
    private func decide(
        _ reader: inout PartitionReader, on path: BatchPath, window: TimeWindow, progress: inout ReplayProgress,
        _ session: Session
    ) async throws {
        while !reader.isFinished && !session.isStopping() {
            let batch = try await path.fetch(from: &reader)
            guard !batch.isEmpty else { continue }
            progress.advance(to: reader.next)
            let inWindow = batch.filter { window.contains($0.timestampMs) }
            progress.skipped += batch.count - inWindow.count
            try await path.decide(inWindow) { _, outcome, _ in
                switch outcome {
                case let .decided(_, json):
                    progress.decided += 1
                    if dryRun { session.emit(json) }
                case .duplicate: progress.duplicates += 1
                case .rejected, .rejectedBefore: progress.deadLetters += 1
                }
            }
            session.report(progress)
        }
    }

    /// A finished replay waits for every output; an interrupted one as long as the stop budget allows.
    private func drain(_ path: BatchPath, interrupted: Bool, _ session: Session) async throws {
        let budget = session.budget
        let wait =
            interrupted ? budget.remaining(keeping: budget.reserve(.seconds(2), share: 0.4)) : settings.restoreTimeout
        _ = await path.drain(timeout: wait)
        if let reason = path.ledger.failure { throw ServiceError("replay \(reason)") }
        if path.ledger.pendingOutputs() > 0 {
            throw ServiceError(
                "replay output still unconfirmed after \(wait): \(path.ledger.pendingOutputs()) records may not have been written"
            )
        }
    }
}
