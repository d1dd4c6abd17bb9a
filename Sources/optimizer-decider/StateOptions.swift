import ArgumentParser
import DecisionService

/// `run`'s checkpoint options: where each owned partition's state is kept between restarts, and how often
/// it is written. Like ``ServiceOptions``, each falls back to `DECIDER_<NAME>`.
struct StateOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Directory for checkpoints of each owned partition's state (created if missing); a restart then reads only the decisions written after them. Default: none (nothing is written; every restore reads the decisions topic in full). Env: DECIDER_STATE_DIR.",
            valueName: "dir"))
    var stateDir: String?

    @Option(
        help:
            "Seconds between scheduled checkpoints, besides those on every revoke and stop (default: 60). Env: DECIDER_CHECKPOINT_INTERVAL."
    )
    var checkpointInterval: Double?

    @Option(
        help:
            "Decisions after which a checkpoint is written before the interval ends (default: 1000000). Env: DECIDER_CHECKPOINT_DECISIONS."
    )
    var checkpointDecisions: Int?

    func apply(to settings: inout ServiceSettings) throws {
        let environment = ServiceOptions.environment
        if let directory = stateDir ?? environment("STATE_DIR") { settings.stateDirectory = directory }
        if let seconds = try ServiceOptions.number(checkpointInterval, "CHECKPOINT_INTERVAL", "checkpoint-interval") {
            guard seconds > 0, seconds <= 86_400, seconds.isFinite else {
                throw CommandFailure("--checkpoint-interval must be between 0 and 86400 seconds")
            }
            settings.checkpointInterval = .milliseconds(Int64(seconds * 1000))
        }
        if let decisions = try ServiceOptions.number(
            checkpointDecisions, "CHECKPOINT_DECISIONS", "checkpoint-decisions")
        {
            guard decisions > 0 else { throw CommandFailure("--checkpoint-decisions must be positive") }
            settings.checkpointDecisions = decisions
        }
    }
}
