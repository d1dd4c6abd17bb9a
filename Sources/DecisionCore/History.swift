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
    /// The rule's margin: the success rate's allowed drop, or the latency's or cost's factor.
    public var margin: Double
    /// How many kept runs the mean is of.
    public var runs: Int

    public init(code: RegressionCode, observed: Double, baseline: Double, margin: Double, runs: Int) {
        self.code = code
        self.observed = observed
        self.baseline = baseline
        self.margin = margin
        self.runs = runs
    }

    /// The regression in words, made from its code and numbers.
    public var message: String { SentenceWriter.string(write) }

    /// Lends the message's UTF-8 to `body` from the stack (the encoder writes it without a `String`).
    public func withMessage(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        SentenceWriter.withSentence(write, body)
    }

    private func write(_ s: inout SentenceWriter) {
        let (subject, unit, beyond): (StaticString, StaticString, StaticString) =
            switch code {
            case .successRateRegression: ("success rate ", "", " below the mean ")
            case .latencyRegression: ("average response time ", " ms", "× the mean ")
            case .costRegression: ("cost per request ", " USD", "× the mean ")
            }
        s.append(subject)
        s.append(observed)
        s.append(unit)
        s.append(" is more than ")
        s.append(margin)
        s.append(beyond)
        s.append(baseline)
        s.append(unit)
        s.append(" of the last ")
        s.append(runs)
        s.append(" runs")
    }
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
                    margin: successRateDrop, runs: baseline.count))
        }
        if meanLatency > 0 && report.avgResponseTimeMs > meanLatency * latencyFactor {
            found.append(
                Regression(
                    code: .latencyRegression, observed: report.avgResponseTimeMs, baseline: meanLatency,
                    margin: latencyFactor, runs: baseline.count))
        }
        if meanCost > 0 && report.costPerRequest > meanCost * costFactor {
            found.append(
                Regression(
                    code: .costRegression, observed: report.costPerRequest, baseline: meanCost, margin: costFactor,
                    runs: baseline.count))
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
