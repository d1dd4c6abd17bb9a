import CoreFixtures
import Testing

@testable import DecisionCore

@Suite("Reasons (contract 3.1)")
struct ReasonTests {
    let rules = ScoringRules()

    @Test func healthyRunHasNoReasons() {
        let verdict = rules.verdict(for: makeReport(), analysis: analysis())
        #expect(verdict == Verdict(shouldOptimize: false, strategy: nil, reasons: [], regressions: []))
    }

    @Test func valuesExactlyAtThresholdsDoNotTrigger() {
        let report = makeReport(total: 100, successful: 80, latencyMs: 5000, costPerRequest: 0.1, timeouts: 5)
        #expect(report.timeoutErrorRate == 0.05)
        #expect(rules.reasons(for: report, analysis: analysis(overall: 80, critical: 0)).isEmpty)
    }

    @Test func justBeyondThresholdsTrigger() {
        let report = makeReport(total: 100, successful: 79, latencyMs: 5000.001, costPerRequest: 0.10001, timeouts: 6)
        let codes = rules.reasons(for: report, analysis: analysis(overall: 79.99, critical: 1)).map(\.code)
        #expect(codes == ReasonCode.allCases)
    }

    @Test func allReasonsInContractOrderWithObservedAndThreshold() {
        let report = makeReport(total: 10, successful: 5, latencyMs: 6000, costPerRequest: 0.2, timeouts: 2)
        let reasons = rules.reasons(for: report, analysis: analysis(overall: 60, critical: 2))
        #expect(
            reasons.map(\.code) == [
                .lowOverallScore, .criticalIssues, .lowSuccessRate, .highLatency, .highCost, .excessiveTimeouts,
            ])
        #expect(reasons.map(\.observed) == [60, 2, 0.5, 6000, 0.2, 0.2])
        #expect(reasons.map(\.threshold) == [80, 1, 0.8, 5000, 0.1, 0.05])
        #expect(reasons[0].message == "overall score 60 is below the optimization threshold 80")
        #expect(reasons[1].message == "2 critical issues reach the threshold of 1")
        #expect(reasons[2].message == "success rate 0.5 is below the minimum 0.8")
        #expect(reasons[3].message == "average response time 6000 ms exceeds the maximum 5000 ms")
        #expect(reasons[4].message == "cost per request 0.2 USD exceeds the maximum 0.1 USD")
        #expect(reasons[5].message == "timeout rate 0.2 exceeds the maximum 0.05")
        var lent = ""
        reasons[1].withMessage { lent = String(decoding: $0, as: UTF8.self) }
        #expect(lent == reasons[1].message, "the bytes the encoder writes are the message")
        // A reason built by hand with a count that is no whole number still has a sentence (no trap).
        #expect(
            Reason(code: .criticalIssues, observed: 2.5, threshold: 1).message
                == "2.5 critical issues reach the threshold of 1")
    }

    @Test func analysisCriteriaNeedAnalysis() {
        #expect(rules.reasons(for: makeReport(), analysis: nil).isEmpty)
    }

    @Test func criticalIssueThresholdCounts() {
        var strict = ScoringRules()
        strict.criticalIssueThreshold = 3
        #expect(strict.reasons(for: makeReport(), analysis: analysis(critical: 2)).isEmpty)
        #expect(strict.reasons(for: makeReport(), analysis: analysis(critical: 3)).map(\.code) == [.criticalIssues])
    }

    @Test func configuredThresholdsApply() {
        var rules = ScoringRules()
        rules.minSuccessRate = 0.95
        rules.maxAcceptableLatencyMs = 500
        #expect(
            rules.reasons(for: makeReport(total: 100, successful: 94), analysis: nil).map(\.code) == [
                .lowSuccessRate, .highLatency,
            ])
    }
}

@Suite("Strategy (contract 3.1, the seed's select_strategy)")
struct StrategyTests {
    let rules = ScoringRules()

    func strategy(_ report: TestExecutionReport, _ analysis: PromptAnalysis?) -> Strategy? {
        rules.verdict(for: report, analysis: analysis).strategy
    }

    @Test func noStrategyWithoutReasons() {
        #expect(strategy(makeReport(), analysis()) == nil)
        #expect(strategy(makeReport(), nil) == nil)
    }

    @Test func timeoutRateAboveTenPercentIsClarity() {
        let report = makeReport(total: 10, successful: 8, latencyMs: 9000, timeouts: 2)
        #expect(strategy(report, analysis(overall: 50, clarity: 90, efficiency: 20)) == .clarityFocus)
        #expect(strategy(report, nil) == .clarityFocus)
    }

