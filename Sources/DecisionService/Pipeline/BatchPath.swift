import DecisionEngine
import Kafka

/// The one batch path of `run` and `replay`: re-send queued retries, wait for room in the in-flight bound
/// (woken by the ledger), fetch at most that room, decide in order, send the outputs without waiting, and
/// at the end drain (re-sending retries). The commands keep only what differs: which messages they hand
/// over and what they do with each outcome.
struct BatchPath: Sendable {
    let settings: ServiceSettings
    let store: DecisionStateStore
    let ledger: DeliveryLedger
    /// `nil` in a dry run: outcomes are decided and reported, nothing is sent nor tracked.
    let publisher: Publisher?
    /// Whether a stop has begun: messages of a partition without state are then left for the next owner.
    let isStopping: @Sendable () -> Bool

    /// The next batch: empty when the ledger had no room within its patience or the poll timed out.
    /// Throws once a delivery has failed.
    func fetch(from consumer: KafkaConsumer) async throws -> [KafkaMessage] {
        let room = try await room()
        guard room > 0 else { return [] }
        return try await consumer.nextBatch(maxMessages: room, timeout: .milliseconds(100))
    }

    /// The same from a bounded reader (`replay`): only messages inside its ranges.
    func fetch(from reader: inout PartitionReader) async throws -> [KafkaMessage] {
        let room = try await room()
        guard room > 0 else { return [] }
        return try await reader.nextBatch(maxMessages: room, timeout: .milliseconds(100))
    }

    /// How many messages the next fetch may take, after re-sending queued retries and waiting (briefly)
    /// for a delivery when the in-flight bound is reached.
    private func room() async throws -> Int {
        if let reason = ledger.failure { throw ServiceError(reason) }
        try await publisher?.publishRetries()
        return min(settings.batchSize, await ledger.roomForNextBatch(settings))
    }

    /// Decides `messages` in order, tells `observe` each outcome, and sends the outputs. A message whose
    /// partition has no state (its restore was abandoned by a stop) is neither decided nor tracked, so
    /// neither its offset nor any later one of its partition is stored; outside a stop that is an error.
    func decide(
        _ messages: [KafkaMessage], observe: (KafkaMessage, DecisionOutcome, TraceContextHeaders) -> Void
    ) async throws {
        guard !messages.isEmpty else { return }
        let arrived = ContinuousClock.now
        let outcomes = await store.process(messages.map(EngineInput.init), nowMs: WallClock.nowMs())
        var output = OutputBatch(capacity: messages.count)
        for (message, outcome) in zip(messages, outcomes) {
            guard let outcome else {
                guard isStopping() else { throw ServiceError("partition \(message.partition) has no restored state") }
                continue
            }
            let trace = TraceContextHeaders(of: message)
            if let publisher {
                let record = publisher.outputs.record(for: outcome, of: message, trace: trace)
                guard output.add(record, of: message, arrived: arrived, in: ledger) else { continue }
            }
            observe(message, outcome, trace)
        }
        try await publisher?.publish(output)
    }

    /// Waits for the outputs in flight (re-sending retries); true when all are confirmed.
    func drain(timeout: Duration) async -> Bool {
        await publisher?.drain(timeout: timeout) ?? true
    }
}

extension EngineInput {
    /// The engine's view of a message: where it came from and its bytes.
    init(_ message: KafkaMessage) {
        self.init(
            topic: message.topic, partition: message.partition, offset: message.offset,
            timestampMs: message.timestampMs, value: message.value)
    }
}
