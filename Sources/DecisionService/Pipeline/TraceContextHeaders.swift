import Kafka
import W3CTraceContext
import WireFormat

/// The W3C trace context an input message carries (`traceparent`, and `tracestate` with it), copied to the
/// message's decision and dead letter so that they can be traced back to the executor run. Parsed and
/// validated by swift-otel's W3CTraceContext; an invalid `traceparent` is dropped with its `tracestate`
/// (an invalid `tracestate` alone is dropped), never an error. No other input header is copied.
struct TraceContextHeaders: Sendable {
    /// The headers to copy, original bytes, in the order `traceparent`, `tracestate`.
    let headers: [KafkaHeader]
    /// The trace id, 32 hex digits, for log lines about the message.
    let traceID: String?

    static let none = TraceContextHeaders(headers: [], traceID: nil)

    init(of message: KafkaMessage) {
        guard !message.headers.isEmpty, let parent = message.header(HeaderName.traceParent).flatMap(Self.text),
            let context = try? TraceContext(traceParentHeaderValue: parent)
        else {
            self = .none
            return
        }
        var headers = [KafkaHeader(HeaderName.traceParent, parent)]
        if let state = message.header(HeaderName.traceState).flatMap(Self.text),
            (try? TraceContext(traceParentHeaderValue: parent, traceStateHeaderValue: state)) != nil
        {
            headers.append(KafkaHeader(HeaderName.traceState, state))
        }
        self.init(headers: headers, traceID: context.traceID.description)
    }

    private init(headers: [KafkaHeader], traceID: String?) {
        self.headers = headers
        self.traceID = traceID
    }

    private static func text(_ bytes: [UInt8]) -> String? { String(validating: bytes, as: UTF8.self) }
}
