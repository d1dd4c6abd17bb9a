import ArgumentParser
import DecisionService
import Foundation
import Logging
import ServiceLifecycle

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the service: consume executor results, decide, publish decisions.",
        discussion: """
            Consumes the input topic in a consumer group, publishes one decision per run to the same partition \
            number of the output topic and undecidable messages to the dead-letter topic, and commits input \
            offsets only after their output is confirmed. On SIGTERM or SIGINT it stops within --stop-timeout: \
            stops fetching, waits for outputs in flight, commits what was delivered, leaves the group, exit code \
            0. A stop that outlives its budget exits with 124 and names what did not finish; a second signal \
            exits at once with 128 + the signal number. Non-zero with a one-line reason when the service \
            cannot start or go on (brokers unreachable, topics missing, output with fewer partitions than the \
            input, bad rules, undeliverable output).
            """
    )

    @OptionGroup var options: ServiceOptions
    @OptionGroup(title: "State") var state: StateOptions

    func run() async throws {
        var settings = try options.settings()
        try state.apply(to: &settings)
        let logger = try options.makeLogger(label: "optimizer-decider")
        let budget = ServiceRunner.exitingBudget(settings.stopTimeout, logger: logger)
        let pipeline = DecisionPipeline(settings: settings, budget: budget, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(
                service: pipeline, successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup)
        ]
        if let server = try endpointServer(settings.metricsAddress, pipeline: pipeline, logger: logger) {
            // First in the list, so it stops last: probes and scrapes answer while the pipeline stops.
            services.insert(.init(service: server, failureTerminationBehavior: .gracefullyShutdownGroup), at: 0)
        }
        do {
            try await ServiceRunner.run(services, budget: budget, logger: logger)
        } catch {
            throw CommandFailure("\(error)")
        }
    }
}

/// The endpoint server for `--metrics-address`, or `nil` when it is "off".
func endpointServer(
    _ address: String, pipeline: DecisionPipeline, logger: Logger,
    onListening: @escaping @Sendable (EndpointAddress) -> Void = { _ in }
) throws -> EndpointServer? {
    guard address != "off" else { return nil }
    do {
        return EndpointServer(
            address: try EndpointAddress(parsing: address), metrics: pipeline.metrics, readiness: pipeline.readiness,
            logger: logger,
            onListening: onListening)
    } catch {
        throw CommandFailure("\(error)")
    }
}
