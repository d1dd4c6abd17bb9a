import CRdKafka
import Foundation
import Logging
import Synchronization

/// A Kafka consumer over librdkafka: group subscription (cooperative-sticky by default) with a rebalance
/// hook, batched consumption for async code, manual offset store and commit, seek, pause and resume, and
/// the queries a service needs (watermarks, committed offsets, partition counts, offsets for times).
///
/// Every librdkafka consumer call runs on the consumer's own thread, one at a time (except
/// `withGroupMetadata`, a copy librdkafka makes under its own lock, and the close's background free): that keeps the
/// cooperative pool free of blocking polls, and sidesteps librdkafka 2.0's unsafe interleaving of batch
/// consumption with seek, pause, resume and rebalances (batches are gathered with per-message
/// `rd_kafka_consumer_poll`, and messages of partitions revoked meanwhile are dropped from the batch).
public final class KafkaConsumer: Sendable {
    let handle: KafkaHandle
    let thread: KafkaThread
    private let context: ClientContext
    private let opaque: UnsafeMutableRawPointer.Sendable
    let state: ConsumerState
    private let closed = LockedFlag()
    /// Set once `close` has returned: later calls fail at once instead of queueing behind a client that
    /// may still be freeing itself in the background.
    private let released = LockedFlag()
    public let logger: Logger

