import CRdKafka
import Synchronization

/// Wakes a consumer thread parked in `rd_kafka_consumer_poll`, so queued jobs run promptly. The queue is
/// used and destroyed under the same lock, so no wake-up can touch a destroyed queue.
final class QueueWaker: Sendable {
    private let queue: Mutex<KafkaQueue?>

    init(queue: OpaquePointer?) { self.queue = Mutex(queue.map(KafkaQueue.init)) }

    func wake() {
        queue.withLock { if let queue = $0 { rd_kafka_queue_yield(queue.pointer) } }
    }

    func destroy() {
        queue.withLock {
            if let queue = $0 { rd_kafka_queue_destroy(queue.pointer) }
            $0 = nil
        }
    }
}

/// A librdkafka queue handle.
///
/// `@unchecked Sendable`: librdkafka queues are thread-safe; ``QueueWaker`` only uses one under its lock.
struct KafkaQueue: @unchecked Sendable {
    let pointer: OpaquePointer
}
