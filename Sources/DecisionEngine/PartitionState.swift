import DecisionCore
import WireFormat

/// What one input partition remembers: the decisions it has made (for deduplication, with retention and
/// a cap), the recent runs of each workflow (for regressions) and each workflow's variants (3.3). Owned by one ``DecisionStateStore``
/// partition, or by one `score` invocation; not shared.
public struct PartitionState: Sendable, Equatable {
    /// How long a decision blocks its duplicates, in milliseconds; `nil` keeps them until the cap.
    public let retentionMs: Int64?
    /// The most decision ids kept; the oldest go first beyond it.
    public let capacity: Int
    public let historyWindow: Int
    /// Runs kept per variant (`variant_window`).
    public let variantWindow: Int
    /// The most workflows whose history is kept; beyond it the least recently decided tenth is forgotten.
    public let maximumWorkflows: Int

    // Internal, not private: the checkpoint coding (PartitionState+Checkpoint.swift) writes and reads them.
    var decided: Set<DecisionKey> = []
    /// Decision ids in the order they were made, for expiry and the cap; the same ids as `decided`.
    var order = FIFOQueue<Decided>()
    var workflows: [String: WorkflowState] = [:]
    var decisionsRecorded = 0
    /// Input offsets whose dead letter is written, oldest first, at most `capacity` of them; the same
    /// offsets as `deadLettered`.
    var deadLettered: Set<Int64> = []
    var deadLetterOrder = FIFOQueue<Int64>()

    /// One decision id and when it was made.
    struct Decided: Sendable, Equatable {
        var key: DecisionKey
        var atMs: Int64
    }

    /// What is kept of one workflow, forgotten together.
    struct WorkflowState: Sendable, Equatable {
        var history: WorkflowHistory
        var variants = VariantTable()
        /// The partition's decision count when the workflow was last decided, for forgetting.
        var lastDecision = 0
    }

    public init(
        retentionMs: Int64?, capacity: Int, historyWindow: Int, variantWindow: Int = VariantRules().window,
        maximumWorkflows: Int = 100_000
    ) {
        self.retentionMs = retentionMs
        self.capacity = max(1, capacity)
        self.historyWindow = historyWindow
        self.variantWindow = variantWindow
        self.maximumWorkflows = max(1, maximumWorkflows)
    }

    /// The state the rules and the service's state settings call for: the history and variant windows
    /// come from the rules; every holder of state (the store, `score`, tests) sizes it here.
    public init(rules: ScoringRules, retentionMs: Int64?, capacity: Int) {
        self.init(
            retentionMs: retentionMs, capacity: capacity, historyWindow: rules.history.baselineWindow,
            variantWindow: rules.variants.window)
    }

    public var decisionCount: Int { decided.count }
    public var workflowCount: Int { workflows.count }

    public func contains(_ key: DecisionKey) -> Bool { decided.contains(key) }

    public func baseline(for workflowID: String) -> [BaselinePoint] { workflows[workflowID]?.history.points ?? [] }

    public func variants(of workflowID: String) -> VariantTable { workflows[workflowID]?.variants ?? VariantTable() }

    /// Records a decision: its id blocks duplicates, its run joins the workflow's history and, with a
    /// variant, that variant's window (``VariantTable/record(_:run:window:baseline:)``).
    public mutating func record(
        _ key: DecisionKey, workflowID: String, point: BaselinePoint, variant: (name: String, run: VariantRun)? = nil,
        baseline: VariantTable.BaselineSource = .lastDecided, atMs: Int64
    ) {
        guard decided.insert(key).inserted else { return }
        order.append(Decided(key: key, atMs: atMs))
        decisionsRecorded += 1
        let window = historyWindow
        let variantWindow = variantWindow
        let decisions = decisionsRecorded
        modifyWorkflow(workflowID, historyWindow: window) { workflow in
            workflow.history.append(point)
            if let variant {
                workflow.variants.record(
                    variant.name, run: variant.run, window: variantWindow, baseline: baseline)
            }
            workflow.lastDecision = decisions
        }
        if workflows.count > maximumWorkflows { forgetLeastRecentWorkflows() }
        while decided.count > capacity { dropOldest() }
    }

    /// Whether the message at `offset` of this partition already has its dead letter on the DLQ.
    public func hasDeadLetter(forOffset offset: Int64) -> Bool { deadLettered.contains(offset) }

    public var deadLetterCount: Int { deadLettered.count }

    /// Remembers that the message at `offset` has its dead letter (written now, or read back from the DLQ);
    /// beyond `capacity` the oldest is forgotten.
    public mutating func recordDeadLetter(forOffset offset: Int64) {
        guard deadLettered.insert(offset).inserted else { return }
        deadLetterOrder.append(offset)
        while deadLettered.count > capacity, let oldest = deadLetterOrder.removeFirst() {
            deadLettered.remove(oldest)
        }
    }

    /// Records a decision read back from the decisions topic, made at `atMs`, exactly as deciding it did
    /// (its variant keeps the baseline the decision names).
    public mutating func restore(_ record: DecisionRecord, atMs: Int64) {
        self.record(
            record.decisionID, workflowID: record.workflowID, point: record.point,
            variant: record.variant.map { ($0.name, $0.run) }, baseline: .recorded(record.variant?.baseline),
            atMs: atMs)
    }

    /// ``restore(_:atMs:)`` when the retention still keeps a decision made at `atMs` (``retains(decidedAtMs:nowMs:)``).
    public mutating func restoreIfRetained(_ record: DecisionRecord, atMs: Int64, nowMs: Int64) {
        if retains(decidedAtMs: atMs, nowMs: nowMs) { restore(record, atMs: atMs) }
    }

    /// Whether a decision made at `atMs` still blocks its duplicates at `nowMs`: the one retention rule,
    /// for expiry and for restore.
    public func retains(decidedAtMs atMs: Int64, nowMs: Int64) -> Bool {
        guard let retentionMs else { return true }
        return atMs >= nowMs - retentionMs
    }

    /// In-place access, so the workflow's arrays are not copied on every decision.
    private mutating func modifyWorkflow(
        _ workflowID: String, historyWindow: Int, _ body: (inout WorkflowState) -> Void
    ) {
        body(&workflows[workflowID, default: WorkflowState(history: WorkflowHistory(window: historyWindow))])
    }

    /// Forgets decisions older than the retention, measured from `nowMs`.
    public mutating func expire(nowMs: Int64) {
        guard retentionMs != nil else { return }
        while let oldest = order.first, !retains(decidedAtMs: oldest.atMs, nowMs: nowMs) { dropOldest() }
    }

    private mutating func forgetLeastRecentWorkflows() {
        let victims = workflows.sorted { $0.value.lastDecision < $1.value.lastDecision }.prefix(
            max(1, maximumWorkflows / 10))
        for victim in victims { workflows[victim.key] = nil }
    }

    private mutating func dropOldest() {
        if let oldest = order.removeFirst() { decided.remove(oldest.key) }
    }
}
