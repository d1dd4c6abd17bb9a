import Kafka

/// The startup check `run` and `replay` share: the three topics exist, and the output has at least as
/// many partitions as the input (each decision goes to its input's partition number).
struct TopicCheck {
    let settings: ServiceSettings
    let outputTopic: String
    /// Whether the DLQ must exist too (`run` always writes dead letters; `replay` only when asked).
    let requireDLQ: Bool

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
        return input
    }
}
