import CRdKafka

/// An error from librdkafka or from this layer, classified the way librdkafka classifies it.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Trying again may succeed.
        case retriable
        /// The transaction must be aborted; the producer can go on after that.
        case abortableTransaction
        /// The client cannot go on and must be recreated.
        case fatal
        /// A configuration key or value librdkafka rejects.
        case configuration
        /// A call that timed out.
        case timedOut
        /// Any other failure.
        case failed
    }

    public var kind: Kind
    /// librdkafka's error code, when the error came from librdkafka.
    public var code: Int32?
    public var message: String

    public init(_ kind: Kind, code: Int32? = nil, _ message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The topic or partition does not exist (the broker's UNKNOWN_TOPIC_OR_PART).
    public var isUnknownTopicOrPartition: Bool { code == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART.rawValue }

    /// The message is larger than the broker or the client accepts (MSG_SIZE_TOO_LARGE).
    public var isMessageSizeTooLarge: Bool { code == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE.rawValue }

    /// An error from a librdkafka response code.
    init(code: rd_kafka_resp_err_t, _ context: String) {
        let name = String(cString: rd_kafka_err2str(code))
        let kind: Kind = code == RD_KAFKA_RESP_ERR__TIMED_OUT ? .timedOut : .failed
        self.init(kind, code: code.rawValue, "\(context): \(name)")
    }

    /// An error from a librdkafka `rd_kafka_error_t`, which it destroys.
    init(consuming error: OpaquePointer, _ context: String) {
        let kind: Kind
        if rd_kafka_error_is_fatal(error) != 0 {
            kind = .fatal
        } else if rd_kafka_error_txn_requires_abort(error) != 0 {
            kind = .abortableTransaction
        } else if rd_kafka_error_is_retriable(error) != 0 {
            kind = .retriable
        } else if rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__TIMED_OUT {
            kind = .timedOut
        } else {
            kind = .failed
        }
        let code = rd_kafka_error_code(error).rawValue
        let text = String(cString: rd_kafka_error_string(error))
        rd_kafka_error_destroy(error)
        self.init(kind, code: code, "\(context): \(text)")
    }
}
