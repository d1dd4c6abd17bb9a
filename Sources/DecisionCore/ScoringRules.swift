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

    /// Checks every range, key by key in ``RulesKey`` order; the first value out of range is reported
    /// with its key.
    public func validate() throws(RangeError) {
        for key in RulesKey.allCases { try check(key) }
    }

    private func check(_ key: RulesKey) throws(RangeError) {
        func require(_ holds: Bool, _ rule: String, key name: String = key.rawValue) throws(RangeError) {
            if !holds { throw RangeError(key: name, rule: rule) }
        }
        func inRange(_ value: Double, _ range: ClosedRange<Double>) -> Bool { value.isFinite && range.contains(value) }
        let limit = Double.greatestFiniteMagnitude
        switch key {
        case .optimizationThreshold, .clarityEfficiencyGap, .lowScoreThreshold:
            guard case let .number(value) = self[key] else { return }
            try require(inRange(value, 0...100), "must be between 0 and 100")
        case .minSuccessRate, .maxTimeoutErrorRate, .successRateDrop:
            guard case let .number(value) = self[key] else { return }
            try require(inRange(value, 0...1), "must be between 0 and 1")
        case .maxAcceptableLatencyMs, .maxCostPerRequest:
            guard case let .number(value) = self[key] else { return }
            try require(inRange(value, 0...limit), "must be a finite number ≥ 0")
        case .latencyFactor, .costFactor:
            guard case let .number(value) = self[key] else { return }
            try require(inRange(value, 1...limit), "must be a finite number ≥ 1")
        case .criticalIssueThreshold:
            try require(criticalIssueThreshold >= 1, "must be ≥ 1")
        case .errorPatterns:
            try require(
                !errorPatterns.llm.contains(where: \.isEmpty), "must not contain an empty pattern",
                key: "error_patterns.llm")
            try require(
                !errorPatterns.validation.contains(where: \.isEmpty), "must not contain an empty pattern",
                key: "error_patterns.validation")
        case .baselineWindow:
            try require(
                (1...HistoryRules.maximumWindow).contains(history.baselineWindow),
                "must be between 1 and \(HistoryRules.maximumWindow)")
        case .baselineMinRuns:
            try require(
                (1...history.baselineWindow).contains(history.baselineMinRuns),
                "must be between 1 and baseline_window (\(history.baselineWindow))")
        case .triggerOnRegression:
            return
        case .variantWindow:
            try require(
                (1...VariantRules.maximumWindow).contains(variants.window),
                "must be between 1 and \(VariantRules.maximumWindow)")
        case .variantAlpha:
            try require(
                variants.alpha.isFinite && variants.alpha > 0 && variants.alpha < 1,
                "must be greater than 0 and less than 1")
        }
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
        // Variant keys join the text only when they differ from their defaults, so rules written before
        // they existed keep their fingerprint and an upgrade decides no run twice (contract section 3.3).
        let keys = RulesKey.allCases.filter { !$0.isVariantRule || variants != VariantRules() }
        let lines = keys.sorted { $0.rawValue < $1.rawValue }.flatMap { key -> [String] in
            switch self[key] {
            case let .number(value): ["\(key.rawValue)=\(value)"]
            case let .integer(value): ["\(key.rawValue)=\(value)"]
            case let .flag(value): ["\(key.rawValue)=\(value)"]
            case let .patterns(patterns):
                [
                    "\(key.rawValue).llm=\(list(patterns.llm))",
                    "\(key.rawValue).validation=\(list(patterns.validation))",
                ]
            }
        }
        return "optimizer.rules/v1\n" + lines.joined(separator: "\n") + "\n"
    }

    /// A stable hash of the effective values: `sha256:` and the first 16 hex digits of SHA-256 over
    /// ``canonicalText``. Equal rules, however written (defaults left out, `80` or `80.0`), share it.
    public var fingerprint: String {
        "sha256:" + hexString(Hashing.sha256(canonicalText.utf8).prefix(8))
    }
}
