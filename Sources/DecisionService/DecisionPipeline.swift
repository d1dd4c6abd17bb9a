import DecisionCore
import Foundation
import Kafka
import Logging
import WireFormat

/// A flag raised once to ask the pipeline to stop.
///
/// `@unchecked Sendable`: `value` and `reason` are only accessed under `lock`.
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    private var failure: String?

    public init() {}

    public var isRaised: Bool { lock.lock(); defer { lock.unlock() }; return value }
    public var failureReason: String? { lock.lock(); defer { lock.unlock() }; return failure }

    public func raise() { lock.lock(); value = true; lock.unlock() }

    /// Stops the pipeline because it cannot go on; `run` then throws with this reason.
    public func fail(_ reason: String) {
        lock.lock()
        value = true
        if failure == nil { failure = reason }
        lock.unlock()
    }
}

/// Which assigned partitions have their state restored: `/readyz` answers from this.
///
/// `@unchecked Sendable`: both sets are only accessed under `lock`.
final class Readiness: @unchecked Sendable {
    private let lock = NSLock()
    private var assigned = Set<Int32>()
    private var restored = Set<Int32>()

    func assigning(_ partitions: [Int32]) { lock.lock(); assigned.formUnion(partitions); lock.unlock() }
    func restored(_ partitions: [Int32]) { lock.lock(); restored.formUnion(partitions); lock.unlock() }
    func revoked(_ partitions: [Int32]) {
        lock.lock()
        assigned.subtract(partitions)
        restored.subtract(partitions)
        lock.unlock()
    }

    var state: (ready: Bool, assigned: [Int32], restoring: [Int32]) {
        lock.lock()
        defer { lock.unlock() }
        return (!assigned.isEmpty && assigned.isSubset(of: restored), assigned.sorted(), assigned.subtracting(restored).sorted())
    }
}

/// The decider service: consumes `executor-results`, decides each run once, publishes decisions to the
/// same partition number of `optimizer-decisions` and dead letters to the DLQ, and stores each input
/// offset only after everything it produced is confirmed delivered.
public final class DecisionPipeline: Sendable {
    public let settings: ServiceSettings
    public let metrics: ServiceMetrics
    private let logger: Logger
    private let store: DecisionStateStore
    private let readiness = Readiness()

    public init(settings: ServiceSettings, metrics: ServiceMetrics = ServiceMetrics(), logger: Logger) {
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        let decider = Decider(rules: settings.rules, maximumMessageBytes: settings.maximumMessageBytes)
        store = DecisionStateStore(decider: decider, retentionMs: settings.retentionMs, capacityPerPartition: settings.stateCapacityPerPartition)
    }

    /// What `/healthz` and `/readyz` answer.
    public func health(_ path: String) -> HTTPServer.Response {
        switch path {
        case "/metrics":
            return HTTPServer.Response(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.render())
        case "/healthz":
            return HTTPServer.Response(status: 200, body: "ok\n")
        case "/readyz":
            let state = readiness.state
            if state.ready { return HTTPServer.Response(status: 200, body: "ready: partitions \(state.assigned)\n") }
            let why = state.assigned.isEmpty ? "no partitions assigned" : "restoring partitions \(state.restoring)"
            return HTTPServer.Response(status: 503, body: "not ready: \(why)\n")
        default:
            return HTTPServer.Response(status: 404, body: "not found; try /metrics, /healthz or /readyz\n")
        }
    }

