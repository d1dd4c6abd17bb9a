import Kafka
import Logging
import WireFormat

/// Produces a batch's outputs without waiting for them: each delivery report resolves its message's
/// ticket in the ``DeliveryLedger``, which decides when input offsets may be stored.
struct Publisher: Sendable {
    let producer: KafkaProducer
    let ledger: DeliveryLedger
    let outputs: OutputRecords
    let metrics: ServiceMetrics?
    let logger: Logger

    /// Sends a batch's outputs without waiting for their delivery.
    func publish(_ batch: OutputBatch) async throws {
        try await publish(batch.records, tickets: batch.tickets)
    }

    /// Sends `records`, `tickets[i]` being the ticket of `records[i]`'s input message.
    func publish(_ records: [ProducerRecord], tickets: [DeliveryLedger.Ticket]) async throws {
        guard !records.isEmpty else { return }
        let ledger = ledger
        let outputs = outputs
        let metrics = metrics
        let logger = logger
        let sent = records.map { SentOutput($0, keepingValue: $0.topic == outputs.dlqTopic) }
        try await producer.produce(records) { deliveries in
            var confirmed: [DeliveryLedger.Resolution] = []
            confirmed.reserveCapacity(deliveries.count)
            for delivery in deliveries {
                let output = sent[delivery.index]
                let ticket = tickets[delivery.index]
                switch delivery.result {
                case let .success(report):
                    confirmed.append(.init(ticket: ticket, bytes: output.weight, delivered: report))
                case let .failure(error):
                    Self.refused(output, ticket: ticket, error: error, ledger: ledger, outputs: outputs, logger: logger)
                }
            }
            // One ledger lock for the whole poll's confirmations.
            for elapsed in ledger.resolve(confirmed) { metrics?.processing.recordNanoseconds(elapsed.inNanoseconds) }
        }
    }

    /// An output the broker refused: a dead letter too large for its topic is queued to go again without
    /// its value; anything else fails the ledger, which stops the service before the input's offset moves.
    private static func refused(
        _ output: SentOutput, ticket: DeliveryLedger.Ticket, error: KafkaError, ledger: DeliveryLedger,
        outputs: OutputRecords, logger: Logger
    ) {
        let record = output.record
        if error.isMessageSizeTooLarge, let stripped = outputs.withoutValue(record) {
            logger.warning(
                "dead letter too large for \(record.topic); sent without its value",
                metadata: ["bytes": "\(record.value.count)"])
            ledger.retry(ticket, with: stripped, replacingBytes: output.weight)
        } else {
            let trace =
                record.headers.first { $0.name == HeaderName.traceParent }.flatMap { $0.value }.map {
                    " (traceparent \(String(decoding: $0, as: UTF8.self)))"
                } ?? ""
            _ = ledger.resolve(
                ticket, bytes: output.weight,
                failure:
                    "output could not be delivered to \(record.topic)\(trace), so the input offsets are not committed: \(error)"
            )
        }
    }

    /// Sends again what ``DeliveryLedger/retry(_:with:replacingBytes:)`` queued.
    func publishRetries() async throws {
        let retries = ledger.takeRetries()
        guard !retries.isEmpty else { return }
        try await publish(retries.map(\.1), tickets: retries.map(\.0))
    }

    /// Waits until the outputs of `partitions` (every tracked one when `nil`) are confirmed, re-sending
    /// retries queued meanwhile; false when `timeout` passed, a delivery failed or the task was cancelled.
    /// Every drain (stop, revoke, the end of a replay) goes through here.
    func drain(_ partitions: [Int32]? = nil, timeout: Duration) async -> Bool {
        await ledger.drain(partitions, timeout: timeout) {
            do {
                try await publishRetries()
            } catch {
                logger.warning("retry of a refused output could not be sent: \(error)")
            }
        }
    }
}

/// What a delivery report needs of a record once librdkafka has copied it: its weight in the in-flight
/// bound, and the record without its value (a decision's JSON is freed when its batch is sent, not held
/// a second time until the broker confirms it), except a dead letter's, which a refusal as too large
/// re-sends with the value's size and digest.
struct SentOutput: Sendable {
    let record: ProducerRecord
    let weight: Int

    init(_ record: ProducerRecord, keepingValue: Bool) {
        weight = record.weight
        var kept = record
        if !keepingValue { kept.value = [] }
        self.record = kept
    }
}

/// A batch's outputs, each with the ledger ticket of the input message that produced it.
struct OutputBatch {
    private(set) var records: [ProducerRecord] = []
    private(set) var tickets: [DeliveryLedger.Ticket] = []

    init(capacity: Int) {
        records.reserveCapacity(capacity)
        tickets.reserveCapacity(capacity)
    }

    /// Registers `message` and what it produces in the ledger (a message without output too: its offset
    /// still waits for the messages before it). False when the ledger does not track its partition.
    mutating func add(
        _ output: ProducerRecord?, of message: KafkaMessage, arrived: ContinuousClock.Instant,
        in ledger: DeliveryLedger
    ) -> Bool {
        guard
            let ticket = ledger.register(
                partition: message.partition, offset: message.offset, outputs: output == nil ? 0 : 1,
                bytes: output?.weight ?? 0, arrived: arrived)
        else { return false }
        if let output {
            records.append(output)
            tickets.append(ticket)
        }
        return true
    }
}
