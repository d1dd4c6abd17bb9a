import Synchronization

/// The one time budget of a stop (`--stop-timeout`), and the one stopping state: a stop has begun once
/// `begin()` has run, whoever called it (a signal, graceful shutdown, a failure). Every wait of the stop
/// path takes its deadline from here. A stop that outlives the budget and a grace period is an overrun,
/// reported once to `onOverrun` (which ends the process) with the steps it names: those still running
/// when the overrun timer fires, or, when the stop ends first after the limit (the process was starved
/// or paused), the step that was running at the limit. The timer runs on a Dispatch queue, not on the
/// cooperative pool, so it fires whatever the stopping code (or librdkafka) is doing.
public final class StopBudget: Sendable {
    public let budget: Duration
    /// How long past the budget the process may live before `onOverrun`.
    public let grace: Duration
    private let onOverrun: @Sendable (_ unfinished: [String]) -> Void

    private struct State {
        var started: ContinuousClock.Instant?
        var finished = false
        var overrunReported = false
        /// Steps under way, by name, in the order they began.
        var steps: [String] = []
        /// The first step that ended past the budget and its grace.
        var late: String?

        /// When the stop becomes an overrun.
        func limit(_ budget: Duration, _ grace: Duration) -> ContinuousClock.Instant? {
            started.map { $0 + budget + grace }
        }

        /// Claims the one report of an overrun.
        mutating func claimOverrun() -> Bool {
            guard !overrunReported else { return false }
            overrunReported = true
            return true
        }
    }

    private let state = Mutex(State())

    /// Runs the overrun check after a delay: a Dispatch timer, off the cooperative pool.
    public typealias OverrunTimer = @Sendable (_ after: Duration, _ check: @escaping @Sendable () -> Void) -> Void

    public static let dispatchTimer: OverrunTimer = { after, check in runAfter(after, check) }

    private let overrunTimer: OverrunTimer

    public init(
        budget: Duration, grace: Duration = .milliseconds(500),
        overrunTimer: @escaping OverrunTimer = StopBudget.dispatchTimer,
        onOverrun: @escaping @Sendable (_ unfinished: [String]) -> Void
    ) {
        self.budget = budget
        self.grace = grace
        self.overrunTimer = overrunTimer
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
        overrunTimer(budget + grace) { [self] in
            let unfinished = state.withLock { state -> [String]? in
                guard !state.finished, state.claimOverrun() else { return nil }
                return state.steps
            }
            if let unfinished { onOverrun(unfinished) }
        }
        return true
    }

    /// The stop completed. Past the budget and its grace it is still an overrun (reported here when the
    /// timer has not reported it yet), naming the step that was running at the limit.
    public func finish() {
        let late = state.withLock { state -> [String]? in
            state.finished = true
            guard let limit = state.limit(budget, grace), ContinuousClock.now > limit, state.claimOverrun() else {
                return nil
            }
            return state.late.map { [$0] } ?? []
        }
        if let late { onOverrun(late) }
    }

    /// Whether a stop has begun: the one stopping state every part of a command reads.
    public var isStarted: Bool { state.withLock { $0.started != nil } }

    /// The deadline of the whole stop, once it has begun.
    public var deadline: ContinuousClock.Instant? { state.withLock { $0.started.map { $0 + budget } } }

    /// `limit`, or less when the stop has begun and less than that remains of its budget, less `reserve`
    /// kept for the steps after this one (never negative).
    public func bound(_ limit: Duration, keeping reserve: Duration = .zero) -> Duration {
        guard let deadline else { return limit }
        return max(.zero, min(limit, ContinuousClock.now.duration(to: deadline) - reserve))
    }

    /// A reserve for later steps: `limit`, or `share` of the whole budget when that is less, so that a
    /// short budget (`--stop-timeout 2`) keeps its steps in proportion.
    public func reserve(_ limit: Duration, share: Double) -> Duration { min(limit, budget * share) }

    /// What remains of the budget, less `reserve` kept for the steps after this one.
    public func remaining(keeping reserve: Duration = .zero) -> Duration {
        guard let deadline else { return budget }
        return max(.zero, ContinuousClock.now.duration(to: deadline) - reserve)
    }

    /// Runs a named step of the stop, so that an overrun can say what did not finish.
    public func step<T>(_ name: String, _ body: () async throws -> T) async rethrows -> T {
        state.withLock { $0.steps.append(name) }
        defer {
            let now = ContinuousClock.now
            state.withLock { state in
                if let index = state.steps.lastIndex(of: name) { state.steps.remove(at: index) }
                if state.late == nil, let limit = state.limit(budget, grace), now > limit { state.late = name }
            }
        }
        return try await body()
    }
}
