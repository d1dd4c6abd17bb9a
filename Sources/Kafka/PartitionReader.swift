/// Reads fixed ranges of partitions once, in offset order within each partition: "these partitions from
/// here up to there", which the state restore, `replay`, `demo`, the tests and the benchmarks all need.
/// The consumer must use manual assignment; the reader assigns it. Messages outside a range (a fetch
/// past the end) are dropped, and a partition is done once the message before its end has been read.
public struct PartitionReader: Sendable {
    private let consumer: KafkaConsumer
    /// The end (exclusive) of each partition not yet read to its end.
    public private(set) var unread: [TopicPartition: Int64]
    /// The offset after the last message read, per partition of a range.
    public private(set) var next: [TopicPartition: Int64]

    /// Assigns the non-empty `ranges` to `consumer`, each from its lower bound.
    public init(consumer: KafkaConsumer, ranges: [TopicPartition: Range<Int64>]) async throws {
        self.consumer = consumer
        let work = ranges.filter { !$0.value.isEmpty }
        unread = work.mapValues(\.upperBound)
        next = ranges.mapValues(\.lowerBound)
        if !work.isEmpty {
            try await consumer.assign(work.map { TopicPartitionOffset($0.key, offset: $0.value.lowerBound) })
        }
    }

    /// Every range from its start (the low watermark where `starts` names none) up to the high watermark
    /// each partition has now.
    public static func upToHighWatermarks(
        of partitions: [TopicPartition], from starts: [TopicPartition: Int64] = [:], on consumer: KafkaConsumer,
        timeout: Duration = .seconds(10)
    ) async throws -> PartitionReader {
        var ranges: [TopicPartition: Range<Int64>] = [:]
        for partition in partitions {
            let marks = try await consumer.watermarks(partition, timeout: timeout)
            let start = min(max(marks.low, starts[partition] ?? marks.low), marks.high)
            ranges[partition] = start..<marks.high
        }
        return try await PartitionReader(consumer: consumer, ranges: ranges)
    }

    /// Whether every range has been read.
    public var isFinished: Bool { unread.isEmpty }

    /// The next messages inside the ranges, in order within each partition; empty when the poll timed out
    /// or when everything fetched lay outside. `parts`: what to copy of each topic's messages
    /// (``KafkaConsumer/nextBatch(maxMessages:timeout:parts:)``).
    public mutating func nextBatch(
        maxMessages: Int = 5000, timeout: Duration = .milliseconds(200), parts: [String: MessageParts] = [:]
    ) async throws -> [KafkaMessage] {
        guard !unread.isEmpty else { return [] }
        var inside: [KafkaMessage] = []
        inside.reserveCapacity(maxMessages)
        for message in try await consumer.nextBatch(maxMessages: maxMessages, timeout: timeout, parts: parts) {
            let partition = message.topicPartition
            guard let end = unread[partition], message.offset < end else { continue }
            next[partition] = message.offset + 1
            if message.offset + 1 >= end { unread[partition] = nil }
            inside.append(message)
        }
        return inside
    }

    /// Reads everything left, for at most `limit`; throws ``ReadTimedOut`` naming what was not read.
    public mutating func readToEnd(within limit: Duration, maxMessages: Int = 5000) async throws -> [KafkaMessage] {
        let deadline = ContinuousClock.now + limit
        var messages: [KafkaMessage] = []
        while !isFinished {
            guard ContinuousClock.now < deadline else { throw ReadTimedOut(limit: limit, unread: unread) }
            messages += try await nextBatch(maxMessages: maxMessages)
        }
        return messages
    }

    /// Some ranges were not read within the limit.
    public struct ReadTimedOut: Error, CustomStringConvertible {
        public var limit: Duration
        public var unread: [TopicPartition: Int64]
        public var description: String {
            "partitions \(unread.keys.map(\.description).sorted().joined(separator: ", ")) not read to their end within \(limit)"
        }
    }
}
