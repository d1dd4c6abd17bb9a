import DecisionCore
import Foundation
import Testing

@testable import WireFormat

@Suite("Decision digest: a decision read back for display")
struct DecisionDigestTests {
    static let degrading: [[UInt8]] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../blackbox/golden/degrading-decisions-before-variants.jsonl")
        return (try! String(contentsOf: url, encoding: .utf8)).split(separator: "\n").map { Array($0.utf8) }
    }()

    @Test func readsWhatTheDecisionSays() throws {
        var regressions = 0
        for line in Self.degrading {
            let digest = try #require(DecisionDigest.parse(line))
            guard case let .object(decision) = try JSONParser.parse(line) else { throw DigestTestError() }
            #expect(.string(digest.workflowID) == decision["workflow_id"])
            #expect(.string(digest.runID) == decision["run_id"])
            #expect(.bool(digest.shouldOptimize) == decision["should_optimize"])
            guard case let .array(found)? = decision["regressions"] else { throw DigestTestError() }
            #expect(digest.regressions.count == found.count)
            for (finding, value) in zip(digest.regressions, found) {
                guard case let .object(member) = value else { throw DigestTestError() }
                #expect(.string(finding.code) == member["code"])
                #expect(finding.reference != nil && finding.observed != nil)
            }
            regressions += digest.regressions.count
            #expect(digest.variant == nil && digest.comparison == nil)
        }
        #expect(regressions > 0, "the degrading workflow's decisions carry regressions")
    }

    @Test func readsAVariantComparison() throws {
        let base = String(decoding: Self.degrading[0].dropLast(), as: UTF8.self)
        let line =
            base
            + #","variant":"prompt-v2","variant_comparison":{"variant":"prompt-v2","baseline_variant":"prompt-v1","runs":12,"baseline_runs":12,"success_rate":{"variant":0.9,"baseline":0.8,"difference":0.1,"p_value":0.0123},"avg_response_time_ms":{"variant":900,"baseline":1000,"ratio":0.9},"cost_per_request":{"variant":0.01,"baseline":0.01,"ratio":1},"verdict":"improved"}}"#
        let digest = try #require(DecisionDigest.parse(Array(line.utf8)))
        #expect(digest.variant == "prompt-v2")
        #expect(
            digest.comparison
                == DecisionDigest.Comparison(
                    variant: "prompt-v2", baselineVariant: "prompt-v1", verdict: "improved", successRatePValue: 0.0123,
                    latencyRatio: 0.9))
    }

    @Test func anythingElseIsNoDecision() {
        #expect(DecisionDigest.parse(Array(#"{"schema":"executor.run_result/v1"}"#.utf8)) == nil)
        #expect(DecisionDigest.parse(Array("not json".utf8)) == nil)
    }

    struct DigestTestError: Error {}
}
