import Testing

@testable import DecisionCore

/// A run of `completed` tests (none cancelled unless given) with `successful` successes.
private func run(_ successful: Int, of completed: Int = 100, latency: Double = 1000, cost: Double = 0.01) -> VariantRun
{
    VariantRun(successful: successful, completed: completed, avgResponseTimeMs: latency, costPerRequest: cost)
}

/// Records `count` copies of `run` for `variant`, then compares it.
private func record(
    _ table: inout VariantTable, _ variant: String, _ run: VariantRun, times count: Int = 1,
    rules: ScoringRules = ScoringRules()
) -> VariantComparison {
    for _ in 0..<count { table.record(variant, run: run, window: rules.variants.window) }
    return table.compare(variant, rules: rules)!
}

@Suite("Variants: names (contract 3.3)")
struct VariantNameTests {
    @Test func onlyStringsOfOneTo200ScalarsAreVariants() {
        #expect(VariantRules.variantName(nil) == nil)
        #expect(VariantRules.variantName("") == nil)
        #expect(VariantRules.variantName("v2") == "v2")
        #expect(VariantRules.variantName(String(repeating: "a", count: 200)) != nil)
        #expect(VariantRules.variantName(String(repeating: "a", count: 201)) == nil)
        // Counted in Unicode scalars, as Python's len() counts: "é" as e + combining accent is two.
        #expect(VariantRules.variantName(String(repeating: "e\u{301}", count: 100)) != nil)
        #expect(VariantRules.variantName(String(repeating: "e\u{301}", count: 100) + "x") == nil)
        #expect(VariantRules.variantName(String(repeating: "😀", count: 200)) != nil)
    }
}

