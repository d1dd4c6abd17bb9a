import CRdKafka

/// A librdkafka partition list, freed when it goes out of scope: built from Swift values, or adopted from
/// librdkafka (`rd_kafka_assignment` hands over a list the caller must free). Non-copyable, so exactly one
/// owner frees it. Its pointer is lent only inside ``withPointer(_:)``, a borrow that keeps the list alive
/// for the call (a noncopyable value may otherwise end right after its last use).
struct PartitionList: ~Copyable {
    private let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    init(_ partitions: [TopicPartition]) {
        pointer = rd_kafka_topic_partition_list_new(Int32(max(1, partitions.count)))
        for tp in partitions { rd_kafka_topic_partition_list_add(pointer, tp.topic, tp.partition) }
    }

    init(_ offsets: [TopicPartitionOffset]) {
        pointer = rd_kafka_topic_partition_list_new(Int32(max(1, offsets.count)))
        for entry in offsets {
            rd_kafka_topic_partition_list_add(pointer, entry.topicPartition.topic, entry.topicPartition.partition)
                .pointee.offset = entry.offset
        }
    }

    /// Takes ownership of a list librdkafka allocated for the caller.
    init(adopting pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        self.pointer = pointer
    }

    deinit { rd_kafka_topic_partition_list_destroy(pointer) }

    /// Lends the native list to `body`, which must not keep it.
    func withPointer<R, E: Error>(
        _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws(E) -> R
    ) throws(E) -> R {
        try body(pointer)
    }

    /// The entries, with the error librdkafka set on each.
    var elements: [(TopicPartitionOffset, rd_kafka_resp_err_t)] { Self.elements(of: pointer) }

    /// The first per-partition error librdkafka set, as a ``KafkaError``.
    func firstError(_ context: String) -> KafkaError? { Self.firstError(of: pointer, context) }

    /// The entries of a list this code does not own (one a callback or an event lends).
    static func elements(of list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [(
        TopicPartitionOffset, rd_kafka_resp_err_t
    )] {
        (0..<Int(list.pointee.cnt)).map { index in
            let element = list.pointee.elems[index]
            return (
                TopicPartitionOffset(
                    TopicPartition(String(cString: element.topic), element.partition), offset: element.offset),
                element.err
            )
        }
    }

    /// The first per-partition error in a list librdkafka filled in, as a ``KafkaError``.
    static func firstError(of list: UnsafePointer<rd_kafka_topic_partition_list_t>, _ context: String) -> KafkaError? {
        for (entry, err) in elements(of: list) where err != RD_KAFKA_RESP_ERR_NO_ERROR {
            return KafkaError(code: err, "\(context) \(entry.topicPartition)")
        }
        return nil
    }
}
