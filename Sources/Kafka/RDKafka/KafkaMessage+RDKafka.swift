import CRdKafka

extension KafkaMessage {
    /// Copies a librdkafka message's `parts` into Swift values (a part left out is empty); `topic` is its
    /// topic's name when the caller knows it, saving a string per message.
    init(copying message: UnsafeMutablePointer<rd_kafka_message_t>, parts: MessageParts = .all, topic: String? = nil) {
        let m = message.pointee
        let value =
            parts.contains(.value) ? m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? [] : []
        let key = parts.contains(.key) ? m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) } : nil
        var headers: [KafkaHeader] = []
        var native: OpaquePointer?
        if parts.contains(.headers), rd_kafka_message_headers(message, &native) == RD_KAFKA_RESP_ERR_NO_ERROR,
            let native
        {
            var index = 0
            var name: UnsafePointer<CChar>?
            var bytes: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(native, index, &name, &bytes, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                headers.append(
                    KafkaHeader(
                        name.map { String(cString: $0) } ?? "",
                        bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }))
                index += 1
            }
        }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        self.init(
            topic: topic ?? String(cString: rd_kafka_topic_name(m.rkt)), partition: m.partition, offset: m.offset,
            key: key, value: value, headers: headers,
            timestampMs: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp)
    }
}
