import DecisionEngine
import Kafka
import Logging
import Synchronization

/// The service's checkpoints (`--state-dir`): a restore starts from a partition's valid checkpoint and
/// reads only the records after its offsets; the state of owned partitions is written on revoke, on
/// stop and on a schedule (``CheckpointSchedule``). A checkpoint is written only when nothing of its
/// partition is in flight and no delivery has failed, so that the state holds exactly the decisions
/// before the offsets it names: the decisions confirmed delivered since the restore, and what the
/// restore read. A checkpoint that cannot be used is named in one log line and the partition is read in
/// full; a write that fails or runs out of time is logged and costs only a longer next restore.
struct Checkpoints: Sendable {
    let files: CheckpointFiles
    let store: DecisionStateStore
    let ledger: DeliveryLedger
    let settings: ServiceSettings
    let routing: DeadLetterRouting
    let logger: Logger
    /// The offsets each partition's last checkpoint covers: an unchanged partition is not written again.
    private let written = LastWritten()

    init(
        files: CheckpointFiles, store: DecisionStateStore, ledger: DeliveryLedger, settings: ServiceSettings,
        routing: DeadLetterRouting, logger: Logger
    ) {
        self.files = files
        self.store = store
        self.ledger = ledger
        self.settings = settings
        self.routing = routing
        self.logger = logger
    }

    private var deadLetterTopic: String? { routing.followsSourcePartition ? settings.dlqTopic : nil }

    private func identity(of partition: Int32) -> PartitionCheckpoint.Identity {
        store.checkpointIdentity(
            partition: partition, inputTopic: settings.inputTopic, decisionsTopic: settings.outputTopic,
            deadLetterTopic: deadLetterTopic)
    }

    private func path(of partition: Int32) -> String {
        files.path(inputTopic: settings.inputTopic, partition: partition)
    }

    // MARK: Loading

    /// The checkpoints of `partitions` that can be trusted so far (their offsets are checked against the
    /// topics by the restore, ``rejected(_:_:)``); one log line names those without one, one line each
    /// those that cannot be used.
    func load(_ partitions: [Int32]) async -> [Int32: PartitionCheckpoint] {
        var loaded: [Int32: PartitionCheckpoint] = [:]
        var missing: [Int32] = []
        for partition in partitions.sorted() {
            switch await load(partition) {
            case let .success(checkpoint): loaded[partition] = checkpoint
            case .failure(.missing): missing.append(partition)
            case let .failure(problem): rejected(partition, problem)
            }
        }
        if !missing.isEmpty {
            logger.info("no checkpoint for partitions \(missing) in \(files.directory): restoring them in full")
        }
        return loaded
    }

    private func load(_ partition: Int32) async -> Result<PartitionCheckpoint, CheckpointProblem> {
        let bytes: [UInt8]?
        do {
            bytes = try await files.read(path(of: partition))
        } catch {
            return .failure(.corrupted("\(error)"))
        }
        guard let bytes else { return .failure(.missing) }
        do {
            let checkpoint = try PartitionCheckpoint(decoding: bytes, into: store.emptyState())
            if let mismatch = checkpoint.identity.mismatch(against: identity(of: partition)) {
                return .failure(.foreign(mismatch))
            }
            return .success(checkpoint)
        } catch {
            return .failure(error)
        }
    }

    /// Names a checkpoint that is not used, in one line.
    func rejected(_ partition: Int32, _ problem: CheckpointProblem) {
        logger.warning(
            "checkpoint of partition \(partition) ignored, restoring it in full: \(problem)",
            metadata: ["path": "\(path(of: partition))"])
    }

    // MARK: Writing

    /// Writes the checkpoints of those of `partitions` that have nothing in flight and changed since their
    /// last one, within `timeout` and what is left of the stop `budget` once a stop has begun; `reason`
    /// names the moment in the log line.
    func write(_ partitions: [Int32], reason: String, within timeout: Duration, budget: StopBudget) async {
        let deadline = ContinuousClock.now + timeout
        guard ledger.failure == nil else { return }
        var due: [Int32: [TopicPartition: Int64]] = [:]
        for partition in partitions where ledger.pendingOutputs([partition]) == 0 {
            guard let ends = ledger.confirmedEnds(of: partition), ends[decisionsPartition(partition)] != nil,
                written.ends(of: partition) != ends
            else { continue }
            due[partition] = ends
        }
        guard !due.isEmpty else { return }
        let states = await store.snapshot(Array(due.keys))
        var bytes = 0
        var done: [Int32] = []
        let started = ContinuousClock.now
        for (partition, ends) in due.sorted(by: { $0.key < $1.key }) {
            guard let state = states[partition] else { continue }
            let checkpoint = PartitionCheckpoint(
                identity: identity(of: partition), decisionsOffset: ends[decisionsPartition(partition)]!,
                deadLettersOffset: deadLetterTopic.map { ends[TopicPartition($0, partition)] ?? 0 }, state: state)
            let left = budget.bound(
                ContinuousClock.now.duration(to: deadline), keeping: budget.reserve(.seconds(2), share: 0.3))
            do {
                let work = Task { [files, path = path(of: partition)] in
                    try await files.replace(path) { checkpoint.encoded() }
                }
                guard left > .zero, let written = try await value(of: work, within: left) else {
                    logger.warning(
                        "checkpoints (\(reason)) did not finish within \(timeout); partitions \(due.keys.filter { !done.contains($0) }.sorted()) keep their earlier checkpoint"
                    )
                    break
                }
                bytes += written
                done.append(partition)
                self.written.set(ends, for: partition)
            } catch {
                logger.warning("checkpoint of partition \(partition) (\(reason)) not written: \(error)")
            }
        }
        guard !done.isEmpty else { return }
        logger.info(
            "checkpoints written",
            metadata: [
                "reason": "\(reason)", "partitions": "\(done.sorted())", "bytes": "\(bytes)",
                "seconds": "\(started.duration(to: .now).secondsText)",
            ])
    }

    /// Remembers what a restore found: a partition restored from its checkpoint up to `ends` with nothing
    /// after it has that checkpoint on disk already, and is not written again until it changes.
    func restored(_ outcome: StateRestorer.Outcome) {
        for (partition, covered) in outcome.checkpointed {
            let ends = outcome.ends.filter { $0.key.partition == partition }
            if covered == ends { written.set(ends, for: partition) }
        }
    }

    /// Forgets what was written for partitions this instance no longer owns: a later assignment restores
    /// them, and its first checkpoint is written whatever it covers.
    func forget(_ partitions: [Int32]) { written.forget(partitions) }

    private func decisionsPartition(_ partition: Int32) -> TopicPartition {
        TopicPartition(settings.outputTopic, partition)
    }
}

/// What each partition's last checkpoint covers.
private final class LastWritten: Sendable {
    private let ends = Mutex<[Int32: [TopicPartition: Int64]]>([:])

    func ends(of partition: Int32) -> [TopicPartition: Int64]? { ends.withLock { $0[partition] } }
    func set(_ value: [TopicPartition: Int64], for partition: Int32) { ends.withLock { $0[partition] = value } }
    func forget(_ partitions: [Int32]) { ends.withLock { for partition in partitions { $0[partition] = nil } } }
}
