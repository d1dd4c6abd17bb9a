import CRdKafka
import Synchronization

/// What became of one produced record: its index in its `produce` call, and where it landed or why not.
public struct Delivery: Sendable {
    public var index: Int
    public var result: Result<DeliveryReport, KafkaError>
}

/// One `produce` call's delivery callback, shared by its records' tokens.
final class DeliveryGroup: Sendable {
    let onDeliveries: @Sendable ([Delivery]) -> Void

    init(_ onDeliveries: @escaping @Sendable ([Delivery]) -> Void) { self.onDeliveries = onDeliveries }
}

/// One record's delivery state, carried through librdkafka as the message opaque: its index, its topic
/// (the record's own string: no name is built per report) and its call's group. One allocation a record.
final class DeliveryToken: Sendable {
    let index: Int
    let topic: String
    let group: DeliveryGroup

    init(index: Int, topic: String, group: DeliveryGroup) {
        self.index = index
        self.topic = topic
        self.group = group
    }

    func result(of message: rd_kafka_message_t) -> Result<DeliveryReport, KafkaError> {
        guard message.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            return .failure(KafkaError(code: message.err, "deliver to \(topic)[\(message.partition)]"))
        }
        return .success(
            DeliveryReport(topicPartition: TopicPartition(topic, message.partition), offset: message.offset))
    }
}

/// Delivery reports in batches. librdkafka calls the delivery callback once per message, inside whichever
/// `rd_kafka_poll` or `rd_kafka_flush` serves it; the callback only files the report here, and the thread
/// that polled hands everything filed to each `produce` call's callback in one call per group once its
/// poll returns (``dispatch()``). So a burst of reports costs its consumer (the delivery ledger) one lock,
/// not one per message.
final class DeliveryCollector: Sendable {
    private let filed = Mutex<[(DeliveryToken, Result<DeliveryReport, KafkaError>)]>([])

    /// Called from the delivery callback: takes over the token's retain.
    func file(_ token: DeliveryToken, _ result: Result<DeliveryReport, KafkaError>) {
        filed.withLock { $0.append((token, result)) }
    }

    /// Hands what was filed to its groups, each group's reports in the order they came, in one call each.
    func dispatch() {
        let reports = filed.withLock { filed in
            defer { filed.removeAll(keepingCapacity: true) }
            return filed
        }
        guard !reports.isEmpty else { return }
        var groups: [ObjectIdentifier: (DeliveryGroup, [Delivery])] = [:]
        var order: [ObjectIdentifier] = []
        for (token, result) in reports {
            let id = ObjectIdentifier(token.group)
            if groups[id] == nil {
                groups[id] = (token.group, [])
                order.append(id)
            }
            groups[id]!.1.append(Delivery(index: token.index, result: result))
        }
        for id in order {
            let (group, deliveries) = groups[id]!
            group.onDeliveries(deliveries)
        }
    }
}
