import Synchronization

/// Which assigned partitions have their state restored: `/readyz` and the readiness gauge answer from this.
public final class Readiness: Sendable {
    private struct State {
        var assigned = Set<Int32>()
        var restored = Set<Int32>()
    }

    private let state = Mutex(State())
    /// A stopping instance takes no more traffic: it reports not ready from the moment its stop begins.
    private let stop: StopBudget

    public init(stop: StopBudget) { self.stop = stop }

    func assigning(_ partitions: [Int32]) { state.withLock { $0.assigned.formUnion(partitions) } }
    func restored(_ partitions: [Int32]) { state.withLock { $0.restored.formUnion(partitions) } }
    func revoked(_ partitions: [Int32]) {
        state.withLock {
            $0.assigned.subtract(partitions)
            $0.restored.subtract(partitions)
        }
    }

    public struct Snapshot: Sendable, Equatable {
        public var ready: Bool
        public var assigned: [Int32]
        public var restoring: [Int32]
        public var stopping: Bool

        /// Why the instance is not ready, or which partitions it serves.
        public var explanation: String {
            if ready { return "ready: partitions \(assigned)" }
            if stopping { return "not ready: stopping" }
            return assigned.isEmpty
                ? "not ready: no partitions assigned" : "not ready: restoring partitions \(restoring)"
        }
    }

    public var snapshot: Snapshot {
        let stopping = stop.isStarted
        return state.withLock { s in
            Snapshot(
                ready: !stopping && !s.assigned.isEmpty && s.assigned.isSubset(of: s.restored),
                assigned: s.assigned.sorted(), restoring: s.assigned.subtracting(s.restored).sorted(),
                stopping: stopping)
        }
    }
}
