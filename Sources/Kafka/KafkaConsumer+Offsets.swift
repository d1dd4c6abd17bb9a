import CRdKafka

extension KafkaConsumer {
    // MARK: Offsets

    /// Stores the positions to be committed (the offset after the last processed message), by the next
    /// commit or the automatic commit.
    public func storeOffsets(_ positions: [TopicPartitionOffset]) async throws {
        guard !positions.isEmpty else { return }
        try await onThread { rk in
            let list = PartitionList(positions)
            let err = list.withPointer { rd_kafka_offsets_store(rk, $0) }
            if let error = list.firstError("store offset for") { throw error }
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: err, "store offsets") }
        }
    }

    /// Commits the given positions, or every stored one when `nil`, and waits up to `timeout` for the
    /// coordinator's answer; past it, throws a `.timedOut` error and leaves the request to finish or
    /// fail on its own. (librdkafka's synchronous commit has no deadline: during a group rebalance the
    /// coordinator answers REBALANCE_IN_PROGRESS and the commit is retried for as long as it lasts.)
    public func commit(_ positions: [TopicPartitionOffset]? = nil, timeout: Duration = .seconds(10)) async throws {
        try await onThread { rk in try Self.commit(rk, positions, timeout: timeout) }
    }

    private static func commit(_ rk: OpaquePointer, _ positions: [TopicPartitionOffset]?, timeout: Duration) throws {
        // The answer arrives on a queue of our own, which this call polls with a deadline.
        let queue = rd_kafka_queue_new(rk)
        defer { rd_kafka_queue_destroy(queue) }
        // librdkafka copies the list it is given before the call returns.
        let err: rd_kafka_resp_err_t
        if let positions {
            let list = PartitionList(positions)
            err = list.withPointer { rd_kafka_commit_queue(rk, $0, queue, nil, nil) }
        } else {
            err = rd_kafka_commit_queue(rk, nil, queue, nil, nil)
        }
        if err == RD_KAFKA_RESP_ERR__NO_OFFSET { return }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: err, "commit offsets") }
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else {
                throw KafkaError(
                    .timedOut, code: RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue,
                    "commit offsets: no answer from the group coordinator within \(timeout)")
            }
            guard let event = rd_kafka_queue_poll(queue, min(remaining.milliseconds, 100)) else { continue }
            defer { rd_kafka_event_destroy(event) }
            guard rd_kafka_event_type(event) == RD_KAFKA_EVENT_OFFSET_COMMIT else { continue }
            let result = rd_kafka_event_error(event)
            guard result == RD_KAFKA_RESP_ERR_NO_ERROR || result == RD_KAFKA_RESP_ERR__NO_OFFSET else {
                throw KafkaError(code: result, "commit offsets")
            }
            if let committed = rd_kafka_event_topic_partition_list(event),
                let error = PartitionList.firstError(of: committed, "commit offset for")
            {
                throw error
            }
            return
        }
    }

    /// The group's committed offsets for `partitions`; a partition with none committed is absent.
    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) async throws
        -> [TopicPartition: Int64]
    {
        try await onThread { rk in
            let list = PartitionList(partitions)
            let err = list.withPointer { rd_kafka_committed(rk, $0, timeout.milliseconds) }
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: err, "read committed offsets") }
            // librdkafka answers its invalid offset (-1001) where nothing is committed.
            return Dictionary(
                list.elements.map(\.0).filter { $0.offset >= 0 }.map {
                    ($0.topicPartition, $0.offset)
                },
                uniquingKeysWith: { $1 })
        }
    }

}
