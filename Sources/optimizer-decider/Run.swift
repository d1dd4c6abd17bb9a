import ArgumentParser
import DecisionService
import Foundation
import Logging

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the service: consume executor results, decide, publish decisions.",
        discussion: """
            Consumes the input topic in a consumer group, publishes one decision per run to the same partition \
            number of the output topic and undecidable messages to the dead-letter topic, and commits input \
            offsets only after their output is confirmed. Stops cleanly on SIGTERM or SIGINT (finishes the batch \
            in hand, commits, leaves the group). Exit code 0 on a clean stop; non-zero with a one-line reason \
            otherwise (brokers unreachable, topics missing, output with fewer partitions than the input, bad \
            rules, undeliverable output).
            """
    )

    @OptionGroup var options: ServiceOptions

    func run() async throws {
        let settings = try options.settings()
        let logger = try options.makeLogger(label: "optimizer-decider")
        let pipeline = DecisionPipeline(settings: settings, logger: logger)
        let server = try startMetricsServer(settings.metricsAddress, pipeline: pipeline, logger: logger)
        defer { server?.stop() }
        let stop = StopSignal()
        let signals = Task {
            let name = await waitForTerminationSignal()
            logger.info("received \(name): stopping")
            stop.raise()
        }
        defer { signals.cancel() }
        do {
            try await pipeline.run(until: stop)
        } catch {
            throw CommandFailure("\(error)")
        }
    }
}

func startMetricsServer(_ address: String, pipeline: DecisionPipeline, logger: Logger) throws -> HTTPServer? {
    guard address != "off" else { return nil }
    do {
        let server = try HTTPServer(address: address, logger: logger) { pipeline.health($0) }
        logger.info("serving /metrics, /healthz and /readyz on http://\(server.boundAddress)")
        return server
    } catch {
        throw CommandFailure("\(error)")
    }
}
