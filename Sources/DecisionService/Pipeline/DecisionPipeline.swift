import DecisionCore
import DecisionEngine
import Kafka
import Logging
import ServiceLifecycle
import Synchronization
import WireFormat

/// The decider service: consumes `executor-results` in a consumer group, decides each run once, publishes
/// decisions to the same partition number of `optimizer-decisions` and dead letters to the DLQ.
///
/// Pipelined and still at-least-once: the loop keeps consuming and deciding while earlier outputs are in
/// flight; an input offset is stored only when everything it and every earlier message of its partition
/// produced is confirmed delivered (``DeliveryLedger``); what is in flight is bounded (the loop stops
/// fetching until deliveries catch up). A delivery failure stops the service before the failed message's
/// offset moves. A stop (graceful shutdown) ends within the ``StopBudget``: stop fetching, wait for the
/// outputs in flight, commit what was delivered, leave the group.
public final class DecisionPipeline: Service, Sendable {
    public let settings: ServiceSettings
    public let metrics: ServiceMetrics
    public let readiness: Readiness
    /// The one stopping state: a stop has begun once the budget has (a signal, graceful shutdown, a
    /// failure); the loop, the rebalance hook, readiness and the restore all read it here.
    public let budget: StopBudget
    /// Totals since start, for callers in the same process (`demo`, tests).
    public let progress = PipelineProgress()
    private let logger: Logger
    private let store: DecisionStateStore
    let ledger = DeliveryLedger()
    /// Where dead letters go: set by the startup topic check, read by every output and restore after it.
    private let routing = DeadLetterRouting()
    /// Why the service stopped when it could not go on; `nil` for a requested stop.
    private let failure = Mutex<String?>(nil)
    /// Set when the stop's commit found the group coordinator silent (a JoinGroup pending there holds
    /// every later request): the revoke and the group leave of the same stop then spend no budget on it.
    private let coordinatorSilent = LockedFlag()

    public init(
        settings: ServiceSettings, metrics: ServiceMetrics = ServiceMetrics(), budget: StopBudget? = nil, logger: Logger
    ) {
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        self.budget =
            budget
            ?? StopBudget(budget: settings.stopTimeout) { unfinished in
                logger.critical(
                    "stop budget of \(settings.stopTimeout) exceeded; unfinished: \(unfinished.joined(separator: ", "))"
                )
            }
        readiness = Readiness(stop: self.budget)
        let decider = Decider(rules: settings.rules, maximumMessageBytes: settings.maximumMessageBytes)
        store = DecisionStateStore(
            decider: decider, retentionMs: settings.retentionMs,
            capacityPerPartition: settings.stateCapacityPerPartition, shards: settings.decisionShards)
    }

    /// Asks the loop to stop (what graceful shutdown does); the stop budget starts now.
    public func requestStop() {
        budget.begin()
    }

    /// Stops the service because it cannot go on; `run` then throws with this reason.
    func fail(_ reason: String) {
        failure.withLock { if $0 == nil { $0 = reason } }
        budget.begin()
    }

    private var stopRequested: Bool { budget.isStarted }

