import Kafka
import Logging

/// The startup check `run` and `replay` share: the three topics exist, and the output has at least as
/// many partitions as the input (each decision goes to its input's partition number).
struct TopicCheck {
    let settings: ServiceSettings
    let outputTopic: String
    /// Whether the DLQ must exist too (`run` always writes dead letters; `replay` only when asked).
    let requireDLQ: Bool
    /// Set from the DLQ's partition count when the DLQ is checked.
    var routing: DeadLetterRouting? = nil
    var logger: Logger? = nil

    /// The input's partition count, or `nil` when `isStopping` became true while waiting for the brokers.
    func inputPartitions(_ consumer: KafkaConsumer, isStopping: @Sendable () -> Bool) async throws -> Int? {
        let deadline = ContinuousClock.now + settings.startupTimeout
        var counts: [String: Int] = [:]
        let topics = [settings.inputTopic, outputTopic] + (requireDLQ ? [settings.dlqTopic] : [])
        for topic in topics {
            while counts[topic] == nil {
                if isStopping() { return nil }
                do {
                    // Short look-ups, so that a stop while the brokers are unreachable is seen promptly.
                    counts[topic] = try await consumer.partitionCount(topic: topic, timeout: .seconds(1))
                } catch let error as KafkaError where error.isUnknownTopicOrPartition {
                    throw ServiceError(
                        "topic \(topic) does not exist on \(settings.kafka.bootstrapServers); create it first (see docs/operations.md: Troubleshooting)"
                    )
                } catch {
                    guard ContinuousClock.now < deadline else {
                        throw ServiceError(
                            "cannot reach Kafka at \(settings.kafka.bootstrapServers) within \(settings.startupTimeout): \(error)"
                        )
                    }
                    try await Task.sleep(for: .milliseconds(250))
                }
            }
        }
        let input = counts[settings.inputTopic]!
        let output = counts[outputTopic]!
        guard output >= input else {
            throw ServiceError(
                "output topic \(outputTopic) has \(output) partitions, fewer than the \(input) of \(settings.inputTopic): each decision goes to its input's partition number, so the output needs at least as many"
            )
        }
        if let dlq = counts[settings.dlqTopic], let routing {
            routing.set(followsSourcePartition: dlq >= input)
            if dlq < input {
                logger?.warning(
                    "dead-letter topic \(settings.dlqTopic) has \(dlq) partitions, fewer than the \(input) of \(settings.inputTopic): dead letters are partitioned by key and at-least-once (a bad message redelivered after a crash is dead-lettered again); give it at least as many partitions for exactly once"
                )
            }
        }
        return input
    }
}
