/// What the history keeps of a decided run: the three metrics regressions are measured on.
public struct BaselinePoint: Sendable, Equatable {
    public var successRate: Double
    public var avgResponseTimeMs: Double
    public var costPerRequest: Double

    public init(successRate: Double, avgResponseTimeMs: Double, costPerRequest: Double) {
        self.successRate = successRate
        self.avgResponseTimeMs = avgResponseTimeMs
        self.costPerRequest = costPerRequest
    }

    public init(_ report: TestExecutionReport) {
        self.init(
            successRate: report.successRate, avgResponseTimeMs: report.avgResponseTimeMs,
            costPerRequest: report.costPerRequest)
    }
}

public enum RegressionCode: String, Sendable, CaseIterable {
    case successRateRegression = "success_rate_regression"
    case latencyRegression = "latency_regression"
    case costRegression = "cost_regression"
}

public struct Regression: Sendable, Equatable {
    public var code: RegressionCode
    public var observed: Double
    /// The mean of the kept runs.
    public var baseline: Double
    public var message: String
}

extension HistoryRules {
    /// The regressions of `report` against the arithmetic means of `baseline` (contract section 3.2);
    /// none while fewer than `baselineMinRuns` runs are kept.
    public func regressions(of report: TestExecutionReport, against baseline: [BaselinePoint]) -> [Regression] {
        guard baseline.count >= baselineMinRuns, !baseline.isEmpty else { return [] }
        let count = Double(baseline.count)
        let meanSuccess = baseline.reduce(0) { $0 + $1.successRate } / count
        let meanLatency = baseline.reduce(0) { $0 + $1.avgResponseTimeMs } / count
        let meanCost = baseline.reduce(0) { $0 + $1.costPerRequest } / count
        var found: [Regression] = []
        if report.successRate < meanSuccess - successRateDrop {
            found.append(
                Regression(
                    code: .successRateRegression, observed: report.successRate, baseline: meanSuccess,
                    message:
                        Sentence(
                            "success rate \(report.successRate) is more than \(successRateDrop) below the mean \(meanSuccess) of the last \(baseline.count) runs"
                        ).text
                ))
        }
        if meanLatency > 0 && report.avgResponseTimeMs > meanLatency * latencyFactor {
            found.append(
                Regression(
                    code: .latencyRegression, observed: report.avgResponseTimeMs, baseline: meanLatency,
                    message:
                        Sentence(
                            "average response time \(report.avgResponseTimeMs) ms is more than \(latencyFactor)× the mean \(meanLatency) ms of the last \(baseline.count) runs"
                        ).text
                ))
        }
        if meanCost > 0 && report.costPerRequest > meanCost * costFactor {
            found.append(
                Regression(
                    code: .costRegression, observed: report.costPerRequest, baseline: meanCost,
                    message:
                        Sentence(
                            "cost per request \(report.costPerRequest) USD is more than \(costFactor)× the mean \(meanCost) USD of the last \(baseline.count) runs"
                        ).text
                ))
        }
        return found
    }
}

/// The last `window` decided runs of one workflow, oldest first.
public struct WorkflowHistory: Sendable, Equatable {
    public internal(set) var points: [BaselinePoint] = []
    public let window: Int

    public init(window: Int) { self.window = max(1, window) }

    public mutating func append(_ point: BaselinePoint) {
        if points.count == window { points.removeFirst() }
        points.append(point)
    }
}
