import Kafka
import Logging
import Synchronization

/// Produce requests that librdkafka sent again because their connection closed before the answer came
/// (`MsgPossiblyPersisted` in its `msg` debug log): the broker may have appended them already. A real
/// broker knows the second copy of an idempotent producer's request by its sequence numbers and does not
/// append it; librdkafka 2.0.2's mock checks them only for transactional producers (its
/// `rd_kafka_mock_validate_records`) and appends it again, so the request's records stand twice, the
/// copy right after the original (2026-12-07: the decisions' leader going down while a request of 13
/// decisions was in flight left all 13 twice). Read from the service's own log, these requests tell such
/// a copy from a run the service decided twice.
final class RetriedProduceRequests: Sendable {
    /// The debug contexts that make librdkafka log these requests.
    static let debugContexts = "msg"

    /// The size of each request librdkafka sent again, per partition, in the order it said so.
    private let sizes = Mutex<[TopicPartition: [Int]]>([:])

    /// How many requests librdkafka said it sent again, on every partition.
    var count: Int { sizes.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// What a test prints of them: how many requests were sent again, and how many records it removed
    /// as their second copies (``withoutSecondCopies(_:of:)``).
    func account(removed: Int) -> String {
        "\(count) produce requests sent again, \(removed) records appended twice by the mock"
    }

    /// A logger that records these requests from librdkafka's log and prints every line at `echoLevel`
    /// or above.
    func logger(label: String, echoLevel: Logger.Level) -> Logger {
        Logger(label: label) { [self] label in
            Recorder(requests: self, echo: StreamLogHandler.standardOutput(label: label), echoLevel: echoLevel)
        }
    }

    /// Records the request `line` names, if it is librdkafka saying that it will send a request again
    /// that the broker may have appended, e.g. `optimizer-decisions [1]: MessageSet with 13 message(s)
    /// (MsgId 1, BaseSeq 0) encountered error: Local: Broker transport failure (actions
    /// Refresh,MsgPossiblyPersisted)`.
    func record(_ line: String) {
        guard line.contains("MsgPossiblyPersisted"),
            let match = line.firstMatch(
                of:
                    #/ (?<topic>[^ \[\]]+) \[(?<partition>\d+)\]: MessageSet with (?<count>\d+) message\(s\) .* encountered error:/#
            ),
            let partition = Int32(match.partition), let count = Int(match.count)
        else { return }
        sizes.withLock { $0[TopicPartition(String(match.topic), partition), default: []].append(count) }
    }

    /// The records of `partition` (in offset order) without the copies the mock appended again: each
    /// removed run of records is identical (key, value, headers, timestamp) to the run right before it,
    /// and as long as a request librdkafka sent again on that partition; every such request explains one
    /// copy at most. Returns the records kept and how many were removed.
    func withoutSecondCopies(_ records: [KafkaMessage], of partition: TopicPartition) -> (
        kept: [KafkaMessage], removed: Int
    ) {
        var unexplained = sizes.withLock { $0[partition] ?? [] }
        var kept: [KafkaMessage] = []
        var removed = 0
        var index = 0
        while index < records.count {
            let copy = unexplained.firstIndex { size in
                index >= size && index + size <= records.count
                    && (0..<size).allSatisfy { Self.same(records[index - size + $0], records[index + $0]) }
            }
            if let copy {
                removed += unexplained[copy]
                index += unexplained[copy]
                unexplained.remove(at: copy)
            } else {
                kept.append(records[index])
                index += 1
            }
        }
        return (kept, removed)
    }

    /// The same record produced once: the producer's timestamp is part of what a retry sends again.
    private static func same(_ first: KafkaMessage, _ second: KafkaMessage) -> Bool {
        first.timestampMs != nil && first.timestampMs == second.timestampMs && first.key == second.key
            && first.value == second.value && first.headers == second.headers
    }

    /// The log handler: everything reaches `record`; lines at `echoLevel` or above are printed too.
    private struct Recorder: LogHandler {
        let requests: RetriedProduceRequests
        var echo: StreamLogHandler
        let echoLevel: Logger.Level
        var logLevel: Logger.Level = .debug
        var metadata: Logger.Metadata {
            get { echo.metadata }
            set { echo.metadata = newValue }
        }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { echo[metadataKey: key] }
            set { echo[metadataKey: key] = newValue }
        }

        func log(event: LogEvent) {
            requests.record(event.message.description)
            if event.level >= echoLevel { echo.log(event: event) }
        }
    }
}
