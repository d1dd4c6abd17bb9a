import CRdKafka
import Foundation
import Logging
import Synchronization

/// A change of the consumer's assignment, given to the rebalance hook *before* it takes effect for
/// consumption: on `assigned`, no message of the new partitions is delivered until the hook returns; on
/// `revoked`, the partitions are still owned (offsets can be committed) until it returns.
public struct RebalanceEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case assigned
        case revoked
        /// Taken away without a clean revoke (session timed out): committing them is no longer possible.
        case lost
    }

    public var kind: Kind
    public var partitions: [TopicPartition]
}

/// Called on every rebalance; the consumer waits for it before it goes on.
public typealias RebalanceHook = @Sendable (RebalanceEvent) async -> Void

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
    private let handle: KafkaHandle
    private let thread: KafkaThread
    private let context: ClientContext
    private let opaque: UnsafeMutableRawPointer.Sendable
    private let state: ConsumerState
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
            defer { list.destroy() }
            let err = rd_kafka_subscribe(rk, list.pointer)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: err, "subscribe to \(topics)") }
            state.subscribed = true
        }
    }

    /// Assigns partitions manually, without a group (for replays and state restoration).
    public func assign(_ positions: [TopicPartitionOffset]) async throws {
        let state = state
        try await onThread { rk in
            let list = PartitionList(positions)
            defer { list.destroy() }
            let err = rd_kafka_assign(rk, list.pointer)
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
            defer { rd_kafka_topic_partition_list_destroy(list) }
            return PartitionList.elements(of: list).map(\.0.topicPartition)
        }
    }

    // MARK: Consumption

    /// Waits up to `timeout` for at least one message, then takes what else is ready, up to
    /// `maxMessages`. Returns an empty batch when nothing arrived in time.
    public func nextBatch(maxMessages: Int = 1000, timeout: Duration = .milliseconds(500)) async throws
        -> [KafkaMessage]
    {
        let thread = thread
        let state = state
        let logger = logger
        return try await onThread { rk in
            let deadline = ContinuousClock.now + timeout
            let generation = state.generation
            var batch: [KafkaMessage] = []
            batch.reserveCapacity(min(maxMessages, 1024))
            while batch.isEmpty {
                thread.runPendingJobs()
                let remaining = ContinuousClock.now.duration(to: deadline)
                guard remaining > .zero else { break }
                if let message = rd_kafka_consumer_poll(rk, min(remaining.milliseconds, 100)) {
                    try Self.take(message, into: &batch, logger: logger)
                }
            }
            while batch.count < maxMessages, let message = rd_kafka_consumer_poll(rk, 0) {
                try Self.take(message, into: &batch, logger: logger)
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
        _ message: UnsafeMutablePointer<rd_kafka_message_t>, into batch: inout [KafkaMessage], logger: Logger
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
        batch.append(KafkaMessage(copying: message))
    }

    // MARK: Offsets

    /// Stores the positions to be committed (the offset after the last processed message), by the next
    /// commit or the automatic commit.
    public func storeOffsets(_ positions: [TopicPartitionOffset]) async throws {
        guard !positions.isEmpty else { return }
        try await onThread { rk in
            let list = PartitionList(positions)
            defer { list.destroy() }
            let err = rd_kafka_offsets_store(rk, list.pointer)
            if let error = PartitionList.firstError(of: list.pointer, "store offset for") { throw error }
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: err, "store offsets") }
        }
    }

    /// Commits the given positions, or every stored one when `nil`, and waits up to `timeout` for the
    /// coordinator's answer; past it, throws a `.timedOut` error and leaves the request to finish or
    /// fail on its own. (librdkafka's synchronous commit has no deadline: during a group rebalance the
    /// coordinator answers REBALANCE_IN_PROGRESS and the commit is retried for as long as it lasts.)
    public func commit(_ positions: [TopicPartitionOffset]? = nil, timeout: Duration = .seconds(10)) async throws {
        try await onThread { rk in try Self.commit(rk, positions, timeout: timeout) }
    }

    private static func commit(_ rk: OpaquePointer, _ positions: [TopicPartitionOffset]?, timeout: Duration) throws {
        let list = positions.map(PartitionList.init)
        defer { list?.destroy() }
        // The answer arrives on a queue of our own, which this call polls with a deadline.
        let queue = rd_kafka_queue_new(rk)
        defer { rd_kafka_queue_destroy(queue) }
        let err = rd_kafka_commit_queue(rk, list?.pointer, queue, nil, nil)
        if err == RD_KAFKA_RESP_ERR__NO_OFFSET { return }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: err, "commit offsets") }
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else {
                throw KafkaError(
                    .timedOut, code: RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue,
                    "commit offsets: no answer from the group coordinator within \(timeout)")
            }
            guard let event = rd_kafka_queue_poll(queue, min(remaining.milliseconds, 100)) else { continue }
            defer { rd_kafka_event_destroy(event) }
            guard rd_kafka_event_type(event) == RD_KAFKA_EVENT_OFFSET_COMMIT else { continue }
            let result = rd_kafka_event_error(event)
            guard result == RD_KAFKA_RESP_ERR_NO_ERROR || result == RD_KAFKA_RESP_ERR__NO_OFFSET else {
                throw KafkaError(code: result, "commit offsets")
            }
            if let committed = rd_kafka_event_topic_partition_list(event),
                let error = PartitionList.firstError(of: committed, "commit offset for")
            {
                throw error
            }
            return
        }
    }

    /// The group's committed offsets for `partitions`; a partition with none committed is absent.
    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) async throws
        -> [TopicPartition: Int64]
    {
        try await onThread { rk in
            let list = PartitionList(partitions)
            defer { list.destroy() }
            let err = rd_kafka_committed(rk, list.pointer, timeout.milliseconds)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: err, "read committed offsets") }
            // librdkafka answers its invalid offset (-1001) where nothing is committed.
            return Dictionary(
                PartitionList.elements(of: list.pointer).map(\.0).filter { $0.offset >= 0 }.map {
                    ($0.topicPartition, $0.offset)
                },
                uniquingKeysWith: { $1 })
        }
    }

    /// The low and high watermarks of a partition, asked of its leader.
    public func watermarks(_ partition: TopicPartition, timeout: Duration = .seconds(10)) async throws -> (
        low: Int64, high: Int64
    ) {
        try await onThread { rk in
            var low: Int64 = 0
            var high: Int64 = 0
            let err = rd_kafka_query_watermark_offsets(
                rk, partition.topic, partition.partition, &low, &high, timeout.milliseconds)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(code: err, "query watermarks of \(partition)")
            }
            return (low, high)
        }
    }

    /// The watermarks librdkafka last saw for a partition (no request is made); `nil` before any fetch.
    public func cachedWatermarks(_ partitions: [TopicPartition]) async throws -> [TopicPartition: (
        low: Int64, high: Int64
    )] {
        try await onThread { rk in
            var result: [TopicPartition: (low: Int64, high: Int64)] = [:]
            for partition in partitions {
                var low: Int64 = -1
                var high: Int64 = -1
                if rd_kafka_get_watermark_offsets(rk, partition.topic, partition.partition, &low, &high)
                    == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0
                {
                    result[partition] = (low, high)
                }
            }
            return result
        }
    }

    /// The offset of the first message at or after each time (ms since the epoch); `nil` where the
    /// partition has none at or after it. Throws when the broker answers a partition with no offset at all.
    public func offsetsForTimes(_ times: [TopicPartition: Int64], timeout: Duration = .seconds(10)) async throws
        -> [TopicPartition: Int64?]
    {
        try await onThread { rk in
            let list = PartitionList(times.map { TopicPartitionOffset($0.key, offset: $0.value) })
            defer { list.destroy() }
            let err = rd_kafka_offsets_for_times(rk, list.pointer, timeout.milliseconds)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: err, "look up offsets for times") }
            if let error = PartitionList.firstError(of: list.pointer, "look up offset for time in") { throw error }
            var found: [TopicPartition: Int64?] = [:]
            for (position, _) in PartitionList.elements(of: list.pointer) {
                switch position.offset {
                case 0...: found[position.topicPartition] = position.offset
                case TopicPartitionOffset.end: found[position.topicPartition] = .some(nil)
                default: throw KafkaError(.failed, "no offset for a time in \(position.topicPartition)")
                }
            }
            return found
        }
    }

    /// The number of partitions of `topic`; an error when the topic does not exist.
    public func partitionCount(topic: String, timeout: Duration = .seconds(10)) async throws -> Int {
        try await onThread { rk in try fetchPartitionCount(rk, topic: topic, timeout: timeout) }
    }

    // MARK: Position control

    public func seek(_ positions: [TopicPartitionOffset], timeout: Duration = .seconds(10)) async throws {
        try await onThread { rk in
            let list = PartitionList(positions)
            defer { list.destroy() }
            if let error = rd_kafka_seek_partitions(rk, list.pointer, timeout.milliseconds) {
                throw KafkaError(consuming: error, "seek")
            }
            if let error = PartitionList.firstError(of: list.pointer, "seek") { throw error }
        }
    }

    public func pause(_ partitions: [TopicPartition]) async throws {
        try await onThread { rk in
            let list = PartitionList(partitions)
            defer { list.destroy() }
            let err = rd_kafka_pause_partitions(rk, list.pointer)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: err, "pause") }
        }
    }

    public func resume(_ partitions: [TopicPartition]) async throws {
        try await onThread { rk in
            let list = PartitionList(partitions)
            defer { list.destroy() }
            let err = rd_kafka_resume_partitions(rk, list.pointer)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: err, "resume") }
        }
    }

    /// The group's metadata, for a transactional producer's `sendOffsetsToTransaction`.
    func withGroupMetadata<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T {
        let metadata = rd_kafka_consumer_group_metadata(handle.pointer)!
        defer { rd_kafka_consumer_group_metadata_destroy(metadata) }
        return try body(metadata)
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

    private static func destroy(handle: KafkaHandle, state: ConsumerState, opaque: UnsafeMutableRawPointer.Sendable) {
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
    private func onThread<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T {
        guard !released.isSet else { throw KafkaError(.failed, "the consumer is closed") }
        let handle = handle
        let state = state
        return try await thread.perform {
            guard !state.destroyed else { throw KafkaError(.failed, "the consumer is closed") }
            return try body(handle.pointer)
        }
    }

    // MARK: Rebalancing (on the consumer thread, inside a poll)

    private static func handleRebalance(
        rk: OpaquePointer, err: rd_kafka_resp_err_t, list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>,
        hook: RebalanceHook?, hookTimeout: Duration, state: ConsumerState, thread: KafkaThread, logger: Logger
    ) {
        let partitions = PartitionList.elements(of: list).map(\.0.topicPartition)
        let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        state.generation &+= 1
        func callHook(_ kind: RebalanceEvent.Kind) {
            guard let hook, !partitions.isEmpty else { return }
            let done = LockedFlag()
            let event = RebalanceEvent(kind: kind, partitions: partitions)
            Task {
                await hook(event)
                done.set()
                thread.wakeServe()
            }
            let deadline = ContinuousClock.now + hookTimeout
            thread.serve(until: { done.isSet || ContinuousClock.now >= deadline })
            if !done.isSet {
                logger.error(
                    "the rebalance hook did not finish within \(hookTimeout) (\(kind)); the rebalance goes on without it"
                )
            }
        }
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            state.everAssigned = true
            if cooperative {
                if let error = rd_kafka_incremental_assign(rk, list) {
                    logger.error("\(KafkaError(consuming: error, "incremental assign"))")
                }
                state.assigned.formUnion(partitions)
            } else {
                let result = rd_kafka_assign(rk, list)
                if result != RD_KAFKA_RESP_ERR_NO_ERROR { logger.error("\(KafkaError(code: result, "assign"))") }
                state.assigned = Set(partitions)
            }
            logger.info("partitions assigned: \(partitions.map(\.description).joined(separator: ", "))")
            callHook(.assigned)
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            let lost = rd_kafka_assignment_lost(rk) != 0
            logger.info(
                "partitions \(lost ? "lost" : "revoked"): \(partitions.map(\.description).joined(separator: ", "))")
            callHook(lost ? .lost : .revoked)
            if cooperative {
                if let error = rd_kafka_incremental_unassign(rk, list) {
                    logger.error("\(KafkaError(consuming: error, "incremental unassign"))")
                }
                state.assigned.subtract(partitions)
            } else {
                rd_kafka_assign(rk, nil)
                state.assigned = []
            }
        default:
            logger.error("rebalance failed: \(String(cString: rd_kafka_err2str(err)))")
            rd_kafka_assign(rk, nil)
            state.assigned = []
        }
    }
}

