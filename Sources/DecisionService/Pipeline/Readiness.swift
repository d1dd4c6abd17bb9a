import Synchronization

/// Which assigned partitions have their state restored: `/readyz` and the readiness gauge answer from this.
public final class Readiness: Sendable {
    private struct State {
        var assigned = Set<Int32>()
        var restored = Set<Int32>()
        /// Records of the decisions topic still to read, per partition being restored (once known).
        var remaining: [Int32: Int64] = [:]
    }

    private let state = Mutex(State())
    /// A stopping instance takes no more traffic: it reports not ready from the moment its stop begins.
    private let stop: StopBudget

    public init(stop: StopBudget) { self.stop = stop }

    func assigning(_ partitions: [Int32]) { state.withLock { $0.assigned.formUnion(partitions) } }
    func restoring(remaining: [Int32: Int64]) {
        state.withLock { $0.remaining.merge(remaining) { $1 } }
    }
    func restored(_ partitions: [Int32]) {
        state.withLock {
            $0.restored.formUnion(partitions)
            for partition in partitions { $0.remaining[partition] = nil }
        }
    }
    func revoked(_ partitions: [Int32]) {
        state.withLock {
            $0.assigned.subtract(partitions)
            $0.restored.subtract(partitions)
            for partition in partitions { $0.remaining[partition] = nil }
        }
    }

    public struct Snapshot: Sendable, Equatable {
        public var ready: Bool
        public var assigned: [Int32]
        public var restoring: [Int32]
        /// Records of the decisions topic still to read for the partitions restoring, once the restore knows.
        public var recordsLeft: Int64?
        public var stopping: Bool

        /// Why the instance is not ready, or which partitions it serves.
        public var explanation: String {
            if ready { return "ready: partitions \(assigned)" }
            if stopping { return "not ready: stopping" }
            if assigned.isEmpty { return "not ready: no partitions assigned" }
            let left = recordsLeft.map { ", \($0) records left to read" } ?? ""
            return "not ready: restoring partitions \(restoring)\(left)"
        }
    }

    public var snapshot: Snapshot {
        let stopping = stop.isStarted
        return state.withLock { s in
            let restoring = s.assigned.subtracting(s.restored)
            let known = restoring.compactMap { s.remaining[$0] }
            return Snapshot(
                ready: !stopping && !s.assigned.isEmpty && s.assigned.isSubset(of: s.restored),
                assigned: s.assigned.sorted(), restoring: restoring.sorted(),
                recordsLeft: known.isEmpty ? nil : known.reduce(0, +), stopping: stopping)
        }
    }
}
