import CRdKafka
import Foundation
import Logging
import Synchronization

/// A Kafka producer over librdkafka: explicit partition, key and headers, delivery reports awaited per
/// batch, idempotence on, flush on close, and the transactional API with librdkafka's error classes.
///
/// Producing never blocks: a full local queue is waited out asynchronously. Delivery reports are served
/// on the producer's own polling thread; blocking calls (flush, transactions) run on a control thread.
public final class KafkaProducer: Sendable {
    private let handle: KafkaHandle
    private let control: KafkaThread
    private let poller: Poller
    private let opaque: UnsafeMutableRawPointer.Sendable
    private let deliveries: DeliveryCollector
    private let topics = TopicHandles()
    private let closed = LockedFlag()
    public let logger: Logger

    /// Creates a producer. With `transactionalID`, call ``initTransactions(timeout:)`` before producing.
    public init(configuration: KafkaConfiguration, transactionalID: String? = nil, logger: Logger) throws(KafkaError) {
        var configuration = configuration
        for (key, value) in [("enable.idempotence", "true"), ("linger.ms", "5")] where configuration[key] == nil {
            configuration[key] = value
        }
        if let transactionalID { configuration["transactional.id"] = transactionalID }
        self.logger = logger
        let context = ClientContext(logger: logger, secrets: configuration.secretValues)
        let (rk, opaque) = try makeClient(type: RD_KAFKA_PRODUCER, configuration: configuration, context: context) {
            conf in
            rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
                guard let message, let pointer = message.pointee._private, let opaque else { return }
                let token = Unmanaged<DeliveryToken>.fromOpaque(pointer).takeRetainedValue()
                Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue().deliveries.file(
                    token, token.result(of: message.pointee))
            }
        }
        self.opaque = .init(opaque)
        deliveries = context.deliveries
        handle = KafkaHandle(pointer: rk)
        control = KafkaThread(name: "kafka-producer-control")
        poller = Poller(handle: handle, deliveries: context.deliveries)
    }

    deinit {
        if !closed.isSet {
            poller.stop()
            let handle = handle
            let opaque = opaque
            let topics = topics
            control.submit {
                topics.destroyAll()
                rd_kafka_destroy(handle.pointer)
                ClientContext.release(opaque.pointer)
            }
            control.stop()
        }
    }

    /// Tells the producer the topics it is about to write to, so that their first records go out at once
    /// (see ``TopicHandles``): a handle per topic, then one metadata request for them, which waits at most
    /// `timeout` for a broker to answer. Without it librdkafka looks a topic up at its next topic scan, up
    /// to a second after the first record. Returns whether the brokers answered in time (if not, the scan
    /// still finds the topics).
    @discardableResult
    public func prepare(topics names: [String], timeout: Duration) async throws -> Bool {
        guard !closed.isSet else { throw KafkaError(.failed, "the producer is closed") }
        try topics.register(names, on: handle.pointer)
        let handle = handle
        return try await control.perform {
            // Neither all topics nor one: the topics this client knows, which are the ones just registered.
            var metadata: UnsafePointer<rd_kafka_metadata_t>?
            let err = rd_kafka_metadata(handle.pointer, 0, nil, &metadata, timeout.milliseconds)
            if let metadata { rd_kafka_metadata_destroy(metadata) }
            return err == RD_KAFKA_RESP_ERR_NO_ERROR
        }
    }

    /// Produces every record and waits for all their delivery reports. Throws when any record could not
    /// be delivered, after every record has been resolved, naming how many failed and the first reason.
    @discardableResult
    public func send(_ records: [ProducerRecord]) async throws -> [DeliveryReport] {
        let results = try await sendEach(records)
        let failures = results.compactMap { result -> KafkaError? in
            if case let .failure(error) = result { return error }
            return nil
        }
        if var first = failures.first {
            first.message = "\(failures.count) of \(records.count) messages were not delivered; first: \(first.message)"
            throw first
        }
        return results.map { try! $0.get() }
    }

    /// Produces every record and waits for all their delivery reports: one result per record, in order.
    public func sendEach(_ records: [ProducerRecord]) async throws -> [Result<DeliveryReport, KafkaError>] {
        guard !closed.isSet else { throw KafkaError(.failed, "the producer is closed") }
        guard !records.isEmpty else { return [] }
        let batch = DeliveryBatch(count: records.count)
        try await produce(records) { batch.resolve($0) }
        return await batch.wait()
    }

    /// Queues every record without waiting for its delivery: `onDeliveries` gets each record's outcome once,
    /// with its index, on the thread that polled the reports (the producer's polling thread, or one flushing
    /// it), when the broker confirms it or its delivery fails; the reports of one poll come in one call. A
    /// full local queue is waited out; a record librdkafka refuses outright is reported in a call of its own.
    public func produce(_ records: [ProducerRecord], onDeliveries: @escaping @Sendable ([Delivery]) -> Void)
        async throws
    {
        guard !closed.isSet else { throw KafkaError(.failed, "the producer is closed") }
        let group = DeliveryGroup(onDeliveries)
        for (index, record) in records.enumerated() {
            while true {
                let token = Unmanaged.passRetained(DeliveryToken(index: index, topic: record.topic, group: group))
                let error = Self.produce(handle.pointer, record, opaque: token.toOpaque())
                guard let error else { break }
                token.release()
                let code = rd_kafka_error_code(error)
                if code == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                    // Wait for deliveries to make room; a cancelled task stops waiting (and throws).
                    rd_kafka_error_destroy(error)
                    try await Task.sleep(for: .milliseconds(2))
                    continue
                }
                onDeliveries([
                    Delivery(index: index, result: .failure(KafkaError(consuming: error, "produce to \(record.topic)")))
                ])
                break
            }
        }
    }

    /// One `rd_kafka_produceva` call: the record's fields, headers included, in a stack allocation, each
    /// pointing at the record's own storage (librdkafka copies them all during the call), so producing a
    /// record allocates nothing on the Swift side.
    private static func produce(_ rk: OpaquePointer, _ record: ProducerRecord, opaque: UnsafeMutableRawPointer)
        -> OpaquePointer?
    {
        withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 6 + record.headers.count) { fields in
            record.topic.withCString { topic in
                record.value.withUnsafeBytes { value in
                    withKey(record.key) { key in
                        var count = 0
                        func add(_ fill: (inout rd_kafka_vu_t) -> Void) {
                            var field = rd_kafka_vu_t()
                            fill(&field)
                            fields.initializeElement(at: count, to: field)
                            count += 1
                        }
                        add {
                            $0.vtype = RD_KAFKA_VTYPE_TOPIC
                            $0.u.cstr = topic
                        }
                        add {
                            $0.vtype = RD_KAFKA_VTYPE_PARTITION
                            $0.u.i32 = record.partition ?? -1
                        }
                        add {
                            $0.vtype = RD_KAFKA_VTYPE_VALUE
                            $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                            $0.u.mem.size = value.count
                        }
                        if let key {
                            add {
                                $0.vtype = RD_KAFKA_VTYPE_KEY
                                $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                                $0.u.mem.size = key.count
                            }
                        }
                        add {
                            $0.vtype = RD_KAFKA_VTYPE_MSGFLAGS
                            $0.u.i = RD_KAFKA_MSG_F_COPY
                        }
                        add {
                            $0.vtype = RD_KAFKA_VTYPE_OPAQUE
                            $0.u.ptr = opaque
                        }
                        return withHeaders(record.headers[...], into: fields, at: count) { total in
                            rd_kafka_produceva(rk, fields.baseAddress, total)
                        }
                    }
                }
            }
        }
    }

    private static func withKey<T>(_ key: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> T) -> T {
        guard let key else { return body(nil) }
        return key.withUnsafeBytes { body($0) }
    }

    /// Writes `headers` into `fields` from `slot` on, each borrowing its name's and value's storage for the
    /// duration of `body` (one nested borrow per header), then calls `body` with the number of fields.
    private static func withHeaders(
        _ headers: ArraySlice<KafkaHeader>, into fields: UnsafeMutableBufferPointer<rd_kafka_vu_t>, at slot: Int,
        _ body: (Int) -> OpaquePointer?
    ) -> OpaquePointer? {
        guard let header = headers.first else { return body(slot) }
        return header.name.withCString { name in
            withHeaderValue(header.value) { value, size in
                var field = rd_kafka_vu_t()
                field.vtype = RD_KAFKA_VTYPE_HEADER
                field.u.header.name = name
                field.u.header.val = value
                field.u.header.size = size
                fields.initializeElement(at: slot, to: field)
                return withHeaders(headers.dropFirst(), into: fields, at: slot + 1, body)
            }
        }
    }

    /// A header value as librdkafka takes it: `nil` and -1 for a null value; an empty value still needs a
    /// pointer (a null one would make it a null header).
    private static func withHeaderValue<T>(_ value: [UInt8]?, _ body: (UnsafeRawPointer?, Int) -> T) -> T {
        guard let value else { return body(nil, -1) }
        guard !value.isEmpty else { return withUnsafeBytes(of: UInt8(0)) { body($0.baseAddress, 0) } }
        return value.withUnsafeBytes { body($0.baseAddress, $0.count) }
    }

    /// Waits until every queued message is delivered or `timeout` passes.
    public func flush(timeout: Duration = .seconds(30)) async throws {
        let handle = handle
        let deliveries = deliveries
        try await control.perform {
            let err = rd_kafka_flush(handle.pointer, timeout.milliseconds)
            deliveries.dispatch()
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: err, "flush") }
        }
    }

    /// Messages produced but not yet delivered.
    public var outstandingMessages: Int { Int(rd_kafka_outq_len(handle.pointer)) }

    // MARK: Transactions

    public func initTransactions(timeout: Duration = .seconds(30)) async throws {
        try await transactional("init transactions") { rk in rd_kafka_init_transactions(rk, timeout.milliseconds) }
    }

    public func beginTransaction() async throws {
        try await transactional("begin transaction") { rk in rd_kafka_begin_transaction(rk) }
    }

    /// Adds the consumer's positions to the transaction, committed with it.
    public func sendOffsetsToTransaction(
        _ positions: [TopicPartitionOffset], consumer: KafkaConsumer, timeout: Duration = .seconds(30)
    ) async throws {
        try await transactional("send offsets to transaction") { rk in
            let list = PartitionList(positions)
            return consumer.withGroupMetadata { metadata in
                list.withPointer { rd_kafka_send_offsets_to_transaction(rk, $0, metadata, timeout.milliseconds) }
            }
        }
    }

    public func commitTransaction(timeout: Duration = .seconds(30)) async throws {
        try await transactional("commit transaction") { rk in rd_kafka_commit_transaction(rk, timeout.milliseconds) }
    }

    public func abortTransaction(timeout: Duration = .seconds(30)) async throws {
        try await transactional("abort transaction") { rk in rd_kafka_abort_transaction(rk, timeout.milliseconds) }
    }

    private func transactional(_ what: String, _ call: @escaping @Sendable (OpaquePointer) -> OpaquePointer?)
        async throws
    {
        let handle = handle
        try await control.perform {
            if let error = call(handle.pointer) { throw KafkaError(consuming: error, what) }
        }
    }

    // MARK: Closing

    /// Flushes what is queued (up to `timeout`), then frees the client. Messages still undelivered then
    /// fail their batches with an error rather than vanish. Safe to call more than once.
    public func close(timeout: Duration = .seconds(30)) async {
        guard !closed.isSet else { return }
        closed.set()
        let handle = handle
        let opaque = opaque
        let logger = logger
        let poller = poller
        let deliveries = deliveries
        let topics = topics
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            control.submit {
                let err = rd_kafka_flush(handle.pointer, timeout.milliseconds)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    logger.error(
                        "producer close: \(rd_kafka_outq_len(handle.pointer)) messages undelivered after \(timeout)")
                    rd_kafka_purge(handle.pointer, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
                    rd_kafka_poll(handle.pointer, 0)
                }
                poller.stop()
                poller.waitUntilStopped()
                // What the flush and the purge served after the poller's last hand-over.
                deliveries.dispatch()
                topics.destroyAll()
                rd_kafka_destroy(handle.pointer)
                ClientContext.release(opaque.pointer)
                continuation.resume()
            }
        }
        control.stop()
    }
}

