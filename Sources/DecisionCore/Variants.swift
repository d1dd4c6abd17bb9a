#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The settings of variant comparison (contract section 3.3). Its thresholds for latency, cost and the
/// minimum number of runs are the history's (``HistoryRules``).
public struct VariantRules: Sendable, Equatable {
    /// How many of its most recent runs each variant keeps.
    public var window = 50
    /// The significance level of the success-rate test.
    public var alpha = 0.05

    public init() {}

    /// The longest window the rules may ask for.
    public static let maximumWindow = 1000
    /// Variants kept per workflow; a new one beyond it forgets the least recently decided.
    public static let maximumVariants = 8
    /// The longest variant name, in Unicode scalars; a longer one means "no variant".
    public static let maximumNameLength = 200

    /// The variant a message names, or `nil` for anything but a string of 1 to 200 Unicode scalars.
    public static func variantName(_ candidate: String?) -> String? {
        guard let candidate, !candidate.isEmpty else { return nil }
        var count = 0
        for _ in candidate.unicodeScalars {
            count += 1
            if count > maximumNameLength { return nil }
        }
        return candidate
    }
}

/// What a variant's window keeps of one decided run.
public struct VariantRun: Sendable, Equatable {
    public var successful: Int
    /// total_tests − cancelled_tests.
    public var completed: Int
    public var avgResponseTimeMs: Double
    public var costPerRequest: Double

    public init(successful: Int, completed: Int, avgResponseTimeMs: Double, costPerRequest: Double) {
        self.successful = successful
        self.completed = completed
        self.avgResponseTimeMs = avgResponseTimeMs
        self.costPerRequest = costPerRequest
    }

    public init(_ report: TestExecutionReport) {
        self.init(
            successful: report.successfulTests, completed: report.totalTests - report.cancelledTests,
            avgResponseTimeMs: report.avgResponseTimeMs, costPerRequest: report.costPerRequest)
    }
}

/// The last `capacity` runs of one variant, oldest first, in a ring.
public struct VariantWindow: Sendable, Equatable {
    var runs: [VariantRun] = []
    /// Where the oldest run is once the ring is full.
    var start = 0
    public let capacity: Int

    public init(capacity: Int) { self.capacity = max(1, capacity) }

    public var count: Int { runs.count }

    public mutating func append(_ run: VariantRun) {
        if runs.count < capacity {
            runs.append(run)
        } else {
            runs[start] = run
            start = (start + 1) % capacity
        }
    }

    /// The window's sums, adding oldest first so that the means do not depend on where the ring starts.
    var totals: Totals {
        var totals = Totals()
        for index in 0..<runs.count {
            let run = runs[(start + index) % runs.count]
            totals.successful += Double(run.successful)
            totals.completed += Double(run.completed)
            totals.latency += run.avgResponseTimeMs
            totals.cost += run.costPerRequest
        }
        totals.runs = runs.count
        return totals
    }

    struct Totals {
        var runs = 0
        // Counts are summed as Double: two windows of 1,000 runs of up to 2^53 tests each overflow Int64.
        var successful = 0.0
        var completed = 0.0
        var latency = 0.0
        var cost = 0.0

        var successRate: Double? { completed > 0 ? successful / completed : nil }
        var meanLatency: Double? { runs > 0 ? latency / Double(runs) : nil }
        var meanCost: Double? { runs > 0 ? cost / Double(runs) : nil }
    }
}

/// One workflow's variants (contract section 3.3): at most ``VariantRules/maximumVariants`` of them,
/// each with its window and the baseline variant it is compared against, and the last decided variant.
public struct VariantTable: Sendable, Equatable {
    struct Entry: Sendable, Equatable {
        var name: String
        var baseline: String?
        var window: VariantWindow
        var lastDecided: Int
    }

    var entries: [Entry] = []
    /// The variant of the workflow's most recent decision that named one.
    public internal(set) var lastDecidedVariant: String?
    var decisions = 0

    public init() {}

    public var variantNames: [String] { entries.map(\.name) }

    public func baseline(of variant: String) -> String? { entries.first { $0.name == variant }?.baseline }

    /// Where a variant new to the table takes its baseline from.
    public enum BaselineSource: Sendable, Equatable {
        /// The workflow's last decided variant (a live decision).
        case lastDecided
        /// The baseline a decision read back names (`nil`: it had none).
        case recorded(String?)
    }

