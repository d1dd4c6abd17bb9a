/// Why a run should be optimized: the criteria of contract section 3.1, in the order they are checked.
public enum ReasonCode: String, Sendable, CaseIterable {
    case lowOverallScore = "low_overall_score"
    case criticalIssues = "critical_issues"
    case lowSuccessRate = "low_success_rate"
    case highLatency = "high_latency"
    case highCost = "high_cost"
    case excessiveTimeouts = "excessive_timeouts"
}

public struct Reason: Sendable, Equatable {
    public var code: ReasonCode
    public var observed: Double
    public var threshold: Double
    public var message: String
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
                reasons.append(
                    Reason(
                        code: .lowOverallScore, observed: analysis.overallScore, threshold: optimizationThreshold,
                        message:
                            Sentence(
                                "overall score \(analysis.overallScore) is below the optimization threshold \(optimizationThreshold)"
                            ).text
                    ))
            }
            let critical = analysis.criticalIssueCount
            if critical >= criticalIssueThreshold {
                reasons.append(
                    Reason(
                        code: .criticalIssues, observed: Double(critical), threshold: Double(criticalIssueThreshold),
                        message:
                            Sentence(
                                "\(critical) critical issue\(critical == 1 ? "" : "s") reach\(critical == 1 ? "es" : "") the threshold of \(criticalIssueThreshold)"
                            ).text
                    ))
            }
        }
        if report.successRate < minSuccessRate {
            reasons.append(
                Reason(
                    code: .lowSuccessRate, observed: report.successRate, threshold: minSuccessRate,
                    message:
                        Sentence("success rate \(report.successRate) is below the minimum \(minSuccessRate)").text
                ))
        }
        if report.avgResponseTimeMs > maxAcceptableLatencyMs {
            reasons.append(
                Reason(
                    code: .highLatency, observed: report.avgResponseTimeMs, threshold: maxAcceptableLatencyMs,
                    message:
                        Sentence(
                            "average response time \(report.avgResponseTimeMs) ms exceeds the maximum \(maxAcceptableLatencyMs) ms"
                        ).text
                ))
        }
        if report.costPerRequest > maxCostPerRequest {
            reasons.append(
                Reason(
                    code: .highCost, observed: report.costPerRequest, threshold: maxCostPerRequest,
                    message:
                        Sentence(
                            "cost per request \(report.costPerRequest) USD exceeds the maximum \(maxCostPerRequest) USD"
                        ).text
                ))
        }
        let timeoutRate = report.timeoutErrorRate
        if timeoutRate > maxTimeoutErrorRate {
            reasons.append(
                Reason(
                    code: .excessiveTimeouts, observed: timeoutRate, threshold: maxTimeoutErrorRate,
                    message:
                        Sentence("timeout rate \(timeoutRate) exceeds the maximum \(maxTimeoutErrorRate)").text
                ))
        }
        return reasons
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
