/// Why a run should be optimized: the criteria of contract section 3.1, in the order they are checked.
public enum ReasonCode: String, Sendable, CaseIterable {
    case lowOverallScore = "low_overall_score"
    case criticalIssues = "critical_issues"
    case lowSuccessRate = "low_success_rate"
    case highLatency = "high_latency"
    case highCost = "high_cost"
    case excessiveTimeouts = "excessive_timeouts"

    /// How many criteria there are: at most one reason each.
    static let criterionCount = allCases.count
}

public struct Reason: Sendable, Equatable {
    public var code: ReasonCode
    public var observed: Double
    public var threshold: Double

    public init(code: ReasonCode, observed: Double, threshold: Double) {
        self.code = code
        self.observed = observed
        self.threshold = threshold
    }

    /// The reason in words, made from its code and numbers.
    public var message: String { SentenceWriter.string(write) }

    /// Lends the message's UTF-8 to `body` from the stack (the encoder writes it without a `String`).
    public func withMessage(_ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        SentenceWriter.withSentence(write, body)
    }

    private func write(_ s: inout SentenceWriter) {
        let (subject, comparison, unit): (StaticString, StaticString, StaticString) =
            switch code {
            case .lowOverallScore: ("overall score ", " is below the optimization threshold ", "")
            // A count, written as whole numbers are (`2`), without trapping on a value that is not one.
            case .criticalIssues where observed == 1: ("", " critical issue reaches the threshold of ", "")
            case .criticalIssues: ("", " critical issues reach the threshold of ", "")
            case .lowSuccessRate: ("success rate ", " is below the minimum ", "")
            case .highLatency: ("average response time ", " ms exceeds the maximum ", " ms")
            case .highCost: ("cost per request ", " USD exceeds the maximum ", " USD")
            case .excessiveTimeouts: ("timeout rate ", " exceeds the maximum ", "")
            }
        s.append(subject)
        s.append(observed)
        s.append(comparison)
        s.append(threshold)
        s.append(unit)
    }
}

/// The optimizer workers' strategies.
public enum Strategy: String, Sendable, CaseIterable {
    case clarityFocus = "clarity_focus"
    case efficiencyFocus = "efficiency_focus"
    case structureFocus = "structure_focus"
}

/// The outcome of the rules for one run, before it becomes a ``Decision``.
public struct Verdict: Sendable, Equatable {
    public var shouldOptimize: Bool
    public var strategy: Strategy?
    public var reasons: [Reason]
    public var regressions: [Regression]
}

extension ScoringRules {
    /// Every criterion that holds, in contract order: the seed's `should_optimize`, itemised.
    public func reasons(for report: TestExecutionReport, analysis: PromptAnalysis?) -> [Reason] {
        var reasons: [Reason] = []
        if let analysis {
            if analysis.overallScore < optimizationThreshold {
                Self.add(
                    Reason(
                        code: .lowOverallScore, observed: analysis.overallScore, threshold: optimizationThreshold),
                    to: &reasons)
            }
            let critical = analysis.criticalIssueCount
            if critical >= criticalIssueThreshold {
                Self.add(
                    Reason(
                        code: .criticalIssues, observed: Double(critical), threshold: Double(criticalIssueThreshold)),
                    to: &reasons)
            }
        }
        if report.successRate < minSuccessRate {
            Self.add(
                Reason(
                    code: .lowSuccessRate, observed: report.successRate, threshold: minSuccessRate), to: &reasons)
        }
        if report.avgResponseTimeMs > maxAcceptableLatencyMs {
            Self.add(
                Reason(
                    code: .highLatency, observed: report.avgResponseTimeMs, threshold: maxAcceptableLatencyMs),
                to: &reasons)
        }
        if report.costPerRequest > maxCostPerRequest {
            Self.add(
                Reason(
                    code: .highCost, observed: report.costPerRequest, threshold: maxCostPerRequest), to: &reasons)
        }
        let timeoutRate = report.timeoutErrorRate
        if timeoutRate > maxTimeoutErrorRate {
            Self.add(
                Reason(
                    code: .excessiveTimeouts, observed: timeoutRate, threshold: maxTimeoutErrorRate), to: &reasons)
        }
        return reasons
    }

    /// Appends a reason, making room for every criterion's at the first: one allocation for a run that meets
    /// several criteria (growing the array one reason at a time took two), none for a run that meets none.
    private static func add(_ reason: Reason, to reasons: inout [Reason]) {
        if reasons.isEmpty { reasons.reserveCapacity(ReasonCode.criterionCount) }
        reasons.append(reason)
    }

    /// The seed's `select_strategy`, for a run that should be optimized.
    public func strategy(for report: TestExecutionReport, analysis: PromptAnalysis?, reasons: [Reason]) -> Strategy {
        if report.timeoutErrorRate > 0.1 { return .clarityFocus }
        guard let analysis else {
            let costly = reasons.contains { $0.code == .highLatency || $0.code == .highCost }
            return costly ? .efficiencyFocus : .clarityFocus
        }
        let clarity = analysis.clarityScore
        let efficiency = analysis.efficiencyScore
        if efficiency < lowScoreThreshold { return .efficiencyFocus }
        if clarity < efficiency - clarityEfficiencyGap { return .clarityFocus }
        if efficiency < clarity - clarityEfficiencyGap { return .efficiencyFocus }
        if clarity < lowScoreThreshold && efficiency < lowScoreThreshold { return .structureFocus }
        return .clarityFocus
    }

    /// Reasons, regressions against `baseline` and the strategy: everything the rules say about one run.
    public func verdict(for report: TestExecutionReport, analysis: PromptAnalysis?, baseline: [BaselinePoint] = [])
        -> Verdict
    {
        let reasons = reasons(for: report, analysis: analysis)
        let regressions = history.regressions(of: report, against: baseline)
        let shouldOptimize = !reasons.isEmpty || (history.triggerOnRegression && !regressions.isEmpty)
        return Verdict(
            shouldOptimize: shouldOptimize,
            strategy: shouldOptimize ? strategy(for: report, analysis: analysis, reasons: reasons) : nil,
            reasons: reasons,
            regressions: regressions)
    }
}
