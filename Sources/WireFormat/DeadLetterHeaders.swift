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

    /// The input offset a dead letter read back from the DLQ was written for, when its source headers
    /// name `topic` and `partition`; `nil` for anything else (another source, a foreign record).
    public static func sourceOffset(topic: String, partition: Int32, header: (String) -> [UInt8]?) -> Int64? {
        func text(_ name: String) -> String? { header(name).flatMap { String(validating: $0, as: UTF8.self) } }
        guard text(HeaderName.deadLetterSourceTopic) == topic,
            text(HeaderName.deadLetterSourcePartition) == String(partition),
            let offset = text(HeaderName.deadLetterSourceOffset).flatMap({ Int64($0) }), offset >= 0
        else { return nil }
        return offset
    }
}
