import DecisionCore

/// The headers of a dead letter on the DLQ topic (contract section 5).
public enum DeadLetterHeaders {
    public static func make(_ rejection: InputRejection, topic: String, partition: Int32, offset: Int64) -> [(
        String, String
    )] {
        [
            (HeaderName.deadLetterReason, rejection.reason.rawValue),
            (HeaderName.deadLetterError, rejection.message),
            (HeaderName.deadLetterSourceTopic, topic),
            (HeaderName.deadLetterSourcePartition, String(partition)),
            (HeaderName.deadLetterSourceOffset, String(offset)),
        ]
    }
}