    /// Creates a consumer. `groupID` is required for subscription and commits; a consumer that only
    /// assigns partitions manually and never commits may use any unique id.
    /// `rebalanceHookTimeout` bounds how long a rebalance waits for the hook: past it the rebalance goes on
    /// without it (logged as an error), so that no hook can hold up a close forever.
    public init(
        configuration: KafkaConfiguration, groupID: String, rebalanceHook: RebalanceHook? = nil,
        rebalanceHookTimeout: Duration = .seconds(360), logger: Logger
    ) throws(KafkaError) {
        var configuration = configuration
        configuration["group.id"] = groupID
        for (key, value) in [
            ("partition.assignment.strategy", "cooperative-sticky"), ("enable.auto.offset.store", "false"),
            ("enable.partition.eof", "false"), ("auto.offset.reset", "earliest"),
        ] where configuration[key] == nil {
            configuration[key] = value
        }
        self.logger = logger
        let context = ClientContext(logger: logger, secrets: configuration.secretValues)
        let state = ConsumerState()
        state.cooperative = configuration["partition.assignment.strategy"]?.contains("cooperative") ?? false
        self.context = context
        self.state = state
        let (rk, opaque) = try makeClient(type: RD_KAFKA_CONSUMER, configuration: configuration, context: context) {
            conf in
            rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, opaque in
                guard let rk, let partitions, let opaque else { return }
                Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue().rebalance?(rk, err, partitions)
            }
        }
        self.opaque = .init(opaque)
        rd_kafka_poll_set_consumer(rk)
        let handle = KafkaHandle(pointer: rk)
        self.handle = handle
        let waker = QueueWaker(queue: rd_kafka_queue_get_consumer(rk))
        state.waker = waker
        let thread = KafkaThread(name: "kafka-consumer") { waker.wake() }
        self.thread = thread
        context.rebalance = { rk, err, list in
            Self.handleRebalance(
                rk: rk, err: err, list: list, hook: rebalanceHook, hookTimeout: rebalanceHookTimeout, state: state,
                thread: thread, logger: logger)
        }
    }

    deinit {
        if !closed.isSet {
            let handle = handle
            let state = state
            let opaque = opaque
            thread.submit {
                state.closing = true
                rd_kafka_consumer_close(handle.pointer)
                Self.destroy(handle: handle, state: state, opaque: opaque)
            }
            thread.stop()
        }
    }

    // MARK: Subscription and assignment

    public func subscribe(topics: [String]) async throws {
        let state = state
        try await onThread { rk in
            let list = PartitionList(topics.map { TopicPartition($0, -1) })
            let err = list.withPointer { rd_kafka_subscribe(rk, $0) }
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: err, "subscribe to \(topics)") }
            state.subscribed = true
        }
    }

    /// Assigns partitions manually, without a group (for replays and state restoration).
    public func assign(_ positions: [TopicPartitionOffset]) async throws {
        let state = state
        try await onThread { rk in
            let list = PartitionList(positions)
            let err = list.withPointer { rd_kafka_assign(rk, $0) }
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: err, "assign \(positions)") }
            state.assigned = Set(positions.map(\.topicPartition))
        }
    }

    /// The partitions currently assigned.
    public func assignment() async throws -> [TopicPartition] {
        try await onThread { rk in
            var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
            let err = rd_kafka_assignment(rk, &list)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let list else {
                throw KafkaError(code: err, "read the assignment")
            }
            return PartitionList(adopting: list).elements.map(\.0.topicPartition)
        }
    }

    // MARK: Consumption

    /// Waits up to `timeout` for at least one message, then takes what else is ready, up to
    /// `maxMessages`. Returns an empty batch when nothing arrived in time. `parts` says, per topic, what to
    /// copy of its messages (everything for a topic it does not name).
    public func nextBatch(
        maxMessages: Int = 1000, timeout: Duration = .milliseconds(500), parts: [String: MessageParts] = [:]
    ) async throws -> [KafkaMessage] {
        let thread = thread
        let state = state
        let logger = logger
        return try await onThread { rk in
            let deadline = ContinuousClock.now + timeout
            let generation = state.generation
            var batch: [KafkaMessage] = []
            batch.reserveCapacity(min(maxMessages, 1024))
            var topics = TopicNames(parts: parts)
            while batch.isEmpty {
                thread.runPendingJobs()
                let remaining = ContinuousClock.now.duration(to: deadline)
                guard remaining > .zero else { break }
                if let message = rd_kafka_consumer_poll(rk, min(remaining.milliseconds, 100)) {
                    try Self.take(message, into: &batch, topics: &topics, logger: logger)
                }
            }
            while batch.count < maxMessages, let message = rd_kafka_consumer_poll(rk, 0) {
                try Self.take(message, into: &batch, topics: &topics, logger: logger)
            }
            if state.generation != generation {
                // A rebalance ran while the batch was gathered: keep only partitions still owned.
                let owned = state.assigned
                batch.removeAll { !owned.contains($0.topicPartition) }
            }
            return batch
        }
    }

    /// Batches as an async sequence, ending when the task is cancelled or the consumer closes.
    public func batches(maxMessages: Int = 1000, timeout: Duration = .milliseconds(500)) -> AsyncThrowingStream<
        [KafkaMessage], Error
    > {
        AsyncThrowingStream { [self] in
            while !Task.isCancelled && !closed.isSet {
                let batch = try await nextBatch(maxMessages: maxMessages, timeout: timeout)
                if !batch.isEmpty { return batch }
            }
            return nil
        }
    }

    private static func take(
        _ message: UnsafeMutablePointer<rd_kafka_message_t>, into batch: inout [KafkaMessage],
        topics: inout TopicNames, logger: Logger
    ) throws {
        defer { rd_kafka_message_destroy(message) }
        let m = message.pointee
        guard m.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return }
            let text = String(cString: rd_kafka_message_errstr(message))
            if m.err == RD_KAFKA_RESP_ERR__FATAL { throw KafkaError(.fatal, code: m.err.rawValue, "consumer: \(text)") }
            logger.warning("consumer error: \(text)")
            return
        }
        let (topic, parts) = topics.lookUp(m.rkt)
        batch.append(KafkaMessage(copying: message, parts: parts, topic: topic))
    }

    /// The topic names and parts to copy of one batch, looked up once per topic handle rather than per
    /// message (a topic name over 15 bytes is an allocation each time).
    struct TopicNames {
        let parts: [String: MessageParts]
        private var known: [(handle: OpaquePointer, name: String, parts: MessageParts)] = []

        init(parts: [String: MessageParts]) { self.parts = parts }

        mutating func lookUp(_ handle: OpaquePointer) -> (String, MessageParts) {
            if let found = known.first(where: { $0.handle == handle }) { return (found.name, found.parts) }
            let name = String(cString: rd_kafka_topic_name(handle))
            known.append((handle, name, parts[name] ?? .all))
            return (name, parts[name] ?? .all)
        }
    }

    // MARK: Closing

    /// Leaves the group cleanly (the rebalance hook sees the revocation and can commit), then frees the
    /// client. Bounded by `timeout`: a close that cannot finish by then (librdkafka waits for the answers
    /// to its outstanding commits and LeaveGroup, and sends nothing to the coordinator while a JoinGroup
    /// is pending there) returns anyway, and the client is freed in the background once librdkafka lets
    /// go; the coordinator then drops the member after its session timeout. Safe to call more than once.
    public func close(timeout: Duration = .seconds(30)) async {
        guard !closed.isSet else { return }
        closed.set()
        let handle = handle
        let state = state
        let opaque = opaque
        let logger = logger
        let thread = thread
        let released = released
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            thread.submit {
                state.closing = true
                // The queue-based close keeps serving this thread's jobs (a revoke hook may commit) and
                // cannot be cut short by a wake-up the way the blocking close can.
                let rk = handle.pointer
                let queue = rd_kafka_queue_get_consumer(rk)
                if let error = rd_kafka_consumer_close_queue(rk, queue) {
                    logger.warning("\(KafkaError(consuming: error, "consumer close"))")
                }
                let deadline = ContinuousClock.now + timeout
                var finished = true
                while rd_kafka_consumer_closed(rk) == 0 {
                    thread.runPendingJobs()
                    guard ContinuousClock.now < deadline else {
                        finished = false
                        break
                    }
                    if let message = rd_kafka_consumer_poll(rk, 50) { rd_kafka_message_destroy(message) }
                }
                rd_kafka_queue_destroy(queue)
                released.set()
                if finished {
                    Self.destroy(handle: handle, state: state, opaque: opaque)
                    continuation.resume()
                } else {
                    logger.warning(
                        "consumer close did not finish within \(timeout) (requests to the group coordinator unanswered); the client is freed in the background and the coordinator drops the member after its session timeout"
                    )
                    // Freeing blocks until librdkafka's outstanding requests end: not the caller's wait.
                    continuation.resume()
                    Self.destroy(handle: handle, state: state, opaque: opaque)
                }
            }
        }
        thread.stop()
    }

    static func destroy(handle: KafkaHandle, state: ConsumerState, opaque: UnsafeMutableRawPointer.Sendable) {
        state.destroyed = true
        state.waker?.destroy()
        guard !state.subscribed || state.everAssigned else {
            // librdkafka before 2.3.0 (#4312, fixed by #4381; Debian 12 ships 2.0.2) aborts in
            // rd_kafka_sticky_assignor_state_destroy when a cooperative-sticky group member is destroyed
            // after its JoinGroup and before its first assignment. The group has been left by the close;
            // the handle and its context are not freed, which costs a few hundred kilobytes once, in a
            // process that is stopping.
            return
        }
        rd_kafka_destroy_flags(handle.pointer, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE)
        ClientContext.release(opaque.pointer)
    }

    /// Runs `body` on the consumer thread. Calls made while closing still run (a revoke hook may commit);
    /// calls after the client is freed fail.
    func onThread<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T {
        guard !released.isSet else { throw KafkaError(.failed, "the consumer is closed") }
        let handle = handle
        let state = state
        return try await thread.perform {
            guard !state.destroyed else { throw KafkaError(.failed, "the consumer is closed") }
            return try body(handle.pointer)
        }
    }

}