@Suite("Variants: comparison and verdicts (contract 3.3)")
struct VariantComparisonTests {
    @Test func theFirstVariantHasNoBaseline() {
        var table = VariantTable()
        let c = record(&table, "A", run(90))
        #expect(c.verdict == .noBaseline)
        #expect(c.baselineVariant == nil)
        #expect(c.runs == 1 && c.baselineRuns == 0)
        #expect(c.successRate == .init(variant: 0.9, baseline: nil, difference: nil, pValue: nil))
        #expect(
            c.avgResponseTimeMs.variant == 1000 && c.avgResponseTimeMs.baseline == nil
                && c.avgResponseTimeMs.ratio == nil)
        #expect(c.costPerRequest.ratio == nil)
        // A variant with no baseline says so however many runs it has.
        #expect(record(&table, "A", run(90), times: 20).verdict == .noBaseline)
    }

    @Test func aNewVariantIsComparedWithTheLastDecidedOne() {
        var table = VariantTable()
        _ = record(&table, "A", run(90), times: 5)
        let c = record(&table, "B", run(90))
        #expect(c.baselineVariant == "A")
        #expect(c.runs == 1 && c.baselineRuns == 5)
        #expect(c.verdict == .insufficientData)
        #expect(table.lastDecidedVariant == "B")
    }

    @Test func insufficientDataUntilBothWindowsReachTheMinimumRuns() {
        var table = VariantTable()
        _ = record(&table, "A", run(100), times: 4)
        // B regresses badly, but A has only 4 runs: insufficient data comes first.
        #expect(record(&table, "B", run(10), times: 5).verdict == .insufficientData)
        var other = VariantTable()
        _ = record(&other, "A", run(100), times: 5)
        #expect(record(&other, "B", run(10), times: 4).verdict == .insufficientData)
        #expect(record(&other, "B", run(10)).verdict == .regressed)
    }

    @Test func pValueOfTheTwoProportionZTest() {
        var table = VariantTable()
        _ = record(&table, "A", run(6, of: 10), times: 5)  // 30 of 50
        let c = record(&table, "B", run(8, of: 10), times: 5)  // 40 of 50
        // Pinned against Python: d = 40/50 − 30/50; q = 70/100; se = sqrt(q(1−q)(1/50 + 1/50));
        // math.erfc(abs(d / se) / math.sqrt(2)).
        #expect(c.successRate.variant == 0.8 && c.successRate.baseline == 0.6)
        #expect(c.successRate.difference == 0.20000000000000007)
        #expect(c.successRate.pValue == 0.02909633174125221)
        #expect(c.verdict == .improved)
        var strict = ScoringRules()
        strict.variants.alpha = 0.01
        #expect(table.compare("B", rules: strict)!.verdict == .inconclusive)
        // A entered first: it has no baseline, whatever B did since.
        #expect(record(&table, "A", run(6, of: 10)).verdict == .noBaseline)
    }

    @Test func regressedWhenSignificantlyWorse() {
        var table = VariantTable()
        _ = record(&table, "A", run(95), times: 5)
        let c = record(&table, "B", run(80), times: 5)
        #expect(c.successRate.difference! < 0 && c.successRate.pValue! < 0.05)
        #expect(c.verdict == .regressed)
    }

    @Test func latencyAndCostRatiosAtTheirBoundaries() {
        func verdict(latency: Double = 1000, cost: Double = 0.01) -> VariantVerdict {
            var table = VariantTable()
            _ = record(&table, "A", run(90, latency: 1000, cost: 0.01), times: 5)
            return record(&table, "B", run(90, latency: latency, cost: cost), times: 5).verdict
        }
        #expect(verdict() == .inconclusive)
        #expect(verdict(latency: 1500) == .inconclusive)  // ratio exactly 1.5: not above
        #expect(verdict(latency: 1500.001) == .regressed)
        #expect(verdict(cost: 0.016) == .regressed)
        #expect(verdict(latency: 1000 / 1.5) == .inconclusive)  // exactly 1/1.5: not below
        #expect(verdict(latency: 600) == .improved)
        #expect(verdict(cost: 0.006) == .improved)
    }

    @Test func regressedIsCheckedBeforeImproved() {
        // Significantly more successes, but twice as slow: the first verdict that holds is regressed.
        var table = VariantTable()
        _ = record(&table, "A", run(60), times: 5)
        let c = record(&table, "B", run(95, latency: 2000), times: 5)
        #expect(c.successRate.difference! > 0 && c.successRate.pValue! < 0.05)
        #expect(c.verdict == .regressed)
    }

    @Test func zeroStandardErrorGivesPValueOne() {
        var table = VariantTable()
        _ = record(&table, "A", run(100), times: 5)
        let c = record(&table, "B", run(100), times: 5)
        #expect(c.successRate.difference == 0 && c.successRate.pValue == 1)
        #expect(c.verdict == .inconclusive)
        var zeros = VariantTable()
        _ = record(&zeros, "A", run(0), times: 5)
        #expect(record(&zeros, "B", run(0), times: 5).successRate.pValue == 1)
    }

    @Test func windowsWithOnlyCancelledTestsHaveNoRate() {
        var table = VariantTable()
        _ = record(&table, "A", run(0, of: 0), times: 5)
        let c = record(&table, "B", run(90), times: 5)
        #expect(c.successRate.baseline == nil && c.successRate.difference == nil && c.successRate.pValue == nil)
        #expect(c.verdict == .inconclusive)
    }

    @Test func zeroBaselineMeansHaveNoRatio() {
        var table = VariantTable()
        _ = record(&table, "A", run(90, latency: 0, cost: 0), times: 5)
        let c = record(&table, "B", run(90, latency: 5000, cost: 1), times: 5)
        #expect(c.avgResponseTimeMs.ratio == nil && c.costPerRequest.ratio == nil)
        #expect(c.avgResponseTimeMs.baseline == 0)
        #expect(c.verdict == .inconclusive)
    }

    @Test func theWindowKeepsTheLastRuns() {
        var rules = ScoringRules()
        rules.variants.window = 3
        rules.history.baselineMinRuns = 1
        var table = VariantTable()
        for latency in [100.0, 200, 300, 400, 500] { _ = record(&table, "A", run(90, latency: latency), rules: rules) }
        let c = table.compare("A", rules: rules)!
        #expect(c.runs == 3)
        #expect(c.avgResponseTimeMs.variant == 400)
    }

    @Test func aBaselineStaysWhileTheVariantStays() {
        var table = VariantTable()
        _ = record(&table, "A", run(90))
        _ = record(&table, "B", run(90))
        _ = record(&table, "C", run(90))
        #expect(table.baseline(of: "C") == "B")
        // Back to B: its baseline is still A, not C, the last decided variant.
        #expect(record(&table, "B", run(90)).baselineVariant == "A")
        #expect(table.lastDecidedVariant == "B")
    }

    @Test func aNinthVariantForgetsTheLeastRecentlyDecided() {
        var table = VariantTable()
        for name in ["v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8"] { _ = record(&table, name, run(90), times: 5) }
        _ = record(&table, "v1", run(90))  // v1 is now recent; v2 is the least recent
        let c = record(&table, "v9", run(90))
        #expect(table.variantNames.count == VariantRules.maximumVariants)
        #expect(!table.variantNames.contains("v2") && table.variantNames.contains("v1"))
        #expect(c.baselineVariant == "v1")
        // v3's baseline v2 is forgotten: its window is empty, so the data is insufficient.
        let v3 = record(&table, "v3", run(90))
        #expect(v3.baselineVariant == "v2" && v3.baselineRuns == 0 && v3.verdict == .insufficientData)
        // v2 comes back as a new variant, with its runs forgotten and a new baseline.
        let v2 = record(&table, "v2", run(90))
        #expect(v2.runs == 1 && v2.baselineVariant == "v3")
    }

    @Test func aRecordedBaselineWinsWhenReadBack() {
        var table = VariantTable()
        table.record("B", run: run(90), window: 50, baseline: .recorded("A"))
        #expect(table.baseline(of: "B") == "A")
        table.record("C", run: run(90), window: 50, baseline: .recorded(nil))
        #expect(table.baseline(of: "C") == nil)
        table.record("D", run: run(90), window: 50)
        #expect(table.baseline(of: "D") == "C")
    }
}
