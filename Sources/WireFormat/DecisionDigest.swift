import DecisionCore

/// What a reader of the decisions topic shows of one decision (`demo`'s summary), read by the same member
/// names the encoder writes (``DecisionField``): a reader of ours never spells a member itself.
public struct DecisionDigest: Sendable, Equatable {
    public struct Finding: Sendable, Equatable {
        public var code: String
        public var observed: Double?
        /// The threshold of a reason, the baseline mean of a regression.
        public var reference: Double?
    }

    public struct Comparison: Sendable, Equatable {
        public var variant: String
        public var baselineVariant: String?
        public var verdict: String
        public var successRatePValue: Double?
        public var latencyRatio: Double?
    }

    public var workflowID: String
    public var runID: String
    public var shouldOptimize: Bool
    public var strategy: String?
    public var reasons: [Finding]
    public var regressions: [Finding]
    public var variant: String?
    public var comparison: Comparison?

    /// The digest of a decision's JSON; `nil` for anything that is not a decision of this schema.
    public static func parse(_ bytes: [UInt8]) -> DecisionDigest? {
        guard case let .object(decision)? = try? JSONParser.parse(bytes),
            decision[DecisionField.schema] == .string(DecisionEncoder.schema),
            case let .string(workflowID)? = decision[DecisionField.workflowID],
            case let .string(runID)? = decision[DecisionField.runID],
            case let .bool(shouldOptimize)? = decision[DecisionField.shouldOptimize]
        else { return nil }
        return DecisionDigest(
            workflowID: workflowID, runID: runID, shouldOptimize: shouldOptimize,
            strategy: string(decision[DecisionField.strategy]),
            reasons: findings(decision[DecisionField.reasons], reference: DecisionField.Finding.threshold),
            regressions: findings(decision[DecisionField.regressions], reference: DecisionField.Finding.baseline),
            variant: string(decision[DecisionField.variant]),
            comparison: comparison(decision[DecisionField.variantComparison]))
    }

    private static func string(_ value: JSONValue?) -> String? {
        if case let .string(text)? = value { return text }
        return nil
    }

    private static func number(_ value: JSONValue?) -> Double? {
        switch value {
        case let .double(number)?: number
        case let .integer(number)?: Double(number)
        default: nil
        }
    }

    private static func findings(_ value: JSONValue?, reference: String) -> [Finding] {
        guard case let .array(elements)? = value else { return [] }
        return elements.compactMap { element in
            guard case let .object(finding) = element, let code = string(finding[DecisionField.Finding.code]) else {
                return nil
            }
            return Finding(
                code: code, observed: number(finding[DecisionField.Finding.observed]),
                reference: number(finding[reference]))
        }
    }

    private static func comparison(_ value: JSONValue?) -> Comparison? {
        guard case let .object(c)? = value, let variant = string(c[DecisionField.Comparison.variant]),
            let verdict = string(c[DecisionField.Comparison.verdict])
        else { return nil }
        var pValue: Double?
        var ratio: Double?
        if case let .object(rate)? = c[DecisionField.Comparison.successRate] {
            pValue = number(rate[DecisionField.Comparison.pValue])
        }
        if case let .object(mean)? = c[DecisionField.Comparison.avgResponseTimeMs] {
            ratio = number(mean[DecisionField.Comparison.ratio])
        }
        return Comparison(
            variant: variant, baselineVariant: string(c[DecisionField.Comparison.baselineVariant]), verdict: verdict,
            successRatePValue: pValue, latencyRatio: ratio)
    }
}
