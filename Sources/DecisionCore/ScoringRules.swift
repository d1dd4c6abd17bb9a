/// The settings of per-workflow history and regression detection (contract section 3.2).
public struct HistoryRules: Sendable, Equatable {
    public var baselineWindow = 20
    public var baselineMinRuns = 5
    public var successRateDrop = 0.10
    public var latencyFactor = 1.5
    public var costFactor = 1.5
    public var triggerOnRegression = false

    public init() {}

    /// The longest history the rules may ask for, which bounds the state kept per workflow.
    public static let maximumWindow = 1000
}

/// The configurable thresholds of the decision (contract section 3), defaulting to the seed's values.
public struct ScoringRules: Sendable, Equatable {
    public var optimizationThreshold = 80.0
    public var criticalIssueThreshold = 1
    public var clarityEfficiencyGap = 10.0
    public var lowScoreThreshold = 70.0
    public var minSuccessRate = 0.8
    public var maxAcceptableLatencyMs = 5000.0
    public var maxCostPerRequest = 0.1
    public var maxTimeoutErrorRate = 0.05
    public var errorPatterns = ErrorPatterns()
    public var history = HistoryRules()
    public var variants = VariantRules()

    public init() {}

    /// A rules value out of its range, named by its key in the rules file.
    public struct RangeError: Error, Sendable, Equatable, CustomStringConvertible {
        public var key: String
        public var rule: String
        public var description: String { "\(key) \(rule)" }
    }

    /// Checks every range; the first value out of range is reported with its key.
    public func validate() throws(RangeError) {
        func check(_ holds: Bool, _ key: String, _ rule: String) throws(RangeError) {
            if !holds { throw RangeError(key: key, rule: rule) }
        }
        func inRange(_ value: Double, _ range: ClosedRange<Double>) -> Bool { value.isFinite && range.contains(value) }
        let limit = Double.greatestFiniteMagnitude
        try check(inRange(optimizationThreshold, 0...100), "optimization_threshold", "must be between 0 and 100")
        try check(criticalIssueThreshold >= 1, "critical_issue_threshold", "must be ≥ 1")
        try check(inRange(clarityEfficiencyGap, 0...100), "clarity_efficiency_gap", "must be between 0 and 100")
        try check(inRange(lowScoreThreshold, 0...100), "low_score_threshold", "must be between 0 and 100")
        try check(inRange(minSuccessRate, 0...1), "min_success_rate", "must be between 0 and 1")
        try check(
            inRange(maxAcceptableLatencyMs, 0...limit), "max_acceptable_latency_ms", "must be a finite number ≥ 0")
        try check(inRange(maxCostPerRequest, 0...limit), "max_cost_per_request", "must be a finite number ≥ 0")
        try check(inRange(maxTimeoutErrorRate, 0...1), "max_timeout_error_rate", "must be between 0 and 1")
        for (key, patterns) in [
            ("error_patterns.llm", errorPatterns.llm), ("error_patterns.validation", errorPatterns.validation),
        ] {
            try check(!patterns.contains(where: \.isEmpty), key, "must not contain an empty pattern")
        }
        let h = history
        try check(
            (1...HistoryRules.maximumWindow).contains(h.baselineWindow), "baseline_window",
            "must be between 1 and \(HistoryRules.maximumWindow)")
        try check(
            (1...h.baselineWindow).contains(h.baselineMinRuns), "baseline_min_runs",
            "must be between 1 and baseline_window (\(h.baselineWindow))")
        try check(inRange(h.successRateDrop, 0...1), "success_rate_drop", "must be between 0 and 1")
        try check(inRange(h.latencyFactor, 1...limit), "latency_factor", "must be a finite number ≥ 1")
        try check(inRange(h.costFactor, 1...limit), "cost_factor", "must be a finite number ≥ 1")
        try check(
            (1...VariantRules.maximumWindow).contains(variants.window), "variant_window",
            "must be between 1 and \(VariantRules.maximumWindow)")
        try check(
            variants.alpha.isFinite && variants.alpha > 0 && variants.alpha < 1, "variant_alpha",
            "must be greater than 0 and less than 1")
    }

    /// Every effective value as `key=value` lines in key order: the input of the fingerprint.
    public var canonicalText: String {
        func list(_ values: [String]) -> String {
            "["
                + values.map {
                    "\""
                        + $0.unicodeScalars.map {
                            $0.isASCII && $0 != "\"" && $0 != "\\" && $0.value >= 0x20
                                ? String($0) : "\\u{\(String($0.value, radix: 16))}"
                        }.joined() + "\""
                }.joined(separator: ",") + "]"
        }
        let lines = [
            "baseline_min_runs=\(history.baselineMinRuns)",
            "baseline_window=\(history.baselineWindow)",
            "clarity_efficiency_gap=\(clarityEfficiencyGap)",
            "cost_factor=\(history.costFactor)",
            "critical_issue_threshold=\(criticalIssueThreshold)",
            "error_patterns.llm=\(list(errorPatterns.llm))",
            "error_patterns.validation=\(list(errorPatterns.validation))",
            "latency_factor=\(history.latencyFactor)",
            "low_score_threshold=\(lowScoreThreshold)",
            "max_acceptable_latency_ms=\(maxAcceptableLatencyMs)",
            "max_cost_per_request=\(maxCostPerRequest)",
            "max_timeout_error_rate=\(maxTimeoutErrorRate)",
            "min_success_rate=\(minSuccessRate)",
            "optimization_threshold=\(optimizationThreshold)",
            "success_rate_drop=\(history.successRateDrop)",
            "trigger_on_regression=\(history.triggerOnRegression)",
        ]
        // Variant keys join the text only when they differ from their defaults, so rules written before
        // they existed keep their fingerprint and an upgrade decides no run twice (contract section 3.3).
        let variantLines =
            variants == VariantRules()
            ? []
            : [
                "variant_alpha=\(variants.alpha)",
                "variant_window=\(variants.window)",
            ]
        return "optimizer.rules/v1\n" + (lines + variantLines).joined(separator: "\n") + "\n"
    }

    /// A stable hash of the effective values: `sha256:` and the first 16 hex digits of SHA-256 over
    /// ``canonicalText``. Equal rules, however written (defaults left out, `80` or `80.0`), share it.
    public var fingerprint: String {
        "sha256:" + hexString(SHA256.hash(canonicalText.utf8).prefix(8))
    }
}
