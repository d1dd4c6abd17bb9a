import CRdKafka
import Synchronization

/// A producer's handles (`rd_kafka_topic_new`) of the topics it was told it writes to, one per name, held
/// until the producer is destroyed.
///
/// Why: librdkafka creates the topic of a record produced by name without looking its leaders up; that
/// waits for its periodic topic scan (once a second), and every record to the topic waits with it. The
/// first outputs after a start were held up to a second (0.9 s measured on the mock cluster), long enough
/// for a burst to fill the service's in-flight bound. A topic with a handle is updated by any metadata
/// answer (``KafkaProducer/prepare(topics:timeout:)`` asks for one). Records still name their topic: the
/// handles measured no faster end to end (BENCHMARKS.md, "Naming the topic or passing its handle"). The
/// dead letters a fault test once missed while records went through the handles it missed by name too:
/// a limit of the mock cluster (docs/development.md, "Running the tests").
final class TopicHandles: Sendable {
    private let handles = Mutex<[String: TopicHandle]>([:])

    /// Makes a handle for each name not yet held; an error names the topic librdkafka refused.
    func register(_ topics: [String], on rk: OpaquePointer) throws(KafkaError) {
        let refused: String? = handles.withLock { handles in
            for topic in topics where handles[topic] == nil {
                guard let pointer = rd_kafka_topic_new(rk, topic, nil) else { return topic }
                handles[topic] = TopicHandle(pointer: pointer)
            }
            return nil
        }
        if let refused {
            throw KafkaError(code: rd_kafka_last_error(), "register topic \(refused) with the producer")
        }
    }

    /// Gives every handle back; call before the client is destroyed, once no produce call is running.
    func destroyAll() {
        let held = handles.withLock { handles in
            defer { handles.removeAll() }
            return Array(handles.values)
        }
        for handle in held { rd_kafka_topic_destroy(handle.pointer) }
    }
}

/// A topic handle that may cross threads.
///
/// `@unchecked Sendable`: librdkafka's topic handles are thread-safe, and ``TopicHandles`` destroys each
/// one once, after the last produce call.
struct TopicHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}
