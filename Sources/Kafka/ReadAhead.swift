/// A ``PartitionReader`` one batch ahead: the next batch is fetched on the consumer's thread while the
/// caller works on the one it was handed, so reading and applying overlap (a restore spent half its time
/// waiting for fetches otherwise). Call ``finish()`` before closing the consumer.
public struct ReadAhead {
    private var pending: Task<(PartitionReader, [KafkaMessage]), any Error>?
    private let maxMessages: Int
    private let parts: [String: MessageParts]
    /// The offset after the last message handed out, per partition of a range.
    public private(set) var next: [TopicPartition: Int64]
    /// Whether every message of the ranges has been handed out.
    public private(set) var isFinished: Bool

    public init(_ reader: PartitionReader, maxMessages: Int = 5000, parts: [String: MessageParts] = [:]) {
        self.maxMessages = maxMessages
        self.parts = parts
        next = reader.next
        isFinished = reader.isFinished
        pending = reader.isFinished ? nil : Self.fetch(reader, maxMessages: maxMessages, parts: parts)
    }

    private static func fetch(_ reader: PartitionReader, maxMessages: Int, parts: [String: MessageParts])
        -> Task<(PartitionReader, [KafkaMessage]), any Error>
    {
        Task {
            var reader = reader
            let batch = try await reader.nextBatch(maxMessages: maxMessages, parts: parts)
            return (reader, batch)
        }
    }

    /// The batch fetched meanwhile (empty when the poll timed out), and the fetch of the one after begun.
    public mutating func nextBatch() async throws -> [KafkaMessage] {
        guard let pending else { return [] }
        self.pending = nil
        let (reader, batch) = try await pending.value
        next = reader.next
        isFinished = reader.isFinished
        if !reader.isFinished { self.pending = Self.fetch(reader, maxMessages: maxMessages, parts: parts) }
        return batch
    }

    /// Waits for the fetch in flight (at most its poll timeout), so that nothing uses the consumer after.
    public mutating func finish() async {
        _ = try? await pending?.value
        pending = nil
    }
}