    /// Adds a decided run of `variant`. A variant new to the table enters with the baseline `source`
    /// gives, forgetting the least recently decided variant when the table is full.
    public mutating func record(
        _ variant: String, run: VariantRun, window: Int, baseline source: BaselineSource = .lastDecided
    ) {
        decisions += 1
        let index: Int
        if let existing = entries.firstIndex(where: { $0.name == variant }) {
            index = existing
        } else {
            if entries.count == VariantRules.maximumVariants,
                let oldest = entries.indices.min(by: { entries[$0].lastDecided < entries[$1].lastDecided })
            {
                entries.remove(at: oldest)
            }
            entries.append(
                Entry(
                    name: variant, baseline: baseline(from: source),
                    window: VariantWindow(capacity: window), lastDecided: 0))
            index = entries.count - 1
        }
        entries[index].window.append(run)
        entries[index].lastDecided = decisions
        lastDecidedVariant = variant
    }

    private func baseline(from source: BaselineSource) -> String? {
        switch source {
        case .lastDecided: lastDecidedVariant
        case let .recorded(name): name
        }
    }

    /// Compares `variant`'s window with its baseline's (contract section 3.3, step 4); `nil` when the
    /// variant is not in the table.
    public func compare(_ variant: String, rules: ScoringRules) -> VariantComparison? {
        guard let entry = entries.first(where: { $0.name == variant }) else { return nil }
        let baselineTotals =
            entry.baseline.flatMap { name in entries.first { $0.name == name } }?.window.totals
            ?? VariantWindow.Totals()
        return VariantComparison(
            variant: entry.name, baselineVariant: entry.baseline, totals: entry.window.totals,
            baselineTotals: baselineTotals, rules: rules)
    }
}

public enum VariantVerdict: String, Sendable, CaseIterable {
    case noBaseline = "no_baseline"
    case insufficientData = "insufficient_data"
    case regressed
    case improved
    case inconclusive
}

/// A variant's runs against its baseline variant's: what every decision of a run with a variant carries.
public struct VariantComparison: Sendable, Equatable {
    public struct SuccessRate: Sendable, Equatable {
        public var variant: Double?
        public var baseline: Double?
        public var difference: Double?
        public var pValue: Double?
    }

    public struct Mean: Sendable, Equatable {
        public var variant: Double?
        public var baseline: Double?
        public var ratio: Double?

        init(_ variant: Double?, _ baseline: Double?) {
            self.variant = variant
            self.baseline = baseline
            if let variant, let baseline, baseline != 0 { ratio = variant / baseline }
        }
    }

    public var variant: String
    public var baselineVariant: String?
    public var runs: Int
    public var baselineRuns: Int
    public var successRate: SuccessRate
    public var avgResponseTimeMs: Mean
    public var costPerRequest: Mean
    public var verdict: VariantVerdict

    init(
        variant: String, baselineVariant: String?, totals: VariantWindow.Totals, baselineTotals: VariantWindow.Totals,
        rules: ScoringRules
    ) {
        self.variant = variant
        self.baselineVariant = baselineVariant
        runs = totals.runs
        baselineRuns = baselineTotals.runs
        successRate = Self.successRates(totals, baselineTotals)
        avgResponseTimeMs = Mean(totals.meanLatency, baselineTotals.meanLatency)
        costPerRequest = Mean(totals.meanCost, baselineTotals.meanCost)
        verdict = .inconclusive
        verdict = judge(rules)
    }

    /// Pooled rates, their difference, and the two-sided p-value of the two-proportion z-test.
    static func successRates(_ v: VariantWindow.Totals, _ b: VariantWindow.Totals) -> SuccessRate {
        var rates = SuccessRate(variant: v.successRate, baseline: b.successRate)
        guard let pV = rates.variant, let pB = rates.baseline else { return rates }
        let difference = pV - pB
        let pooled = (v.successful + b.successful) / (v.completed + b.completed)
        let se = (pooled * (1 - pooled) * (1 / v.completed + 1 / b.completed)).squareRoot()
        rates.difference = difference
        rates.pValue = se == 0 ? 1 : erfc(abs(difference / se) / 2.0.squareRoot())
        return rates
    }

    /// The first verdict that holds, in the contract's order.
    func judge(_ rules: ScoringRules) -> VariantVerdict {
        let history = rules.history
        guard baselineVariant != nil else { return .noBaseline }
        guard runs >= history.baselineMinRuns, baselineRuns >= history.baselineMinRuns else { return .insufficientData }
        let significant = successRate.pValue.map { $0 < rules.variants.alpha } ?? false
        let difference = successRate.difference ?? 0
        let latency = avgResponseTimeMs.ratio
        let cost = costPerRequest.ratio
        if (significant && difference < 0) || latency.map({ $0 > history.latencyFactor }) == true
            || cost.map({ $0 > history.costFactor }) == true
        {
            return .regressed
        }
        if (significant && difference > 0) || latency.map({ $0 < 1 / history.latencyFactor }) == true
            || cost.map({ $0 < 1 / history.costFactor }) == true
        {
            return .improved
        }
        return .inconclusive
    }
}