    @Test func timeoutRateExactlyTenPercentFallsThrough() {
        // 1/10 = 0.1 is not > 0.1; the run still triggers on excessive_timeouts (0.1 > 0.05).
        let report = makeReport(total: 10, successful: 9, latencyMs: 9000, timeouts: 1)
        #expect(report.timeoutErrorRate == 0.1)
        #expect(strategy(report, nil) == .efficiencyFocus)
        #expect(strategy(report, analysis(overall: 50, clarity: 90, efficiency: 20)) == .efficiencyFocus)
    }

    @Test func withAnalysisBranches() {
        let low = analysis(overall: 50)  // triggers low_overall_score
        func with(_ c: Double, _ e: Double) -> Strategy? {
            strategy(makeReport(), analysis(overall: low.overallScore, clarity: c, efficiency: e))
        }
        #expect(with(90, 69) == .efficiencyFocus)  // e < low_score_threshold
        #expect(with(70, 85) == .clarityFocus)  // c < e − gap
        #expect(with(95, 80) == .efficiencyFocus)  // e < c − gap
        #expect(with(75, 85) == .clarityFocus)  // gap exactly 10: not <, falls to default
        #expect(with(85, 75) == .clarityFocus)
        #expect(with(70, 70) == .clarityFocus)  // both at the threshold: not below
        #expect(with(90, 90) == .clarityFocus)
    }

    @Test func structureFocusIsUnreachableInTheSeedsOrder() {
        // The efficiency branch takes every e < low_score_threshold first, so "both below" never holds
        // afterwards. The contract keeps the seed's order; this pins that behaviour for any gap.
        for gap in [0.0, 10, 50] {
            var rules = ScoringRules()
            rules.clarityEfficiencyGap = gap
            for c in stride(from: 0.0, through: 100, by: 5) {
                for e in stride(from: 0.0, through: 100, by: 5) {
                    let strategy = rules.strategy(
                        for: makeReport(), analysis: analysis(overall: 10, clarity: c, efficiency: e), reasons: [])
                    #expect(strategy != .structureFocus)
                }
            }
        }
    }

    @Test func withoutAnalysis() {
        #expect(strategy(makeReport(latencyMs: 6000), nil) == .efficiencyFocus)
        #expect(strategy(makeReport(costPerRequest: 0.5), nil) == .efficiencyFocus)
        #expect(strategy(makeReport(total: 10, successful: 5), nil) == .clarityFocus)
        #expect(strategy(makeReport(total: 100, successful: 100, timeouts: 6), nil) == .clarityFocus)
    }
}

@Suite("Rules: ranges and fingerprint")
struct RulesTests {
    @Test func defaultsAreTheSeeds() {
        let rules = ScoringRules()
        #expect(rules.optimizationThreshold == 80)
        #expect(rules.criticalIssueThreshold == 1)
        #expect(rules.clarityEfficiencyGap == 10)
        #expect(rules.lowScoreThreshold == 70)
        #expect(rules.minSuccessRate == 0.8)
        #expect(rules.maxAcceptableLatencyMs == 5000)
        #expect(rules.maxCostPerRequest == 0.1)
        #expect(rules.maxTimeoutErrorRate == 0.05)
        #expect(rules.history.baselineWindow == 20)
        #expect(rules.history.baselineMinRuns == 5)
        #expect(rules.history.triggerOnRegression == false)
    }

    @Test func fingerprintIsStableAndPinned() {
        #expect(ScoringRules().fingerprint == ScoringRules().fingerprint)
        // Pinned: a change here silently re-decides every run on the next replay.
        #expect(ScoringRules().fingerprint == "sha256:a68eeab32a5ca2e4")
    }

    @Test func everyValueChangesTheFingerprint() {
        let base = ScoringRules().fingerprint
        var variants: [ScoringRules] = []
        func variant(_ change: (inout ScoringRules) -> Void) {
            var rules = ScoringRules()
            change(&rules)
            variants.append(rules)
        }
        variant { $0.optimizationThreshold = 81 }
        variant { $0.criticalIssueThreshold = 2 }
        variant { $0.clarityEfficiencyGap = 11 }
        variant { $0.lowScoreThreshold = 71 }
        variant { $0.minSuccessRate = 0.81 }
        variant { $0.maxAcceptableLatencyMs = 5001 }
        variant { $0.maxCostPerRequest = 0.11 }
        variant { $0.maxTimeoutErrorRate = 0.06 }
        variant { $0.errorPatterns = ErrorPatterns(llm: ["x"]) }
        variant { $0.errorPatterns = ErrorPatterns(validation: ["x"]) }
        variant { $0.history.baselineWindow = 21 }
        variant { $0.history.baselineMinRuns = 6 }
        variant { $0.history.successRateDrop = 0.2 }
        variant { $0.history.latencyFactor = 2 }
        variant { $0.history.costFactor = 2 }
        variant { $0.history.triggerOnRegression = true }
        variant { $0.variants.window = 51 }
        variant { $0.variants.alpha = 0.01 }
        let fingerprints = variants.map(\.fingerprint)
        #expect(!fingerprints.contains(base))
        #expect(Set(fingerprints).count == variants.count)
    }

