import ArgumentParser

@main
struct OptimizerDecider: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimizer-decider",
        abstract: "Turns executor test-run results into optimization decisions.",
        discussion:
            "Consumes executor-results from Kafka, decides per ScoringRules and publishes one decision per run to optimizer-decisions. See README.md and docs/contract.md in the repository.",
        version: "0.1.0",
        subcommands: [Run.self, ReplayCommand.self, Score.self, Demo.self, MockBroker.self]
    )
}
