import DecisionCore

/// What an outcome keeps of a decision once its JSON is written: the id its record carries and what the
/// service counts. The decision itself (its report, reasons, source: some twenty references) ends where it
/// was encoded, so a batch's outcomes are small values that move through the pipeline without a
/// reference count per member at every hand-off.
public struct DecisionSummary: Sendable, Equatable {
    public var decisionID: DecisionKey
    public var shouldOptimize: Bool
    public var strategy: Strategy?
    /// In contract order; empty (no allocation) for a run without regressions.
    public var regressions: [RegressionCode]
    /// `nil` for a run without a variant.
    public var variantVerdict: VariantVerdict?

    public init(_ decision: Decision) {
        self.decisionID = decision.decisionID
        self.shouldOptimize = decision.verdict.shouldOptimize
        self.strategy = decision.verdict.strategy
        self.regressions = decision.verdict.regressions.map(\.code)
        self.variantVerdict = decision.variantComparison?.verdict
    }
}
