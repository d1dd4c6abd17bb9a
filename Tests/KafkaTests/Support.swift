import Foundation
import Kafka
import Logging
import Testing

let testLogger: Logger = {
    var logger = Logger(label: "kafka-tests")
    logger.logLevel = ProcessInfo.processInfo.environment["KAFKA_TEST_LOG"] == nil ? .critical : .debug
    return logger
}()

func makeCluster(brokers: Int = 1, topics: [String: Int]) throws -> MockCluster {
    let cluster = try MockCluster(brokers: brokers, logger: testLogger)
    for (topic, partitions) in topics {
        try cluster.createTopic(topic, partitions: partitions, replicationFactor: brokers)
    }
    return cluster
}

func configuration(_ cluster: MockCluster, _ extra: [String: String] = [:]) -> KafkaConfiguration {
    var configuration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers)
    // Short group timings keep rebalances in tests quick.
    configuration["session.timeout.ms"] = "6000"
    configuration["heartbeat.interval.ms"] = "500"
    configuration["topic.metadata.refresh.interval.ms"] = "1000"
    // KAFKA_TEST_LOG=cgrp,protocol (any librdkafka debug contexts) also turns on librdkafka's debug log.
    if let contexts = ProcessInfo.processInfo.environment["KAFKA_TEST_LOG"], contexts != "1" {
        configuration["debug"] = contexts
    }
    for (key, value) in extra { configuration[key] = value }
    return configuration
}

func uniqueGroup(_ name: String = #function) -> String {
    "\(name.filter(\.isLetter))-\(UInt32.random(in: 0...UInt32.max))"
}

func records(_ topic: String, count: Int, partition: Int32? = nil, prefix: String = "m") -> [ProducerRecord] {
    (0..<count).map { index in
        ProducerRecord(
            topic: topic, partition: partition ?? Int32(index % 3), key: Array("k\(index)".utf8),
            value: Array("\(prefix)\(index)".utf8))
    }
}

/// Consumes until `count` messages arrived or `timeout` passed (generous: group joins are slow under load).
func consume(_ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(60)) async throws -> [KafkaMessage] {
    var messages: [KafkaMessage] = []
    let deadline = ContinuousClock.now + timeout
    while messages.count < count && ContinuousClock.now < deadline {
        messages += try await consumer.nextBatch(maxMessages: 500, timeout: .milliseconds(200))
    }
    return messages
}

func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

/// Records rebalance events in order.
actor EventLog {
    private(set) var events: [RebalanceEvent] = []
    func append(_ event: RebalanceEvent) { events.append(event) }
    var assigned: Set<TopicPartition> {
        var owned = Set<TopicPartition>()
        for event in events {
            if event.kind == .assigned { owned.formUnion(event.partitions) } else { owned.subtract(event.partitions) }
        }
        return owned
    }
}
