import DecisionEngine
import Kafka
import Logging
import Synchronization

/// The one place where the service's view of the input partitions it owns changes. Four parts keep a
/// partition set: the delivery ledger tracks its offsets, readiness reports it, the state store decides
/// its messages and the lag gauges label it; the rebalance hook changes all four through here, in the
/// same order every time, so that they never drift apart.
struct PartitionOwnership: Sendable {
    let ledger: DeliveryLedger
    let readiness: Readiness
    let store: DecisionStateStore
    let metrics: ServiceMetrics
    let logger: Logger

    /// A restore's progress, reported as it goes: the metrics per partition, the records left in `/readyz`,
    /// and a log line every 5 seconds for a long one.
    func restoreProgress(of partitions: [Int32], started: ContinuousClock.Instant)
        -> @Sendable (StateRestorer.RestoreProgress) -> Void
    {
        let lastLine = Mutex(started)
        return { [metrics, readiness, logger] progress in
            for (partition, remaining) in progress.remaining {
                metrics.recordRestore(partition: partition, read: progress.read[partition] ?? 0, remaining: remaining)
            }
            readiness.restoring(remaining: progress.remaining)
            let now = ContinuousClock.now
            let due = lastLine.withLock { last in
                guard last.duration(to: now) >= .seconds(5) else { return false }
                last = now
                return true
            }
            if due {
                logger.info(
                    "restoring state",
                    metadata: [
                        "partitions": "\(partitions.sorted())", "records_left": "\(progress.totalRemaining)",
                        "seconds": "\(started.duration(to: now).secondsText)",
                    ])
            }
        }
    }

    /// Newly assigned: tracked and reported as restoring; not decided until restored.
    func assigned(_ partitions: [Int32]) {
        readiness.assigning(partitions)
        ledger.open(partitions)
        updateGauges()
    }

    /// Their state is installed in the store (by the restore, which read each output partition up to
    /// `ends`): reported ready, and their confirmed outputs counted from those ends.
    func restored(_ partitions: [Int32], coveredTo ends: [TopicPartition: Int64]) {
        for partition in partitions {
            ledger.cover(partition, from: ends.filter { $0.key.partition == partition })
        }
        readiness.restored(partitions)
        updateGauges()
    }

    /// Revoked or lost: forgotten everywhere.
    func released(_ partitions: [Int32]) async {
        ledger.close(partitions)
        await store.drop(partitions)
        readiness.revoked(partitions)
        metrics.forgetLag(partitions: partitions)
        updateGauges()
    }

    private func updateGauges() {
        let snapshot = readiness.snapshot
        metrics.assignedPartitions.record(snapshot.assigned.count)
        metrics.ready.record(snapshot.ready ? 1 : 0)
    }
}
