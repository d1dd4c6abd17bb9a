/// The legacy `baseline_metrics` dict (contract section 2.3): what old clients still send.
public struct LegacyBaselineMetrics: Sendable, Equatable {
    public var workflowID: String?
    public var runID: String?
    public var totalTests: Int?
    public var successRate: Double
    /// Seconds.
    public var avgResponseTime: Double?
    public var totalTokens: Int?
    public var avgTokens: Double?
    public var totalCost: Double?
    public var avgCost: Double?

    public init(
        workflowID: String? = nil, runID: String? = nil, totalTests: Int? = nil, successRate: Double,
        avgResponseTime: Double? = nil, totalTokens: Int? = nil, avgTokens: Double? = nil,
        totalCost: Double? = nil, avgCost: Double? = nil
    ) {
        self.workflowID = workflowID
        self.runID = runID
        self.totalTests = totalTests
        self.successRate = successRate
        self.avgResponseTime = avgResponseTime
        self.totalTokens = totalTokens
        self.avgTokens = avgTokens
        self.totalCost = totalCost
        self.avgCost = avgCost
    }
}

extension TestExecutionReport {
    /// The seed's `_convert_legacy_baseline_metrics`, exactly: successful tests are
    /// `round(total × success_rate)` with Python's round-half-to-even, and the rate is recomputed from them.
    /// The metrics and the report are validated by the wire format (`TestExecutionReport.validated(legacy:)`).
    public init(legacy: LegacyBaselineMetrics) {
        let total = legacy.totalTests ?? 1
        precondition(
            (0...1).contains(legacy.successRate) && (1...(1 << 53)).contains(total),
            "legacy metrics are converted once validated")
        let successful = Int((Double(total) * legacy.successRate).rounded(.toNearestOrEven))
        self.init(
            workflowID: legacy.workflowID ?? "unknown",
            runID: legacy.runID ?? "legacy",
            totalTests: total,
            successfulTests: successful,
            failedTests: total - successful,
            successRate: Double(successful) / Double(total),
            avgResponseTimeMs: (legacy.avgResponseTime ?? 0) * 1000,
            totalTokens: legacy.totalTokens ?? 0,
            avgTokensPerRequest: legacy.avgTokens ?? 0,
            totalCost: legacy.totalCost ?? 0,
            costPerRequest: legacy.avgCost ?? 0)
    }
}