    /// Runs until `stop` is raised, then stops cleanly: finishes the batch in hand, commits, leaves the
    /// group. Throws, with a one-line reason, when the service cannot start or cannot go on.
    public func run(until stop: StopSignal) async throws {
        var consumerConfiguration = settings.kafka
        if let instance = settings.groupInstanceID { consumerConfiguration["group.instance.id"] = instance }
        if consumerConfiguration["auto.commit.interval.ms"] == nil { consumerConfiguration["auto.commit.interval.ms"] = "1000" }
        let box = ConsumerReference()
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration, groupID: settings.groupID,
            rebalanceHook: { [self] event in await self.rebalanced(event, consumer: box.consumer, stop: stop) },
            logger: logger)
        box.consumer = consumer
        let producer: KafkaProducer
        do {
            try await checkTopics(consumer)
            var producerConfiguration = settings.kafka
            // Dead letters carry the input bytes unchanged, even above the input limit: let the broker,
            // not the client, decide what the DLQ topic accepts.
            if producerConfiguration["message.max.bytes"] == nil { producerConfiguration["message.max.bytes"] = "67108864" }
            producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
        } catch {
            await consumer.close(timeout: .seconds(5))
            throw error
        }
        logger.info("starting", metadata: [
            "input": "\(settings.inputTopic)", "output": "\(settings.outputTopic)", "dlq": "\(settings.dlqTopic)",
            "group": "\(settings.groupID)", "rules_fingerprint": "\(store.decider.rulesFingerprint)",
        ])
        var failure: Error?
        do {
            try await consumer.subscribe(topics: [settings.inputTopic])
            while !stop.isRaised {
                let batch = try await consumer.nextBatch(maxMessages: settings.batchSize, timeout: .milliseconds(200))
                if batch.isEmpty { continue }
                try await handle(batch, consumer: consumer, producer: producer)
            }
        } catch {
            failure = error
        }
        logger.info("stopping: leaving the group and committing")
        await consumer.close(timeout: .seconds(8))
        await producer.close(timeout: .seconds(5))
        if let reason = stop.failureReason { throw ServiceError(reason) }
        if let failure { throw failure }
        logger.info("stopped cleanly")
    }

    private func handle(_ batch: [KafkaMessage], consumer: KafkaConsumer, producer: KafkaProducer) async throws {
        let received = ContinuousClock.now
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        let results = await store.process(batch, nowMs: nowMs)
        var records: [ProducerRecord] = []
        records.reserveCapacity(batch.count)
        var positions: [Int32: Int64] = [:]
        var decided: [(Bool, String)] = []
        var rejected: [RejectionReason] = []
        var regressions: [RegressionCode] = []
        var duplicates = 0
        for result in results {
            guard let result else { continue }
            let message = result.message
            switch result.outcome {
            case let .decided(decision, json):
                records.append(ProducerRecord(
                    topic: settings.outputTopic, partition: message.partition, key: message.key, value: json,
                    headers: DecisionEncoder.headers.map { KafkaHeader($0.0, $0.1) }))
                decided.append((decision.verdict.shouldOptimize, decision.verdict.strategy?.rawValue ?? "none"))
                regressions += decision.verdict.regressions.map(\.code)
            case .duplicate:
                duplicates += 1
            case let .rejected(rejection):
                records.append(ProducerRecord(
                    topic: settings.dlqTopic, key: message.key, value: message.value,
                    headers: DeadLetterHeaders.make(rejection, topic: message.topic, partition: message.partition, offset: message.offset).map { KafkaHeader($0.0, $0.1) }))
                rejected.append(rejection.reason)
                logger.debug("dead letter", metadata: [
                    "partition": "\(message.partition)", "offset": "\(message.offset)", "reason": "\(rejection.reason.rawValue)",
                ])
            }
            positions[message.partition] = message.offset + 1
        }
        try await deliver(records, with: producer)
        try await consumer.storeOffsets(positions.map { TopicPartitionOffset(TopicPartition(settings.inputTopic, $0.key), offset: $0.value) })
        record(batch: batch, decided: decided, duplicates: duplicates, rejected: rejected, regressions: regressions, since: received)
        let marks = try await consumer.cachedWatermarks(positions.keys.map { TopicPartition(settings.inputTopic, $0) })
        for (partition, next) in positions {
            if let high = marks[TopicPartition(settings.inputTopic, partition)]?.high {
                metrics.set("optimizer_decider_consumer_lag", [("partition", String(partition))], to: Double(max(0, high - next)))
            }
        }
        let size = await store.size
        metrics.set("optimizer_decider_state_entries", to: Double(size.decisions))
        metrics.set("optimizer_decider_state_workflows", to: Double(size.workflows))
    }

    /// Sends a batch's output and waits for every delivery. A dead letter the DLQ refuses as too large
    /// is sent again without its value, with its size and SHA-256 in headers, so it still leaves a trace;
    /// any other failure stops the service before the offsets move (a restart re-decides and deduplicates).
    private func deliver(_ records: [ProducerRecord], with producer: KafkaProducer) async throws {
        let results = try await producer.sendEach(records)
        var retries: [ProducerRecord] = []
        for (record, result) in zip(records, results) {
            guard case let .failure(error) = result else { continue }
            if record.topic == settings.dlqTopic && error.code == Self.messageSizeTooLarge {
                var stripped = record
                stripped.value = []
                stripped.headers += [
                    KafkaHeader("dlq-value-omitted", "\(record.value.count) bytes: larger than the dead-letter topic accepts"),
                    KafkaHeader("dlq-value-sha256", hexString(SHA256.hash(record.value))),
                ]
                logger.warning("dead letter too large for \(settings.dlqTopic); sent without its value", metadata: ["bytes": "\(record.value.count)"])
                retries.append(stripped)
            } else {
                throw ServiceError("output could not be delivered to \(record.topic), so the input offsets are not committed: \(error)")
            }
        }
        if !retries.isEmpty {
            do {
                try await producer.send(retries)
            } catch {
                throw ServiceError("dead letters could not be delivered to \(settings.dlqTopic), so the input offsets are not committed: \(error)")
            }
        }
    }

    /// librdkafka's and Kafka's MSG_SIZE_TOO_LARGE.
    private static let messageSizeTooLarge: Int32 = 10

    private func record(batch: [KafkaMessage], decided: [(Bool, String)], duplicates: Int, rejected: [RejectionReason], regressions: [RegressionCode], since received: ContinuousClock.Instant) {
        var consumed: [Int32: Int] = [:]
        for message in batch { consumed[message.partition, default: 0] += 1 }
        for (partition, count) in consumed {
            metrics.increment("optimizer_decider_messages_consumed_total", [("partition", String(partition))], by: Double(count))
        }
        for (shouldOptimize, strategy) in decided {
            metrics.increment("optimizer_decider_decisions_total", [("should_optimize", String(shouldOptimize)), ("strategy", strategy)])
        }
        if duplicates > 0 { metrics.increment("optimizer_decider_duplicates_total", by: Double(duplicates)) }
        for reason in rejected { metrics.increment("optimizer_decider_dead_letters_total", [("reason", reason.rawValue)]) }
        for code in regressions { metrics.increment("optimizer_decider_regressions_total", [("code", code.rawValue)]) }
        let elapsed = received.duration(to: .now)
        metrics.observe("optimizer_decider_processing_seconds", seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, count: batch.count)
    }

    // MARK: Startup checks

    private func checkTopics(_ consumer: KafkaConsumer) async throws {
        let deadline = ContinuousClock.now + settings.startupTimeout
        var lastError: Error?
        var counts: [String: Int] = [:]
        for topic in [settings.inputTopic, settings.outputTopic, settings.dlqTopic] {
            while counts[topic] == nil {
                do {
                    counts[topic] = try await consumer.partitionCount(topic: topic, timeout: .seconds(5))
                } catch let error as KafkaError where error.code == 3 {
                    throw ServiceError("topic \(topic) does not exist on \(settings.kafka.bootstrapServers); create it first (see README: topics)")
                } catch {
                    lastError = error
                    guard ContinuousClock.now < deadline else {
                        throw ServiceError("cannot reach Kafka at \(settings.kafka.bootstrapServers) within \(settings.startupTimeout): \(lastError.map { "\($0)" } ?? "no answer")")
                    }
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
        }
        let input = counts[settings.inputTopic]!, output = counts[settings.outputTopic]!
        guard output >= input else {
            throw ServiceError("output topic \(settings.outputTopic) has \(output) partitions, fewer than the \(input) of \(settings.inputTopic): each decision goes to its input's partition number, so the output needs at least as many")
        }
    }

    // MARK: Rebalances

    private func rebalanced(_ event: RebalanceEvent, consumer: KafkaConsumer?, stop: StopSignal) async {
        let partitions = event.partitions.filter { $0.topic == settings.inputTopic }.map(\.partition)
        guard !partitions.isEmpty else { return }
        switch event.kind {
        case .assigned:
            readiness.assigning(partitions)
            updateAssignmentGauges()
            let started = ContinuousClock.now
            let restorer = StateRestorer(
                configuration: settings.kafka, outputTopic: settings.outputTopic, fingerprint: store.decider.rulesFingerprint,
                retentionMs: settings.retentionMs, timeout: settings.restoreTimeout, logger: logger)
            do {
                let store = store
                let result = try await restorer.restore(partitions, into: { store.emptyState() }, nowMs: Int64(Date().timeIntervalSince1970 * 1000))
                for (partition, state) in result.states { await store.install(state, for: partition) }
                let elapsed = started.duration(to: .now)
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                metrics.observe("optimizer_decider_restore_seconds", seconds: seconds)
                metrics.increment("optimizer_decider_restored_decisions_total", by: Double(result.decisionsRead))
                readiness.restored(partitions)
                updateAssignmentGauges()
                logger.info("state restored", metadata: [
                    "partitions": "\(partitions.sorted())", "decisions_read": "\(result.decisionsRead)",
                    "seconds": "\(String(format: "%.3f", seconds))",
                ])
            } catch {
                logger.critical("cannot restore state: \(error)")
                stop.fail("cannot restore state for partitions \(partitions.sorted()) from \(settings.outputTopic): \(error)")
            }
        case .revoked, .lost:
            if event.kind == .revoked, let consumer {
                do {
                    try await consumer.commit()
                } catch {
                    logger.warning("commit on revoke failed; the next owner re-reads from the last commit and deduplicates: \(error)")
                }
            }
            await store.drop(partitions)
            readiness.revoked(partitions)
            for partition in partitions { metrics.removeGauge("optimizer_decider_consumer_lag", [("partition", String(partition))]) }
            updateAssignmentGauges()
        }
    }

    private func updateAssignmentGauges() {
        let state = readiness.state
        metrics.set("optimizer_decider_assigned_partitions", to: Double(state.assigned.count))
        metrics.set("optimizer_decider_ready", to: state.ready ? 1 : 0)
    }
}

/// Lets the rebalance hook reach the consumer it is installed on.
///
/// `@unchecked Sendable`: `consumer` is written once, before the consumer subscribes (the only way a
/// hook can run), and only read afterwards.
final class ConsumerReference: @unchecked Sendable {
    var consumer: KafkaConsumer?
}
