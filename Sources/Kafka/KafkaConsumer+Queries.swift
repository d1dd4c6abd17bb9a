import CRdKafka

extension KafkaConsumer {
    /// The low and high watermarks of a partition, asked of its leader.
    public func watermarks(_ partition: TopicPartition, timeout: Duration = .seconds(10)) async throws -> (
        low: Int64, high: Int64
    ) {
        try await onThread { rk in
            var low: Int64 = 0
            var high: Int64 = 0
            let err = rd_kafka_query_watermark_offsets(
                rk, partition.topic, partition.partition, &low, &high, timeout.milliseconds)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(code: err, "query watermarks of \(partition)")
            }
            return (low, high)
        }
    }

    /// The watermarks librdkafka last saw for a partition (no request is made); `nil` before any fetch.
    public func cachedWatermarks(_ partitions: [TopicPartition]) async throws -> [TopicPartition: (
        low: Int64, high: Int64
    )] {
        try await onThread { rk in
            var result: [TopicPartition: (low: Int64, high: Int64)] = [:]
            for partition in partitions {
                var low: Int64 = -1
                var high: Int64 = -1
                if rd_kafka_get_watermark_offsets(rk, partition.topic, partition.partition, &low, &high)
                    == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0
                {
                    result[partition] = (low, high)
                }
            }
            return result
        }
    }

    /// The offset of the first message at or after each time (ms since the epoch); `nil` where the
    /// partition has none at or after it. Throws when the broker answers a partition with no offset at all.
    public func offsetsForTimes(_ times: [TopicPartition: Int64], timeout: Duration = .seconds(10)) async throws
        -> [TopicPartition: Int64?]
    {
        try await onThread { rk in
            let list = PartitionList(times.map { TopicPartitionOffset($0.key, offset: $0.value) })
            let err = list.withPointer { rd_kafka_offsets_for_times(rk, $0, timeout.milliseconds) }
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: err, "look up offsets for times") }
            if let error = list.firstError("look up offset for time in") { throw error }
            var found: [TopicPartition: Int64?] = [:]
            for (position, _) in list.elements {
                switch position.offset {
                case 0...: found[position.topicPartition] = position.offset
                case TopicPartitionOffset.end: found[position.topicPartition] = .some(nil)
                default: throw KafkaError(.failed, "no offset for a time in \(position.topicPartition)")
                }
            }
            return found
        }
    }

    /// The number of partitions of `topic`; an error when the topic does not exist.
    public func partitionCount(topic: String, timeout: Duration = .seconds(10)) async throws -> Int {
        try await onThread { rk in try fetchPartitionCount(rk, topic: topic, timeout: timeout) }
    }

    // MARK: Position control

    public func seek(_ positions: [TopicPartitionOffset], timeout: Duration = .seconds(10)) async throws {
        try await onThread { rk in
            let list = PartitionList(positions)
            if let error = list.withPointer({ rd_kafka_seek_partitions(rk, $0, timeout.milliseconds) }) {
                throw KafkaError(consuming: error, "seek")
            }
            if let error = list.firstError("seek") { throw error }
        }
    }

    public func pause(_ partitions: [TopicPartition]) async throws {
        try await onThread { rk in
            let list = PartitionList(partitions)
            let err = list.withPointer { rd_kafka_pause_partitions(rk, $0) }
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: err, "pause") }
        }
    }

    public func resume(_ partitions: [TopicPartition]) async throws {
        try await onThread { rk in
            let list = PartitionList(partitions)
            let err = list.withPointer { rd_kafka_resume_partitions(rk, $0) }
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: err, "resume") }
        }
    }

    /// The group's metadata, for a transactional producer's `sendOffsetsToTransaction`.
    func withGroupMetadata<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T {
        let metadata = rd_kafka_consumer_group_metadata(handle.pointer)!
        defer { rd_kafka_consumer_group_metadata_destroy(metadata) }
        return try body(metadata)
    }

}
