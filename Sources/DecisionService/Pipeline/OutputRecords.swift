import DecisionCore
import DecisionEngine
import Kafka
import WireFormat

/// The one path from a message's outcome to the records it produces, shared by `run` and `replay`: a
/// decision to the same partition number of the output topic, a dead letter (input bytes and key
/// unchanged, with the contract's headers) to the DLQ, nothing for a duplicate.
struct OutputRecords: Sendable {
    let outputTopic: String
    let dlqTopic: String
    /// `replay` writes dead letters only when asked (the live service wrote them once already).
    let writeDeadLetters: Bool
    /// Whether a dead letter goes to its input's partition number (set by the startup topic check).
    let routing: DeadLetterRouting

    static let decisionHeaders = DecisionEncoder.headers.map { KafkaHeader($0.0, $0.1) }

    /// The topics these records go to: what the producer is told to prepare before the first of them.
    var topics: [String] { writeDeadLetters ? [outputTopic, dlqTopic] : [outputTopic] }

    /// The record an outcome produces, if any (a message produces at most one). Decisions carry
    /// `decision-id` and the input's W3C trace context; dead letters the trace context.
    func record(for outcome: DecisionOutcome, of message: KafkaMessage, trace: TraceContextHeaders) -> ProducerRecord? {
        switch outcome {
        case let .decided(decision, json):
            var headers: [KafkaHeader] = []
            headers.reserveCapacity(Self.decisionHeaders.count + 1 + trace.headers.count)
            headers += Self.decisionHeaders
            headers.append(KafkaHeader(HeaderName.decisionID, Self.hexDigits(of: decision.decisionID)))
            headers += trace.headers
            return ProducerRecord(
                topic: outputTopic, partition: message.partition, key: message.key, value: json, headers: headers)
        case .duplicate, .rejectedBefore:
            return nil
        case let .rejected(rejection):
            guard writeDeadLetters else { return nil }
            let headers = DeadLetterHeaders.make(
                rejection, topic: message.topic, partition: message.partition, offset: message.offset)
            return ProducerRecord(
                topic: dlqTopic, partition: routing.followsSourcePartition ? message.partition : nil,
                key: message.key, value: message.value,
                headers: headers.map { KafkaHeader($0.0, $0.1) } + trace.headers)
        }
    }

    /// The id's 32 hex digits as the header's bytes, written once into the value (no `String` between).
    private static func hexDigits(of key: DecisionKey) -> [UInt8] {
        key.withHexDigits { Array($0) }
    }

    /// A dead letter the DLQ refuses as too large, sent again without its value: its size and SHA-256 in
    /// headers, so that it still leaves a trace. `nil` for any other record, or one already stripped.
    func withoutValue(_ record: ProducerRecord) -> ProducerRecord? {
        guard record.topic == dlqTopic, !record.value.isEmpty else { return nil }
        var stripped = record
        stripped.value = []
        stripped.headers += [
            KafkaHeader(
                HeaderName.deadLetterValueOmitted,
                "\(record.value.count) bytes: larger than the dead-letter topic accepts"),
            KafkaHeader(HeaderName.deadLetterValueSHA256, hexString(Hashing.sha256(record.value))),
        ]
        return stripped
    }
}

extension ProducerRecord {
    /// What the record weighs in the in-flight bound.
    var weight: Int { value.count + (key?.count ?? 0) }
}
