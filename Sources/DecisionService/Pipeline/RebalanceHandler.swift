import DecisionEngine
import Kafka
import Logging
import Synchronization

/// What the service does when partitions change hands, before the consumer goes on (the consumer's
/// rebalance hook): on assignment, rebuild the partitions' state from the decisions topic; on revocation,
/// wait a bounded time for their outputs in flight, store and commit what was delivered, then forget them.
/// Every wait is bounded, and shortened to what is left of the stop budget once a stop has begun.
struct RebalanceHandler: Sendable {
    let settings: ServiceSettings
    /// The ledger, readiness, state store and gauges that change together with the assignment.
    let ownership: PartitionOwnership
    let publisher: Publisher
    let budget: StopBudget
    /// Whether the restore also reads the dead letters back (they follow their input's partition number).
    let routing: DeadLetterRouting
    let logger: Logger
    let consumer: ConsumerReference
    /// Set by a stop whose commit the coordinator did not answer: a revoke in the same stop skips its own.
    let coordinatorSilent: LockedFlag
    /// Called when the service cannot go on (a restore failed): the pipeline stops with this reason.
    let fail: @Sendable (String) -> Void
    /// Loaded by the restore, written on revoke (`--state-dir`); `nil` without a state directory.
    let checkpoints: Checkpoints?

    func handle(_ event: RebalanceEvent) async {
        let partitions = event.partitions.filter { $0.topic == settings.inputTopic }.map(\.partition)
        guard !partitions.isEmpty else { return }
        switch event.kind {
        case .assigned: await assigned(partitions)
        case .revoked: await revoked(partitions, committing: true)
        case .lost: await revoked(partitions, committing: false)
        }
    }

    private var ledger: DeliveryLedger { ownership.ledger }
    private var metrics: ServiceMetrics { ownership.metrics }

    private func assigned(_ partitions: [Int32]) async {
        ownership.assigned(partitions)
        guard !budget.isStarted else { return }
        let started = ContinuousClock.now
        let budget = budget
        let restorer = StateRestorer(
            settings: settings, outputTopic: settings.outputTopic,
            deadLetterTopic: routing.followsSourcePartition ? settings.dlqTopic : nil, logger: logger,
            isStopping: { budget.isStarted }, progress: ownership.restoreProgress(of: partitions, started: started),
            checkpoints: checkpoints)
        do {
            let outcome = try await restorer.restore(partitions, into: ownership.store)
            let elapsed = started.duration(to: .now)
            metrics.restoreTime.recordNanoseconds(elapsed.inNanoseconds)
            metrics.restoredDecisions.increment(by: outcome.recordsRead)
            ownership.restored(partitions, coveredTo: outcome.ends)
            checkpoints?.restored(outcome)
            var metadata: Logger.Metadata = [
                "partitions": "\(partitions.sorted())", "decisions_read": "\(outcome.recordsRead)",
                "seconds": "\(elapsed.secondsText)",
            ]
            if checkpoints != nil { metadata["from_checkpoint"] = "\(outcome.fromCheckpoint)" }
            logger.info("state restored", metadata: metadata)
        } catch is StateRestorer.Interrupted {
            logger.info("state restore of partitions \(partitions.sorted()) abandoned: stopping")
        } catch {
            logger.critical("cannot restore state: \(error)")
            fail("cannot restore state for partitions \(partitions.sorted()) from \(settings.outputTopic): \(error)")
        }
    }

    private func revoked(_ partitions: [Int32], committing: Bool) async {
        if committing, let consumer = consumer.consumer {
            let drained = await publisher.drain(
                partitions,
                timeout: budget.bound(settings.revokeDrainTimeout, keeping: budget.reserve(.seconds(2), share: 0.4)))
            if !drained {
                logger.warning(
                    "outputs of partitions \(partitions.sorted()) still in flight at revocation; the next owner re-reads them and deduplicates"
                )
            }
            if drained {
                await checkpoints?.write(
                    partitions, reason: "revoke", within: settings.checkpointTimeout, budget: budget)
            }
            let positions = ledger.takeStorable(partitions)
            do {
                try await consumer.storeOffsets(
                    positions.map {
                        TopicPartitionOffset(TopicPartition(settings.inputTopic, $0.key), offset: $0.value)
                    })
                if coordinatorSilent.isSet {
                    logger.warning(
                        "commit on revoke skipped: the group coordinator did not answer the stop's commit; the next owner re-reads from the last commit and deduplicates"
                    )
                } else {
                    try await consumer.commit(
                        timeout: budget.bound(settings.commitTimeout, keeping: budget.reserve(.seconds(1), share: 0.25))
                    )
                }
            } catch {
                // Nothing is lost: offsets are stored only after delivery, and the next owner deduplicates
                // from the decisions topic what it reads again.
                logger.warning(
                    "commit on revoke did not complete; the next owner re-reads from the last commit and deduplicates: \(error)"
                )
            }
        }
        checkpoints?.forget(partitions)
        await ownership.released(partitions)
    }
}

/// Lets the rebalance hook reach the consumer it is installed on (set once the consumer exists).
final class ConsumerReference: Sendable {
    private let value = Mutex<KafkaConsumer?>(nil)

    var consumer: KafkaConsumer? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