    @Test func rangesAreChecked() {
        func failure(_ change: (inout ScoringRules) -> Void) -> String? {
            var rules = ScoringRules()
            change(&rules)
            do {
                try rules.validate()
                return nil
            } catch { return error.key }
        }
        #expect(failure { _ in } == nil)
        #expect(failure { $0.optimizationThreshold = 101 } == "optimization_threshold")
        #expect(failure { $0.criticalIssueThreshold = 0 } == "critical_issue_threshold")
        #expect(failure { $0.minSuccessRate = -0.1 } == "min_success_rate")
        #expect(failure { $0.maxAcceptableLatencyMs = .nan } == "max_acceptable_latency_ms")
        #expect(failure { $0.maxCostPerRequest = -1 } == "max_cost_per_request")
        #expect(failure { $0.maxTimeoutErrorRate = 2 } == "max_timeout_error_rate")
        #expect(failure { $0.errorPatterns = ErrorPatterns(llm: [""]) } == "error_patterns.llm")
        #expect(failure { $0.history.baselineWindow = 0 } == "baseline_window")
        #expect(failure { $0.history.baselineMinRuns = 21 } == "baseline_min_runs")
        #expect(failure { $0.history.latencyFactor = 0.5 } == "latency_factor")
        #expect(failure { $0.variants.window = 0 } == "variant_window")
        #expect(failure { $0.variants.window = 1001 } == "variant_window")
        #expect(failure { $0.variants.window = 1000 } == nil)
        #expect(failure { $0.variants.alpha = 0 } == "variant_alpha")
        #expect(failure { $0.variants.alpha = 1 } == "variant_alpha")
        #expect(failure { $0.variants.alpha = .nan } == "variant_alpha")
    }

    @Test func variantDefaultsKeepTheFingerprintOfRulesWithoutThem() {
        // Rules written before contract section 3.3 keep their fingerprint: nothing is decided twice.
        var rules = ScoringRules()
        rules.variants.window = 50
        rules.variants.alpha = 0.05
        #expect(rules.fingerprint == "sha256:a68eeab32a5ca2e4")
        #expect(!rules.canonicalText.contains("variant"))
        rules.variants.window = 20
        #expect(rules.canonicalText.hasSuffix("variant_alpha=0.05\nvariant_window=20\n"))
    }
}

@Suite("Decision ids")
struct DecisionIDTests {
    @Test func stableAndDistinct() {
        let a = RunIdentity.runID(workflowID: "wf", runID: "r1")
        #expect(a.decisionKey(rulesFingerprint: "f1") == a.decisionKey(rulesFingerprint: "f1"))
        #expect(a.decisionKey(rulesFingerprint: "f1") != a.decisionKey(rulesFingerprint: "f2"))
        #expect(
            a.decisionKey(rulesFingerprint: "f1")
                != RunIdentity.runID(workflowID: "wf", runID: "r2").decisionKey(rulesFingerprint: "f1"))
        #expect(
            a.decisionKey(rulesFingerprint: "f1")
                != RunIdentity.runID(workflowID: "wf2", runID: "r1").decisionKey(rulesFingerprint: "f1"))
        // Field boundaries cannot be shifted to collide.
        #expect(
            RunIdentity.runID(workflowID: "a", runID: "bc").decisionKey(rulesFingerprint: "f")
                != RunIdentity.runID(workflowID: "ab", runID: "c").decisionKey(rulesFingerprint: "f"))
        #expect(
            RunIdentity.contentHash(workflowID: "wf", sha256Hex: "r1").decisionKey(rulesFingerprint: "f1")
                != a.decisionKey(rulesFingerprint: "f1"))
    }

    /// Decision ids must never change between versions: state restored from the decisions topic and
    /// replays dedup by them. Pinned against Python's hashlib over the documented byte layout.
    @Test func pinnedAgainstAnIndependentSHA256() {
        let key = RunIdentity.runID(workflowID: "wf-1", runID: "run-1").decisionKey(
            rulesFingerprint: "sha256:a68eeab32a5ca2e4")
        #expect(key.description == "0e3a00f02646b697671edf8d88b3c64d")
        var lent = ""
        key.withHexDigits { lent = String(decoding: $0, as: UTF8.self) }
        #expect(lent == key.description)
    }

    @Test func hexRoundTrip() {
        let key = RunIdentity.runID(workflowID: "wf", runID: "r1").decisionKey(rulesFingerprint: "f")
        #expect(key.description.count == 32)
        #expect(DecisionKey(hex: key.description) == key)
        #expect(DecisionKey(hex: "00000000000000010000000000000002") == DecisionKey(high: 1, low: 2))
        #expect(
            DecisionKey(high: 0xfedc_ba98_7654_3210, low: 0x0123_4567_89ab_cdef).description
                == "fedcba98765432100123456789abcdef")
        #expect(DecisionKey(hex: "xyz") == nil)
        #expect(DecisionKey(hex: "0000000000000001000000000000000G") == nil)
    }
}