/// Consumer state touched only on the consumer's thread.
///
/// `@unchecked Sendable`: every access happens on the consumer's ``KafkaThread`` (inside jobs or
/// librdkafka callbacks it serves), so there is never concurrent access.
final class ConsumerState: @unchecked Sendable {
    var assigned = Set<TopicPartition>()
    /// Whether the consumer joined a group (`subscribe`) rather than assigning partitions itself.
    var subscribed = false
    /// Whether a group assignment (even an empty one) ever reached the rebalance callback.
    var everAssigned = false
    /// Bumped on every rebalance, so a batch gathered across one can be filtered.
    var generation = 0
    var waker: QueueWaker?
    var destroyed = false
}

/// Wakes a consumer thread parked in `rd_kafka_consumer_poll`, so queued jobs run promptly. The queue is
/// used and destroyed under the same lock, so no wake-up can touch a destroyed queue.
final class QueueWaker: Sendable {
    private let queue: Mutex<KafkaQueue?>

    init(queue: OpaquePointer?) { self.queue = Mutex(queue.map(KafkaQueue.init)) }

    func wake() {
        queue.withLock { if let queue = $0 { rd_kafka_queue_yield(queue.pointer) } }
    }

    func destroy() {
        queue.withLock {
            if let queue = $0 { rd_kafka_queue_destroy(queue.pointer) }
            $0 = nil
        }
    }
}

