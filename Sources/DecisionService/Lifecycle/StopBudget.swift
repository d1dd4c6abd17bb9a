import Dispatch
import Synchronization

/// The one time budget of a stop (`--stop-timeout`): every wait of the stop path takes its deadline from
/// here, and what is still running when the budget and a grace period are spent is named by
/// `onOverrun`, which ends the process. The overrun timer runs on a Dispatch queue, not on the
/// cooperative pool, so it fires whatever the stopping code (or librdkafka) is doing.
public final class StopBudget: Sendable {
    public let budget: Duration
    /// How long past the budget the process may live before `onOverrun`.
    public let grace: Duration
    private let onOverrun: @Sendable (_ unfinished: [String]) -> Void

    private struct State {
        var started: ContinuousClock.Instant?
        var finished = false
        /// Steps under way, by name, in the order they began.
        var steps: [String] = []
    }

    private let state = Mutex(State())

    public init(budget: Duration, grace: Duration = .milliseconds(500), onOverrun: @escaping @Sendable (_ unfinished: [String]) -> Void) {
        self.budget = budget
        self.grace = grace
        self.onOverrun = onOverrun
    }

    /// Starts the budget, once; later calls change nothing. Returns whether this call started it.
    @discardableResult
    public func begin() -> Bool {
        let started = state.withLock { state -> Bool in
            guard state.started == nil else { return false }
            state.started = .now
            return true
        }
        guard started else { return false }
        let limit = budget + grace
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(limit.inMilliseconds) * 1_000_000)) { [self] in
            let unfinished = state.withLock { $0.finished ? nil : $0.steps }
            if let unfinished { onOverrun(unfinished) }
        }
        return true
    }

    /// The stop completed: no overrun will be reported.
    public func finish() { state.withLock { $0.finished = true } }

    public var isStarted: Bool { state.withLock { $0.started != nil } }

    /// The deadline of the whole stop, once it has begun.
    public var deadline: ContinuousClock.Instant? { state.withLock { $0.started.map { $0 + budget } } }

    /// `limit`, or less when the stop has begun and less than that remains of its budget, less `reserve`
    /// kept for the steps after this one (never negative).
    public func bound(_ limit: Duration, keeping reserve: Duration = .zero) -> Duration {
        guard let deadline else { return limit }
        return max(.zero, min(limit, ContinuousClock.now.duration(to: deadline) - reserve))
    }

    /// What remains of the budget, less `reserve` kept for the steps after this one.
    public func remaining(keeping reserve: Duration = .zero) -> Duration {
        guard let deadline else { return budget }
        return max(.zero, ContinuousClock.now.duration(to: deadline) - reserve)
    }

    /// Runs a named step of the stop, so that an overrun can say what did not finish.
    public func step<T>(_ name: String, _ body: () async throws -> T) async rethrows -> T {
        state.withLock { $0.steps.append(name) }
        defer {
            state.withLock { state in
                if let index = state.steps.lastIndex(of: name) { state.steps.remove(at: index) }
            }
        }
        return try await body()
    }
}
