/// Every header name of the contract, in one place: decisions (section 4), dead letters (section 5) and
/// the W3C trace context copied from the input.
public enum HeaderName {
    public static let contentType = "content-type"
    public static let schema = "schema"
    public static let decisionID = "decision-id"
    public static let traceParent = "traceparent"
    public static let traceState = "tracestate"
    public static let deadLetterReason = "dlq-reason"
    public static let deadLetterError = "dlq-error"
    public static let deadLetterSourceTopic = "dlq-source-topic"
    public static let deadLetterSourcePartition = "dlq-source-partition"
    public static let deadLetterSourceOffset = "dlq-source-offset"
    /// On a dead letter sent without its value because the DLQ refused its size.
    public static let deadLetterValueOmitted = "dlq-value-omitted"
    public static let deadLetterValueSHA256 = "dlq-value-sha256"
}