/// A librdkafka queue handle.
///
/// `@unchecked Sendable`: librdkafka queues are thread-safe; ``QueueWaker`` only uses one under its lock.
struct KafkaQueue: @unchecked Sendable {
    let pointer: OpaquePointer
}

extension UnsafeMutableRawPointer {
    /// A raw pointer passed between threads.
    ///
    /// `@unchecked Sendable`: it points at a ``ClientContext``, itself `Sendable`, and is only released
    /// once, after the client handle is destroyed.
    struct Sendable: @unchecked Swift.Sendable {
        let pointer: UnsafeMutableRawPointer
        init(_ pointer: UnsafeMutableRawPointer) { self.pointer = pointer }
    }
}

/// The partition count of a topic from a metadata request for all topics, which (unlike a request naming
/// the topic) never makes a broker with auto-creation create it.
func fetchPartitionCount(_ rk: OpaquePointer, topic: String, timeout: Duration) throws -> Int {
    var metadata: UnsafePointer<rd_kafka_metadata_t>?
    let err = rd_kafka_metadata(rk, 1, nil, &metadata, timeout.milliseconds)
    guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
        throw KafkaError(code: err, "read metadata of topic \(topic)")
    }
    defer { rd_kafka_metadata_destroy(metadata) }
    for index in 0..<Int(metadata.pointee.topic_cnt) {
        let entry = metadata.pointee.topics[index]
        guard String(cString: entry.topic) == topic else { continue }
        guard entry.err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: entry.err, "topic \(topic)") }
        return Int(entry.partition_cnt)
    }
    throw KafkaError(code: RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, "topic \(topic) does not exist")
}

extension KafkaMessage {
    /// Copies a librdkafka message's bytes into Swift values.
    init(copying message: UnsafeMutablePointer<rd_kafka_message_t>) {
        let m = message.pointee
        let value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
        let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        var headers: [KafkaHeader] = []
        var native: OpaquePointer?
        if rd_kafka_message_headers(message, &native) == RD_KAFKA_RESP_ERR_NO_ERROR, let native {
            var index = 0
            var name: UnsafePointer<CChar>?
            var bytes: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(native, index, &name, &bytes, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                headers.append(
                    KafkaHeader(
                        name.map { String(cString: $0) } ?? "",
                        bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }))
                index += 1
            }
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        self.init(
            topic: String(cString: rd_kafka_topic_name(m.rkt)), partition: m.partition, offset: m.offset,
            key: key, value: value, headers: headers,
            timestampMs: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp)
    }
}
