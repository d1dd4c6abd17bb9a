/// Every key of the rules file (contract section 3), in the order the file's checks report them. Parsing,
/// range checks and the fingerprint's canonical text all switch over this one list, so a new key is one
/// case the compiler then asks for everywhere.
public enum RulesKey: String, CaseIterable, Sendable {
    case optimizationThreshold = "optimization_threshold"
    case criticalIssueThreshold = "critical_issue_threshold"
    case clarityEfficiencyGap = "clarity_efficiency_gap"
    case lowScoreThreshold = "low_score_threshold"
    case minSuccessRate = "min_success_rate"
    case maxAcceptableLatencyMs = "max_acceptable_latency_ms"
    case maxCostPerRequest = "max_cost_per_request"
    case maxTimeoutErrorRate = "max_timeout_error_rate"
    case errorPatterns = "error_patterns"
    case baselineWindow = "baseline_window"
    case baselineMinRuns = "baseline_min_runs"
    case successRateDrop = "success_rate_drop"
    case latencyFactor = "latency_factor"
    case costFactor = "cost_factor"
    case triggerOnRegression = "trigger_on_regression"
    case variantWindow = "variant_window"
    case variantAlpha = "variant_alpha"

    /// What a key's value is.
    public enum Kind: Sendable {
        case number
        case integer
        case flag
        /// A mapping with the `llm` and `validation` lists.
        case patterns
    }

    public var kind: Kind {
        switch self {
        case .optimizationThreshold, .clarityEfficiencyGap, .lowScoreThreshold, .minSuccessRate,
            .maxAcceptableLatencyMs, .maxCostPerRequest, .maxTimeoutErrorRate, .successRateDrop, .latencyFactor,
            .costFactor, .variantAlpha:
            .number
        case .criticalIssueThreshold, .baselineWindow, .baselineMinRuns, .variantWindow: .integer
        case .triggerOnRegression: .flag
        case .errorPatterns: .patterns
        }
    }

    /// Whether the key belongs to the variant rules, which join the canonical text only when they differ
    /// from their defaults (contract section 3.3).
    public var isVariantRule: Bool { self == .variantWindow || self == .variantAlpha }
}

/// One rules value, typed by its key's ``RulesKey/Kind``.
public enum RulesValue: Sendable, Equatable {
    case number(Double)
    case integer(Int)
    case flag(Bool)
    case patterns(ErrorPatterns)
}

extension ScoringRules {
    /// The value of one key; setting a value of another kind than the key's is a programming error.
    public subscript(key: RulesKey) -> RulesValue {
        get {
            switch key {
            case .optimizationThreshold: .number(optimizationThreshold)
            case .criticalIssueThreshold: .integer(criticalIssueThreshold)
            case .clarityEfficiencyGap: .number(clarityEfficiencyGap)
            case .lowScoreThreshold: .number(lowScoreThreshold)
            case .minSuccessRate: .number(minSuccessRate)
            case .maxAcceptableLatencyMs: .number(maxAcceptableLatencyMs)
            case .maxCostPerRequest: .number(maxCostPerRequest)
            case .maxTimeoutErrorRate: .number(maxTimeoutErrorRate)
            case .errorPatterns: .patterns(errorPatterns)
            case .baselineWindow: .integer(history.baselineWindow)
            case .baselineMinRuns: .integer(history.baselineMinRuns)
            case .successRateDrop: .number(history.successRateDrop)
            case .latencyFactor: .number(history.latencyFactor)
            case .costFactor: .number(history.costFactor)
            case .triggerOnRegression: .flag(history.triggerOnRegression)
            case .variantWindow: .integer(variants.window)
            case .variantAlpha: .number(variants.alpha)
            }
        }
        set {
            switch (key, newValue) {
            case let (.optimizationThreshold, .number(value)): optimizationThreshold = value
            case let (.criticalIssueThreshold, .integer(value)): criticalIssueThreshold = value
            case let (.clarityEfficiencyGap, .number(value)): clarityEfficiencyGap = value
            case let (.lowScoreThreshold, .number(value)): lowScoreThreshold = value
            case let (.minSuccessRate, .number(value)): minSuccessRate = value
            case let (.maxAcceptableLatencyMs, .number(value)): maxAcceptableLatencyMs = value
            case let (.maxCostPerRequest, .number(value)): maxCostPerRequest = value
            case let (.maxTimeoutErrorRate, .number(value)): maxTimeoutErrorRate = value
            case let (.errorPatterns, .patterns(value)): errorPatterns = value
            case let (.baselineWindow, .integer(value)): history.baselineWindow = value
            case let (.baselineMinRuns, .integer(value)): history.baselineMinRuns = value
            case let (.successRateDrop, .number(value)): history.successRateDrop = value
            case let (.latencyFactor, .number(value)): history.latencyFactor = value
            case let (.costFactor, .number(value)): history.costFactor = value
            case let (.triggerOnRegression, .flag(value)): history.triggerOnRegression = value
            case let (.variantWindow, .integer(value)): variants.window = value
            case let (.variantAlpha, .number(value)): variants.alpha = value
            default: preconditionFailure("rules key \(key.rawValue) set to \(newValue)")
            }
        }
    }
}
