import CRdKafka
import Foundation
import Logging

/// A librdkafka client handle that may cross threads.
///
/// `@unchecked Sendable`: librdkafka handles are thread-safe for the calls this layer makes from other
/// threads (produce, offsets store, queries); consumer polling and rebalance handling stay on the
/// consumer's own ``KafkaThread``, which is how librdkafka 2.0's consumer must be used.
struct KafkaHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// What librdkafka's callbacks reach through the client's opaque pointer: the logger, the secrets to
/// scrub, (for producers) the delivery reports filed for hand-over, and (for consumers) the rebalance
/// handling.
///
/// `@unchecked Sendable`: the immutable fields are set in `init`; `rebalance` is set once, in the
/// consumer's `init`, before `subscribe` is possible (librdkafka calls it only for a subscribed consumer),
/// and only read afterwards, on the consumer's thread.
final class ClientContext: @unchecked Sendable {
    let logger: Logger
    let secrets: [String]
    let deliveries = DeliveryCollector()
    var rebalance:
        ((OpaquePointer, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> Void)?

    init(logger: Logger, secrets: [String]) {
        self.logger = logger
        self.secrets = secrets
    }

    /// Installs the log callback and this context as the configuration's opaque pointer; the returned
    /// pointer holds one retain that ``release(_:)`` gives back after the handle is destroyed.
    func install(on conf: OpaquePointer) -> UnsafeMutableRawPointer {
        let opaque = Unmanaged.passRetained(self).toOpaque()
        rd_kafka_conf_set_opaque(conf, opaque)
        rd_kafka_conf_set_log_cb(conf) { rk, level, facility, text in
            guard let rk, let opaque = rd_kafka_opaque(rk) else { return }
            let context = Unmanaged<ClientContext>.fromOpaque(opaque).takeUnretainedValue()
            context.log(
                level: level, facility: facility.map { String(cString: $0) } ?? "",
                text: text.map { String(cString: $0) } ?? "")
        }
        return opaque
    }

    static func release(_ opaque: UnsafeMutableRawPointer) {
        Unmanaged<ClientContext>.fromOpaque(opaque).release()
    }

    func scrub(_ text: String) -> String {
        var scrubbed = text
        for secret in secrets where scrubbed.contains(secret) {
            scrubbed = scrubbed.replacingOccurrences(of: secret, with: "[redacted]")
        }
        return scrubbed
    }

    func log(level: Int32, facility: String, text: String) {
        let swiftLevel: Logger.Level
        switch level {
        case ...2: swiftLevel = .critical
        case 3: swiftLevel = .error
        case 4: swiftLevel = .warning
        case 5: swiftLevel = .notice
        case 6: swiftLevel = .info
        default: swiftLevel = .debug
        }
        logger.log(level: swiftLevel, "\(scrub(text))", metadata: ["librdkafka.facility": "\(facility)"])
    }
}

/// Creates a librdkafka client: the native configuration, `context` installed for the callbacks (logs,
/// and whatever `configure` adds), then the handle. On failure nothing is left allocated. The returned
/// opaque pointer holds a retain of `context`, given back with ``ClientContext/release(_:)`` after the
/// handle is destroyed.
func makeClient(
    type: rd_kafka_type_t, configuration: KafkaConfiguration, context: ClientContext,
    configure: (OpaquePointer) -> Void = { _ in }
) throws(KafkaError) -> (handle: OpaquePointer, opaque: UnsafeMutableRawPointer) {
    let conf = try configuration.makeNative()
    let opaque = context.install(on: conf)
    configure(conf)
    var errorBuffer = [CChar](repeating: 0, count: 512)
    guard let rk = rd_kafka_new(type, conf, &errorBuffer, errorBuffer.count) else {
        rd_kafka_conf_destroy(conf)
        ClientContext.release(opaque)
        let reason = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw KafkaError(.configuration, "cannot create the Kafka client: \(reason)")
    }
    return (rk, opaque)
}
