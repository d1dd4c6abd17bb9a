import ArgumentParser
import DecisionCore
import DecisionService
import Foundation
import Kafka
import Logging
import WireFormat

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "See the whole pipeline work: embedded broker, generated executor traffic, the service, a summary.",
        discussion: """
            Starts librdkafka's mock cluster in this process, creates the three topics, runs the service on it \
            (the same code as `run`), publishes a burst of realistic executor runs (some duplicated, one bad \
            message of every dead-letter reason, one workflow that degrades run after run), waits until every \
            message is handled, reads the decisions and dead letters back from their topics and prints what \
            was decided. Needs no Kafka and no network beyond loopback.
            """
    )

    @Option(help: "How many executor runs to generate.")
    var runs: Int = 240

    @Option(help: "Partitions of each topic.")
    var partitions: Int = 3

    @Option(help: "A rules file, YAML or JSON (default: the seed's rules).")
    var rules: String?

    @Option(help: "Serve /metrics, /healthz and /readyz on this host:port while the demo runs (default: off).")
    var metricsAddress: String = "off"

    @Flag(help: "Show the service's own log lines.")
    var verbose = false

    func validate() throws {
        guard (1...100_000).contains(runs) else { throw ValidationError("--runs must be between 1 and 100000") }
        guard (1...64).contains(partitions) else { throw ValidationError("--partitions must be between 1 and 64") }
    }

    func run() async throws {
        var logger = Logger(label: "optimizer-decider") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .info : .error
        let cluster = try MockCluster(brokers: 1, logger: logger)
        for topic in ["executor-results", "optimizer-decisions", "executor-results.dlq"] {
            try cluster.createTopic(topic, partitions: partitions)
        }
        var settings = ServiceSettings(bootstrapServers: cluster.bootstrapServers)
        settings.rules = try loadRules(rules)
        settings.maximumMessageBytes = 64 * 1024
        settings.kafka.sessionTimeout = .seconds(6)
        settings.kafka.heartbeatInterval = .milliseconds(500)
        let pipeline = DecisionPipeline(settings: settings, logger: logger)
        let service = Task { try await pipeline.run() }
        let endpoints = try endpointServer(metricsAddress, pipeline: pipeline, logger: logger).map { server in
            Task { try await server.run() }
        }
        defer { endpoints?.cancel() }

        print(
            "optimizer-decider demo: mock Kafka cluster at \(cluster.bootstrapServers), \(partitions) partitions per topic"
        )
        var traffic = DemoTraffic()
        let messages = traffic.messages(runs: runs)
        let producer = try KafkaProducer(
            configuration: KafkaConfiguration(bootstrapServers: cluster.bootstrapServers), logger: logger)
        try await producer.send(
            messages.map { ProducerRecord(topic: "executor-results", key: Array($0.key.utf8), value: $0.value) })
        await producer.close()
        let distinctRuns = Set(messages.compactMap(\.run)).count
        print(
            "published \(messages.count) executor messages: \(distinctRuns) distinct runs, \(messages.count - distinctRuns - 7) duplicate deliveries, 7 bad messages"
        )

        let deadline = ContinuousClock.now + .seconds(90)
        while pipeline.progress.consumed < messages.count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        pipeline.requestStop()
        try await service.value
        let (decisions, deadLetters) = try await readBack(cluster.bootstrapServers, logger: logger)
        printSummary(decisions: decisions, deadLetters: deadLetters, duplicates: pipeline.progress.duplicates)
        guard decisions.count == distinctRuns else {
            throw CommandFailure("expected \(distinctRuns) decisions, found \(decisions.count) on optimizer-decisions")
        }
        cluster.shutdown()
    }

    /// Everything on the decisions and dead-letter topics, read with a fresh consumer.
    private func readBack(_ bootstrap: String, logger: Logger) async throws -> ([DecisionDigest], [[String: String]]) {
        let consumer = try KafkaConsumer(
            configuration: KafkaConfiguration(bootstrapServers: bootstrap).forManualAssignment,
            groupID: "demo-reader", logger: logger)
        var decisions: [DecisionDigest] = []
        var deadLetters: [[String: String]] = []
        do {
            var reader = try await PartitionReader.upToHighWatermarks(
                of: ["optimizer-decisions", "executor-results.dlq"].flatMap { topic in
                    (0..<Int32(partitions)).map { TopicPartition(topic, $0) }
                }, on: consumer)
            for message in try await reader.readToEnd(within: .seconds(30)) {
                if message.topic == "optimizer-decisions" {
                    if let decision = DecisionDigest.parse(message.value) { decisions.append(decision) }
                } else {
                    deadLetters.append(
                        Dictionary(
                            message.headers.map { ($0.name, String(decoding: $0.value ?? [], as: UTF8.self)) },
                            uniquingKeysWith: { $1 }))
                }
            }
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
        return (decisions, deadLetters)
    }

    private func printSummary(decisions: [DecisionDigest], deadLetters: [[String: String]], duplicates: Int) {
        print("\ndecisions on optimizer-decisions: \(decisions.count) (duplicates suppressed: \(duplicates))\n")
        let header = [
            "workflow", "runs", "optimize", "clarity", "efficiency", "structure", "regressions", "top reasons",
        ]
        var rows: [[String]] = []
        let byWorkflow = Dictionary(grouping: decisions, by: \.workflowID)
        for workflow in byWorkflow.keys.sorted() {
            let group = byWorkflow[workflow]!
            let optimize = group.filter(\.shouldOptimize)
            let strategies = Dictionary(grouping: optimize) { $0.strategy ?? "-" }.mapValues(\.count)
            var reasons: [String: Int] = [:]
            for reason in group.flatMap(\.reasons) { reasons[reason.code, default: 0] += 1 }
            let top = reasons.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(2).map {
                "\($0.key) ×\($0.value)"
            }.joined(separator: ", ")
            rows.append([
                workflow, String(group.count), String(optimize.count), String(strategies["clarity_focus"] ?? 0),
                String(strategies["efficiency_focus"] ?? 0), String(strategies["structure_focus"] ?? 0),
                String(group.reduce(0) { $0 + $1.regressions.count }), top.isEmpty ? "-" : top,
            ])
        }
        printTable(header, rows)
        let regressed = decisions.filter { !$0.regressions.isEmpty }
        if let example = regressed.last(where: { $0.workflowID == "wf-degrading" }) ?? regressed.last,
            let first = example.regressions.first
        {
            // Rounded here: the decision's own message carries the unrounded mean, byte for byte as decided.
            print(
                "\nexample regression (\(example.workflowID) \(example.runID)): \(first.code), \(Self.rounded(first.observed)) against a baseline mean of \(Self.rounded(first.reference))"
            )
        }
        printVariants(decisions)
        print("\ndead letters on executor-results.dlq: \(deadLetters.count)")
        for letter in deadLetters.sorted(by: {
            ($0[HeaderName.deadLetterReason] ?? "") < ($1[HeaderName.deadLetterReason] ?? "")
        }) {
            print(
                "  \((letter[HeaderName.deadLetterReason] ?? "?").padding(toLength: 19, withPad: " ", startingAt: 0)) \(letter[HeaderName.deadLetterError] ?? "")"
            )
        }
        print(
            "\nTry it yourself: optimizer-decider mock-broker, then optimizer-decider run --bootstrap-servers <printed address> (see README)."
        )
    }

    private static func rounded(_ value: Double?) -> String {
        value.map { String(format: "%.3g", $0) } ?? "-"
    }

    /// Each workflow that named variants: its variants with their runs, and its latest comparison.
    private func printVariants(_ decisions: [DecisionDigest]) {
        let withVariant = decisions.filter { $0.variant != nil }
        guard !withVariant.isEmpty else { return }
        print("\nvariants (contract 3.3): the latest comparison of each workflow")
        var rows: [[String]] = []
        for (workflow, group) in Dictionary(grouping: withVariant, by: \.workflowID).sorted(by: { $0.key < $1.key }) {
            let counts = Dictionary(grouping: group) { $0.variant ?? "-" }.mapValues(\.count)
            guard let latest = group.last?.comparison else { continue }
            rows.append([
                workflow, counts.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "),
                "\(latest.variant) vs \(latest.baselineVariant ?? "-")", latest.verdict,
                Self.rounded(latest.successRatePValue), Self.rounded(latest.latencyRatio),
            ])
        }
        printTable(["workflow", "variants (runs)", "latest", "verdict", "success p-value", "latency ratio"], rows)
    }

    private func printTable(_ header: [String], _ rows: [[String]]) {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        print(line(header))
        print(line(widths.map { String(repeating: "-", count: $0) }))
        rows.forEach { print(line($0)) }
    }
}
