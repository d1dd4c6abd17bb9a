import Kafka

/// How far a replay has come.
public struct ReplayProgress: Sendable {
    public struct Partition: Sendable {
        public var partition: Int32
        public var start: Int64
        public var end: Int64
        public var next: Int64
        public var total: Int64 { max(0, end - start) }
        public var done: Int64 { min(total, max(0, next - start)) }
    }

    public var partitions: [Partition]
    public var decided = 0
    public var duplicates = 0
    public var deadLetters = 0
    /// Records outside a time range, skipped because the broker could not look times up.
    public var skipped = 0
    public var started: ContinuousClock.Instant
    public var interrupted = false

    /// Moves each partition's position to what the reader has read (`next`, keyed by input partition).
    mutating func advance(to next: [TopicPartition: Int64]) {
        for index in partitions.indices {
            if let position = next.first(where: { $0.key.partition == partitions[index].partition })?.value {
                partitions[index].next = position
            }
        }
    }

    public var total: Int64 { partitions.reduce(0) { $0 + $1.total } }
    public var done: Int64 { partitions.reduce(0) { $0 + $1.done } }
    public var elapsedSeconds: Double { started.duration(to: .now).inSeconds }
}