@Suite("SHA-256 test vectors (FIPS 180-4)")
struct SHA256Tests {
    @Test func vectors() {
        #expect(
            hexString(Hashing.sha256("".utf8)) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            hexString(Hashing.sha256("abc".utf8))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            hexString(Hashing.sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            hexString(Hashing.sha256([UInt8](repeating: 0x61, count: 1_000_000)))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // A sequence that is not contiguous is hashed the same as its bytes.
        let bytes = [UInt8](repeating: 0x62, count: 65)
        #expect(Hashing.sha256(bytes.lazy.map { $0 }) == Hashing.sha256(bytes))
    }
}

@Suite("Regressions (contract 3.2)")
struct RegressionTests {
    let history = HistoryRules()

    func points(_ count: Int, success: Double = 0.9, latency: Double = 1000, cost: Double = 0.01) -> [BaselinePoint] {
        Array(
            repeating: BaselinePoint(successRate: success, avgResponseTimeMs: latency, costPerRequest: cost),
            count: count)
    }

    @Test func nothingBelowMinimumRuns() {
        #expect(history.regressions(of: makeReport(total: 10, successful: 1), against: points(4)).isEmpty)
    }

    @Test func boundaries() {
        // Exactly at mean − drop, mean × factor: not regressions.
        let atBoundary = makeReport(total: 100, successful: 80, latencyMs: 1500, costPerRequest: 0.015)
        let base = points(5, success: 0.9, latency: 1000, cost: 0.01)
        #expect(history.regressions(of: atBoundary, against: base).map(\.code) == [])
        let beyond = makeReport(total: 100, successful: 79, latencyMs: 1500.1, costPerRequest: 0.0151)
        let found = history.regressions(of: beyond, against: base)
        #expect(found.map(\.code) == [.successRateRegression, .latencyRegression, .costRegression])
        #expect(found[0].baseline == 0.9)
        #expect(found[0].observed == 0.79)
        #expect(found[1].baseline == 1000)
        // The sentences, made from each regression's numbers and the rule's margin when asked.
        #expect(
            found.map(\.message) == [
                "success rate 0.79 is more than 0.1 below the mean 0.9 of the last 5 runs",
                "average response time 1500.1 ms is more than 1.5× the mean 1000 ms of the last 5 runs",
                "cost per request 0.0151 USD is more than 1.5× the mean 0.01 USD of the last 5 runs",
            ])
        var lent: [String] = []
        for regression in found { regression.withMessage { lent.append(String(decoding: $0, as: UTF8.self)) } }
        #expect(lent == found.map(\.message), "the bytes the encoder writes are the message")
    }

    @Test func zeroMeansNeverRegress() {
        let found = history.regressions(
            of: makeReport(latencyMs: 10, costPerRequest: 1), against: points(5, latency: 0, cost: 0))
        #expect(found.isEmpty)
    }

    @Test func triggerOnlyWhenEnabled() {
        var rules = ScoringRules()
        let report = makeReport(total: 100, successful: 81)
        let base = points(5, success: 1.0)
        #expect(rules.verdict(for: report, analysis: nil, baseline: base).shouldOptimize == false)
        #expect(rules.verdict(for: report, analysis: nil, baseline: base).regressions.count == 1)
        rules.history.triggerOnRegression = true
        let verdict = rules.verdict(for: report, analysis: nil, baseline: base)
        #expect(verdict.shouldOptimize)
        #expect(verdict.strategy == .clarityFocus)
        #expect(verdict.reasons.isEmpty)
    }

    @Test func historyKeepsTheLastWindow() {
        var workflow = WorkflowHistory(window: 3)
        for value in 1...5 {
            workflow.append(BaselinePoint(successRate: Double(value) / 10, avgResponseTimeMs: 0, costPerRequest: 0))
        }
        #expect(workflow.points.map(\.successRate) == [0.3, 0.4, 0.5])
    }
}
