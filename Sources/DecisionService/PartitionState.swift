import DecisionCore

/// What one input partition remembers: the decisions it has made (for deduplication, with retention and
/// a cap) and the recent runs of each workflow (for regressions). Owned by one ``DecisionStateStore``
/// partition, or by one `score` invocation; not shared.
public struct PartitionState: Sendable {
    /// How long a decision blocks its duplicates, in milliseconds; `nil` keeps them until the cap.
    public let retentionMs: Int64?
    /// The most decision ids kept; the oldest go first beyond it.
    public let capacity: Int
    public let historyWindow: Int
    /// The most workflows whose history is kept; beyond it the least recently decided tenth is forgotten.
    public let maximumWorkflows: Int

    private var decided: Set<DecisionKey> = []
    /// Decision ids in the order they were made, for expiry; `expiryStart` skips the expired prefix.
    private var order: [(key: DecisionKey, atMs: Int64)] = []
    private var expiryStart = 0
    private var histories: [String: (history: WorkflowHistory, lastDecision: Int)] = [:]
    private var decisionsRecorded = 0

    public init(retentionMs: Int64?, capacity: Int, historyWindow: Int, maximumWorkflows: Int = 100_000) {
        self.retentionMs = retentionMs
        self.capacity = max(1, capacity)
        self.historyWindow = historyWindow
        self.maximumWorkflows = max(1, maximumWorkflows)
    }

    public var decisionCount: Int { decided.count }
    public var workflowCount: Int { histories.count }

    public func contains(_ key: DecisionKey) -> Bool { decided.contains(key) }

    public func baseline(for workflowID: String) -> [BaselinePoint] { histories[workflowID]?.history.points ?? [] }

    /// Records a decision: its id blocks duplicates and its run joins the workflow's history.
    public mutating func record(_ key: DecisionKey, workflowID: String, point: BaselinePoint, atMs: Int64) {
        guard decided.insert(key).inserted else { return }
        order.append((key, atMs))
        decisionsRecorded += 1
        histories[workflowID, default: (WorkflowHistory(window: historyWindow), 0)].history.append(point)
        histories[workflowID]!.lastDecision = decisionsRecorded
        if histories.count > maximumWorkflows { forgetLeastRecentWorkflows() }
        while decided.count > capacity { dropOldest() }
    }

    /// Forgets decisions older than the retention, measured from `nowMs`.
    public mutating func expire(nowMs: Int64) {
        guard let retentionMs else { return }
        while expiryStart < order.count, order[expiryStart].atMs < nowMs - retentionMs { dropOldest() }
    }

    private mutating func forgetLeastRecentWorkflows() {
        let victims = histories.sorted { $0.value.lastDecision < $1.value.lastDecision }.prefix(max(1, maximumWorkflows / 10))
        for victim in victims { histories[victim.key] = nil }
    }

    private mutating func dropOldest() {
        guard expiryStart < order.count else { return }
        decided.remove(order[expiryStart].key)
        expiryStart += 1
        // Compact once the dead prefix outweighs the live part, keeping appends amortised O(1).
        if expiryStart > 1024 && expiryStart * 2 > order.count {
            order.removeFirst(expiryStart)
            expiryStart = 0
        }
    }
}