    /// Runs until graceful shutdown (or ``requestStop()``), then stops within the budget. Throws, with a
    /// one-line reason, when the service cannot start or cannot go on.
    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await runUntilStopped()
        } onGracefulShutdown: {
            self.requestStop()
        }
    }

    private func runUntilStopped() async throws {
        var consumerConfiguration = settings.kafka
        if let instance = settings.groupInstanceID { consumerConfiguration.groupInstanceID = instance }
        if consumerConfiguration.autoCommitInterval == nil { consumerConfiguration.autoCommitInterval = .seconds(1) }
        let checkpoints = try makeCheckpoints()
        // The producer first: the rebalance hook's drain re-sends queued retries through the publisher.
        let producer = try KafkaProducer(configuration: settings.producerConfiguration, logger: logger)
        let publisher = Publisher(
            producer: producer, ledger: ledger,
            outputs: OutputRecords(
                outputTopic: settings.outputTopic, dlqTopic: settings.dlqTopic, writeDeadLetters: true,
                routing: routing),
            metrics: metrics, logger: logger)
        let reference = ConsumerReference()
        let ownership = PartitionOwnership(
            ledger: ledger, readiness: readiness, store: store, metrics: metrics, logger: logger)
        let handler = RebalanceHandler(
            settings: settings, ownership: ownership, publisher: publisher, budget: budget, routing: routing,
            logger: logger, consumer: reference, coordinatorSilent: coordinatorSilent, fail: { [self] in fail($0) },
            checkpoints: checkpoints)
        let consumer: KafkaConsumer
        do {
            consumer = try KafkaConsumer(
                configuration: consumerConfiguration, groupID: settings.groupID,
                rebalanceHook: { await handler.handle($0) },
                rebalanceHookTimeout: settings.restoreTimeout + .seconds(30), logger: logger)
        } catch {
            await producer.close(timeout: .seconds(1))
            throw error
        }
        reference.consumer = consumer
        do {
            let check = TopicCheck(
                settings: settings, outputTopic: settings.outputTopic, requireDLQ: true, routing: routing,
                logger: logger)
            guard try await check.inputPartitions(consumer, isStopping: { [self] in stopRequested }) != nil else {
                logger.info("stopped before the brokers answered")
                await consumer.close(timeout: budget.remaining(keeping: budget.reserve(.seconds(1), share: 0.25)))
                await producer.close(timeout: budget.bound(.seconds(1)))
                budget.finish()
                return
            }
            // A short wait: the topics are known to exist, and a stop may already be on its way.
            if try await !producer.prepare(topics: publisher.outputs.topics, timeout: .seconds(1)) {
                logger.debug("the producer's topic look-up did not answer within 1 s; librdkafka's topic scan will")
            }
        } catch {
            await consumer.close(timeout: .seconds(5))
            await producer.close(timeout: .seconds(1))
            throw error
        }
        logger.info(
            "starting",
            metadata: [
                "input": "\(settings.inputTopic)", "output": "\(settings.outputTopic)", "dlq": "\(settings.dlqTopic)",
                "group": "\(settings.groupID)", "rules_fingerprint": "\(store.decider.rulesFingerprint)",
                "decision_shards": "\(store.shardCount)",
            ])
        do {
            try await consumer.subscribe(topics: [settings.inputTopic])
            try await consume(consumer, publisher, checkpoints)
        } catch {
            fail("\(error)")
        }
        if let reason = ledger.failure { fail(reason) }
        await stop(consumer, publisher, checkpoints)
        if let reason = failure.withLock({ $0 }) { throw ServiceError(reason) }
        logger.info("stopped cleanly")
    }

    /// The checkpoints of `--state-dir`, the directory created and checked; `nil` without one.
    private func makeCheckpoints() throws -> Checkpoints? {
        try settings.stateDirectory.map { directory in
            Checkpoints(
                files: try CheckpointFiles.prepare(directory), store: store, ledger: ledger, settings: settings,
                routing: routing, logger: logger)
        }
    }

    // MARK: The loop

    private func consume(_ consumer: KafkaConsumer, _ publisher: Publisher, _ checkpoints: Checkpoints?) async throws {
        let path = BatchPath(
            settings: settings, store: store, ledger: ledger, publisher: publisher,
            isStopping: { [budget] in budget.isStarted })
        var gauges = GaugeSchedule()
        var schedule = CheckpointSchedule(
            interval: settings.checkpointInterval, decisions: settings.checkpointDecisions)
        while !stopRequested {
            try await storeDelivered(consumer)
            metrics.inFlight.record(ledger.inFlight.messages)
            if let checkpoints, schedule.due(decided: progress.decided) {
                try await checkpoint(checkpoints, publisher)
            }
            let batch = try await path.fetch(from: consumer)
            guard !batch.isEmpty else { continue }
            try await decide(batch, on: path)
            if gauges.due() { try await updateGauges(consumer, batch: batch) }
        }
    }

    /// A scheduled checkpoint: the loop waits (bounded) for what is in flight, so that the state holds
    /// exactly what the decisions topic does, then writes every owned partition that changed.
    private func checkpoint(_ checkpoints: Checkpoints, _ publisher: Publisher) async throws {
        guard await publisher.drain(timeout: settings.revokeDrainTimeout) else {
            if let reason = ledger.failure { throw ServiceError(reason) }
            logger.warning("outputs still in flight after \(settings.revokeDrainTimeout); checkpoint skipped")
            return
        }
        await checkpoints.write(
            Array(await store.ownedPartitions), reason: "schedule", within: settings.checkpointTimeout, budget: budget)
    }

    /// Decides a batch and sends its outputs without waiting for them; counts and metrics per outcome.
    private func decide(_ batch: [KafkaMessage], on path: BatchPath) async throws {
        var counts = PipelineProgress.Counts()
        var consumed: [Int32: Int] = [:]
        try await path.decide(batch) { message, outcome, trace in
            consumed[message.partition, default: 0] += 1
            switch outcome {
            case let .decided(decision, _):
                counts.decided += 1
                metrics.recordDecision(decision)
            case .duplicate:
                counts.duplicates += 1
                metrics.duplicates.increment()
            case let .rejectedBefore(rejection):
                // Its dead letter is on the DLQ already (written before a restart): nothing is written again.
                logger.debug(
                    "dead letter already written",
                    metadata: [
                        "partition": "\(message.partition)", "offset": "\(message.offset)",
                        "reason": "\(rejection.reason.rawValue)",
                    ])
            case let .rejected(rejection):
                counts.deadLetters += 1
                metrics.deadLetters[rejection.reason]!.increment()
                var metadata: Logger.Metadata = [
                    "partition": "\(message.partition)", "offset": "\(message.offset)",
                    "reason": "\(rejection.reason.rawValue)",
                ]
                if let traceID = trace.traceID { metadata["trace_id"] = "\(traceID)" }
                logger.debug("dead letter", metadata: metadata)
            }
        }
        for (partition, count) in consumed { metrics.recordConsumed(partition: partition, count: count) }
        counts.consumed = consumed.values.reduce(0, +)
        progress.add(counts)
    }

    /// Stores the offsets whose outputs are all confirmed; the automatic commit sends them.
    private func storeDelivered(_ consumer: KafkaConsumer) async throws {
        let positions = ledger.takeStorable()
        guard !positions.isEmpty else { return }
        try await consumer.storeOffsets(
            positions.map { TopicPartitionOffset(TopicPartition(settings.inputTopic, $0.key), offset: $0.value) })
    }

    private func updateGauges(_ consumer: KafkaConsumer, batch: [KafkaMessage]) async throws {
        var next: [Int32: Int64] = [:]
        for message in batch { next[message.partition] = message.offset + 1 }
        let marks = try await consumer.cachedWatermarks(next.keys.map { TopicPartition(settings.inputTopic, $0) })
        for (partition, position) in next {
            if let high = marks[TopicPartition(settings.inputTopic, partition)]?.high {
                metrics.recordLag(partition: partition, messages: max(0, high - position))
            }
        }
        let size = await store.size
        metrics.stateEntries.record(size.decisions)
        metrics.stateWorkflows.record(size.workflows)
    }

    // MARK: Stopping

    /// The stop, each step bounded by what is left of the budget: outputs in flight (re-sending queued
    /// retries), the commit of what was delivered, leaving the group (whose revoke commits once more), the
    /// producer. A commit the coordinator does not answer (a rebalance holds it) is not waited for again:
    /// what it would have committed is left to the next owner's deduplication.
    private func stop(_ consumer: KafkaConsumer, _ publisher: Publisher, _ checkpoints: Checkpoints?) async {
        budget.begin()
        logger.info(
            "stopping: waiting for outputs in flight, committing, leaving the group",
            metadata: ["budget": "\(settings.stopTimeout)"])
        await budget.step("waiting for outputs in flight") {
            if !(await publisher.drain(timeout: budget.remaining(keeping: budget.reserve(.seconds(4), share: 0.5)))),
                ledger.failure == nil
            {
                logger.warning(
                    "\(ledger.pendingOutputs()) outputs still unconfirmed; their inputs are not committed and will be decided again and deduplicated"
                )
            }
        }
        if let checkpoints, ledger.pendingOutputs() == 0 {
            await budget.step("writing checkpoints") {
                await checkpoints.write(
                    Array(await store.ownedPartitions), reason: "stop", within: settings.checkpointTimeout,
                    budget: budget)
            }
        }
        await budget.step("committing delivered offsets") {
            do {
                try await storeDelivered(consumer)
                try await consumer.commit(
                    timeout: budget.bound(settings.stopCommitTimeout, keeping: budget.reserve(.seconds(1), share: 0.25))
                )
            } catch {
                if (error as? KafkaError)?.kind == .timedOut { coordinatorSilent.set() }
                logger.warning(
                    "commit on stop did not complete; the next owner re-reads from the last commit and deduplicates: \(error)"
                )
            }
        }
        await budget.step("leaving the group") {
            // A silent coordinator will not answer the LeaveGroup either: a short wait, then the client
            // is freed and the coordinator drops the member after its session timeout.
            let limit = coordinatorSilent.isSet ? settings.stopCommitTimeout : settings.stopTimeout
            await consumer.close(
                timeout: min(limit, budget.remaining(keeping: budget.reserve(.seconds(1), share: 0.25))))
        }
        await budget.step("closing the producer") {
            await publisher.producer.close(timeout: budget.bound(.seconds(1)))
        }
        budget.finish()
    }
}

