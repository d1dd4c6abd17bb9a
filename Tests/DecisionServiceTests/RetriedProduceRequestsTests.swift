import Kafka
import Testing

/// The fault tests' reader removes a copy only where librdkafka said it sent that request again, and only
/// a copy of the records right before it; a run decided twice is never explained away.
@Suite("What the fault tests' reader removes")
struct RetriedProduceRequestsTests {
    let partition = TopicPartition("optimizer-decisions", 1)
    /// librdkafka 2.0.2's line for a request whose connection closed before the answer (a local run, 2026-12-07).
    let retriedThree =
        "[thrd:127.0.0.1:39901/bootstrap]: 127.0.0.1:39901/2: optimizer-decisions [1]: MessageSet with 3 message(s) (MsgId 1, BaseSeq 0) encountered error: Local: Broker transport failure (actions Refresh,MsgPossiblyPersisted)"

    func record(_ offset: Int64, _ run: String, at timestamp: Int64 = 1_000) -> KafkaMessage {
        KafkaMessage(
            topic: partition.topic, partition: partition.partition, offset: offset, key: Array("wf".utf8),
            value: Array(run.utf8), headers: [KafkaHeader("content-type", "application/json")], timestampMs: timestamp)
    }

    func runs(_ records: [KafkaMessage]) -> [String] { records.map { String(decoding: $0.value, as: UTF8.self) } }

    @Test func aRequestSentAgainIsRemovedOnceAndWhatFollowsIsKept() {
        let retried = RetriedProduceRequests()
        retried.record(retriedThree)
        let written = ["a", "b", "c", "a", "b", "c", "d"].enumerated().map { record(Int64($0), $1) }
        let (kept, removed) = retried.withoutSecondCopies(written, of: partition)
        #expect(runs(kept) == ["a", "b", "c", "d"])
        #expect(removed == 3)
    }

    @Test func withoutLibrdkafkasWordACopyStays() {
        let retried = RetriedProduceRequests()
        let written = ["a", "b", "c", "a", "b", "c"].enumerated().map { record(Int64($0), $1) }
        #expect(retried.withoutSecondCopies(written, of: partition).removed == 0)
    }

    @Test func aRequestSentAgainOnAnotherPartitionExplainsNothingHere() {
        let retried = RetriedProduceRequests()
        retried.record(retriedThree.replacingOccurrences(of: "[1]", with: "[2]"))
        let written = ["a", "b", "c", "a", "b", "c"].enumerated().map { record(Int64($0), $1) }
        #expect(retried.withoutSecondCopies(written, of: partition).removed == 0)
    }

    @Test func aCopyOfAnotherLengthOrProducedLaterStays() {
        let retried = RetriedProduceRequests()
        retried.record(retriedThree)
        // Two records repeated (not three), then three repeated with a later producer timestamp: a second
        // produce of the same decisions, not the same request sent again.
        let twice = ["a", "b", "a", "b"].enumerated().map { record(Int64($0), $1) }
        #expect(retried.withoutSecondCopies(twice, of: partition).removed == 0)
        let later = [
            record(0, "a"), record(1, "b"), record(2, "c"), record(3, "a", at: 1_001), record(4, "b"), record(5, "c"),
        ]
        #expect(retried.withoutSecondCopies(later, of: partition).removed == 0)
    }

    @Test func eachRequestExplainsOneCopy() {
        let retried = RetriedProduceRequests()
        retried.record(retriedThree)
        let thrice = ["a", "b", "c", "a", "b", "c", "a", "b", "c"].enumerated().map { record(Int64($0), $1) }
        let (kept, removed) = retried.withoutSecondCopies(thrice, of: partition)
        #expect(runs(kept) == ["a", "b", "c", "a", "b", "c"])
        #expect(removed == 3)
        retried.record(retriedThree)
        #expect(retried.withoutSecondCopies(thrice, of: partition).removed == 6)
    }

    @Test func otherLinesAreNotRequestsSentAgain() {
        let retried = RetriedProduceRequests()
        retried.record(
            "127.0.0.1:39901/2: optimizer-decisions [1]: MessageSet with 3 message(s) (MsgId 1, BaseSeq 0) delivered")
        retried.record(
            "ProduceRequest failed: Local: Broker transport failure: explicit actions Refresh,MsgPossiblyPersisted")
        let written = ["a", "b", "c", "a", "b", "c"].enumerated().map { record(Int64($0), $1) }
        #expect(retried.withoutSecondCopies(written, of: partition).removed == 0)
    }
}
