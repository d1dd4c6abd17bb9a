import Foundation
import Logging
import ServiceLifecycle

/// Runs a command's services in one swift-service-lifecycle `ServiceGroup`: SIGTERM and SIGINT start a
/// graceful shutdown (services stop in reverse order, so the endpoints keep answering while the pipeline
/// stops); past the stop budget the group cancels its services, and half a second later the budget's
/// overrun ends the process with ``overrunExitCode``; a second signal ends it at once.
public enum ServiceRunner {
    /// The exit code of a stop that outlived its budget.
    public static let overrunExitCode: Int32 = 124

    /// A budget whose overrun logs what did not finish, in one line, and ends the process.
    public static func exitingBudget(_ budget: Duration, logger: Logger) -> StopBudget {
        StopBudget(budget: budget) { unfinished in
            let what = unfinished.isEmpty ? "the services' own shutdown" : unfinished.joined(separator: ", ")
            logger.critical("stop budget of \(budget) exceeded; exiting with \(overrunExitCode); unfinished: \(what)")
            exit(overrunExitCode)
        }
    }

    public static func run(
        _ services: [ServiceGroupConfiguration.ServiceConfiguration], budget: StopBudget, logger: Logger
    ) async throws {
        let signals = TerminationSignals(budget: budget, logger: logger)
        var configuration = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = budget.budget
        defer { withExtendedLifetime(signals) {} }
        try await ServiceGroup(configuration: configuration).run()
    }
}
