import Logging
import ServiceLifecycle
import Synchronization

/// A ``Replay`` as a service: it reads until its end or a graceful shutdown (then it waits for its
/// outputs in flight within the stop budget and reports itself interrupted), and keeps its final progress.
public final class ReplayService: Service, Sendable {
    private let replay: Replay
    private let budget: StopBudget
    private let logger: Logger
    private let report: @Sendable (ReplayProgress) -> Void
    private let emit: @Sendable ([UInt8]) -> Void
    private let outcome = Mutex<ReplayProgress?>(nil)

    public init(
        replay: Replay, budget: StopBudget, logger: Logger,
        report: @escaping @Sendable (ReplayProgress) -> Void, emit: @escaping @Sendable ([UInt8]) -> Void
    ) {
        self.replay = replay
        self.budget = budget
        self.logger = logger
        self.report = report
        self.emit = emit
    }

    /// The progress when the replay ended (finished or interrupted); `nil` while it runs or if it failed.
    public var result: ReplayProgress? { outcome.withLock { $0 } }

    public func run() async throws {
        let progress = try await withGracefulShutdownHandler {
            // The budget is the one stopping state: a signal or graceful shutdown begins it, the replay reads it.
            try await replay.run(
                logger: logger, budget: budget, isStopping: { [budget] in budget.isStarted }, report: report, emit: emit
            )
        } onGracefulShutdown: { [budget] in
            budget.begin()
        }
        outcome.withLock { $0 = progress }
    }
}