/// Serves delivery reports: `rd_kafka_poll` in a loop, one long job on a ``KafkaThread`` of its own (a
/// poll with a 50 ms timeout, so a stop is seen within 50 ms), handing each poll's reports over in batches.
final class Poller: Sendable {
    private let stopped = LockedFlag()
    private let thread = KafkaThread(name: "kafka-producer-poll")

    init(handle: KafkaHandle, deliveries: DeliveryCollector) {
        thread.submit { [stopped] in
            while !stopped.isSet {
                rd_kafka_poll(handle.pointer, 50)
                deliveries.dispatch()
            }
        }
    }

    func stop() {
        stopped.set()
        thread.stop()
    }

    /// Returns once the polling loop has ended (after ``stop()``).
    func waitUntilStopped() { thread.waitUntilEnded() }
}

/// The delivery state of one `sendEach` call.
final class DeliveryBatch: Sendable {
    private struct State {
        var remaining: Int
        var results: [Result<DeliveryReport, KafkaError>?]
        var continuation: CheckedContinuation<[Result<DeliveryReport, KafkaError>], Never>?
    }

    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(remaining: count, results: Array(repeating: nil, count: count)))
    }

    func resolve(_ deliveries: [Delivery]) {
        let finished = state.withLock {
            state -> (
                CheckedContinuation<[Result<DeliveryReport, KafkaError>], Never>, [Result<DeliveryReport, KafkaError>]
            )? in
            for delivery in deliveries { state.results[delivery.index] = delivery.result }
            state.remaining -= deliveries.count
            guard state.remaining == 0, let continuation = state.continuation else { return nil }
            state.continuation = nil
            return (continuation, state.results.map { $0! })
        }
        if let (continuation, outcome) = finished { continuation.resume(returning: outcome) }
    }

    func wait() async -> [Result<DeliveryReport, KafkaError>] {
        await withCheckedContinuation { continuation in
            let outcome = state.withLock { state -> [Result<DeliveryReport, KafkaError>]? in
                guard state.remaining == 0 else {
                    state.continuation = continuation
                    return nil
                }
                return state.results.map { $0! }
            }
            if let outcome { continuation.resume(returning: outcome) }
        }
    }
}
