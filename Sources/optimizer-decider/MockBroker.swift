import ArgumentParser
import DecisionService
import Foundation
import Kafka
import Logging
import ServiceLifecycle

struct MockBroker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-broker",
        abstract: "Run librdkafka's mock Kafka cluster for local use and tests.",
        discussion: """
            Starts a Kafka wire-protocol cluster inside this process (librdkafka's mock cluster), creates the \
            topics, prints the bootstrap servers as the first line of standard output, and runs until SIGTERM \
            or SIGINT. Any Kafka client can connect (kcat, kafka-python 2.0, the decider). Limits of the mock: \
            about 5 MiB kept per partition (older records are dropped), no timestamp look-ups, transactional \
            offsets not stored. Data is lost when it stops.
            """
    )

    @Option(help: "Number of brokers (ids 1…N).")
    var brokers: Int = 1

    @Option(help: "Partitions of each topic.")
    var partitions: Int = 3

    @Option(
        name: .customLong("topic"),
        help: ArgumentHelp(
            "A topic to create, with its own partition count after a colon if it differs (repeatable). Default: the contract's three topics.",
            valueName: "name[:partitions]"))
    var topics: [String] = []

    func validate() throws {
        guard brokers >= 1 else { throw ValidationError("--brokers must be at least 1") }
        guard partitions >= 1 else { throw ValidationError("--partitions must be at least 1") }
    }

    func run() async throws {
        var logger = Logger(label: "mock-broker")
        logger.logLevel = .warning
        let cluster = try MockCluster(brokers: brokers, logger: logger)
        let names = topics.isEmpty ? ["executor-results", "optimizer-decisions", "executor-results.dlq"] : topics
        for spec in names {
            let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
            guard let name = parts.first, !name.isEmpty else { throw ValidationError("--topic needs a name") }
            var count = partitions
            if parts.count == 2 {
                guard let given = Int(parts[1]), given >= 1 else {
                    throw ValidationError("--topic \(spec): the partition count must be a positive integer")
                }
                count = given
            }
            try cluster.createTopic(name, partitions: count, replicationFactor: brokers)
        }
        FileHandle.standardOutput.write(Data((cluster.bootstrapServers + "\n").utf8))
        let budget = ServiceRunner.exitingBudget(.seconds(5), logger: logger)
        try await ServiceRunner.run(
            [.init(service: MockClusterService(cluster: cluster))], budget: budget, logger: logger)
        budget.finish()
    }
}

/// The mock cluster as a service: it runs until graceful shutdown, then shuts the cluster down.
struct MockClusterService: Service {
    let cluster: MockCluster

    func run() async throws {
        try? await gracefulShutdown()
        FileHandle.standardError.write(Data("mock-broker: stopping\n".utf8))
        cluster.shutdown()
    }
}