/// Totals since start, readable from any thread.
public final class PipelineProgress: Sendable {
    struct Counts {
        var consumed = 0
        var decided = 0
        var duplicates = 0
        var deadLetters = 0
    }

    private let counts = Mutex(Counts())

    func add(_ batch: Counts) {
        counts.withLock {
            $0.consumed += batch.consumed
            $0.decided += batch.decided
            $0.duplicates += batch.duplicates
            $0.deadLetters += batch.deadLetters
        }
    }

    public var consumed: Int { counts.withLock { $0.consumed } }
    public var decided: Int { counts.withLock { $0.decided } }
    public var duplicates: Int { counts.withLock { $0.duplicates } }
    public var deadLetters: Int { counts.withLock { $0.deadLetters } }
}

/// When the loop writes its scheduled checkpoint: `interval` after the last one, or once `decisions` more
/// have been decided, whichever comes first.
struct CheckpointSchedule {
    let interval: Duration
    let decisions: Int
    private var last = ContinuousClock.now
    private var decidedAtLast = 0

    init(interval: Duration, decisions: Int) {
        self.interval = interval
        self.decisions = decisions
    }

    mutating func due(decided: Int) -> Bool {
        let now = ContinuousClock.now
        guard last.duration(to: now) >= interval || decided - decidedAtLast >= decisions else { return false }
        last = now
        decidedAtLast = decided
        return true
    }
}

/// Gauges that need a look-up (lag, state size) are refreshed at most twice a second, not per batch.
struct GaugeSchedule {
    private var last: ContinuousClock.Instant?

    mutating func due() -> Bool {
        let now = ContinuousClock.now
        if let last, last.duration(to: now) < .milliseconds(500) { return false }
        last = now
        return true
    }
}
