import CRdKafka

/// The partition count of a topic from a metadata request for all topics, which (unlike a request naming
/// the topic) never makes a broker with auto-creation create it.
func fetchPartitionCount(_ rk: OpaquePointer, topic: String, timeout: Duration) throws -> Int {
    var metadata: UnsafePointer<rd_kafka_metadata_t>?
    let err = rd_kafka_metadata(rk, 1, nil, &metadata, timeout.milliseconds)
    guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
        throw KafkaError(code: err, "read metadata of topic \(topic)")
    }
    defer { rd_kafka_metadata_destroy(metadata) }
    for index in 0..<Int(metadata.pointee.topic_cnt) {
        let entry = metadata.pointee.topics[index]
        guard String(cString: entry.topic) == topic else { continue }
        guard entry.err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: entry.err, "topic \(topic)") }
        return Int(entry.partition_cnt)
    }
    throw KafkaError(code: RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, "topic \(topic) does not exist")
}
