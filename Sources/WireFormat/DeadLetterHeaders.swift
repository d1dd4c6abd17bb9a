import DecisionCore

/// The headers of a dead letter on the DLQ topic (contract section 5).
public enum DeadLetterHeaders {
    public static func make(_ rejection: InputRejection, topic: String, partition: Int32, offset: Int64) -> [(
        String, String
    )] {
        [
            ("dlq-reason", rejection.reason.rawValue),
            ("dlq-error", rejection.message),
            ("dlq-source-topic", topic),
            ("dlq-source-partition", String(partition)),
            ("dlq-source-offset", String(offset)),
        ]
    }
}
