import DecisionCore
import Foundation
import Testing
import WireFormat

@testable import DecisionEngine

/// Input messages of the three shapes, each naming `variant` (a JSON value, spelled as given) in its metadata.
enum VariantMessages {
    static func report(
        _ run: String, workflow: String = "wf", variant: String?, successful: Int = 9, total: Int = 10,
        cancelled: Int = 0, latency: Double = 1000
    ) -> [UInt8] {
        let rate = total - cancelled > 0 ? Double(successful) / Double(total - cancelled) : 0
        let metadata = variant.map { ",\"metadata\":{\"variant\":\($0)}" } ?? ""
        return Array(
            """
            {"workflow_id":"\(workflow)","run_id":"\(run)","total_tests":\(total),"successful_tests":\(successful),\
            "failed_tests":\(total - successful - cancelled),"cancelled_tests":\(cancelled),"success_rate":\(rate),\
            "avg_response_time_ms":\(latency),"total_tokens":0,"avg_tokens_per_request":0,"total_cost":0,"cost_per_request":0.01\(metadata)}
            """.utf8)
    }

    static func legacy(_ run: String, workflow: String = "wf", variant: String?, successRate: Double = 0.9) -> [UInt8] {
        let metadata = variant.map { ",\"metadata\":{\"variant\":\($0)}" } ?? ""
        return Array(
            "{\"workflow_id\":\"\(workflow)\",\"run_id\":\"\(run)\",\"success_rate\":\(successRate),\"total_tests\":10,\"avg_response_time\":1.5\(metadata)}"
                .utf8)
    }

    static func runResult(
        _ run: String, workflow: String = "wf", variant: String?, succeeded: Int = 2, cancelled: Int = 0
    ) -> [UInt8] {
        let total = 2 + cancelled
        let failed = 2 - succeeded
        let metadata = variant.map { "\"metadata\":{\"variant\":\($0)}," } ?? ""
        let task = { (id: Int, status: String, time: Double) in
            "{\"task_id\":\"t\(id)\",\"task_status\":\"\(status)\",\"execution_time\":\(time),\"error_message\":null,\"attempt_count\":1,\"test_result\":null}"
        }
        let tasks =
            (0..<succeeded).map { task($0, "succeeded", 1) } + (0..<failed).map { task(10 + $0, "failed", 1) }
            + (0..<cancelled).map { task(20 + $0, "cancelled", 0) }
        return Array(
            """
            {"run_id":"\(run)","workflow_id":"\(workflow)","started_at":"2025-11-19T10:00:00Z","finished_at":"2025-11-19T10:01:00Z",\(metadata)\
            "statistics":{"total_tasks":\(total),"completed_tasks":2,"succeeded_tasks":\(succeeded),"failed_tasks":\(failed),"timeout_tasks":0,\
            "cancelled_tasks":\(cancelled),"error_tasks":0,"total_tokens":10,"total_retries":0,"success_rate":\(Double(succeeded) / 2),\
            "total_execution_time":2,"avg_execution_time":1,"total_cost":0.02},"task_results":[\(tasks.joined(separator: ","))]}
            """.utf8)
    }
}

/// Decides messages one after another on one partition state, as `score` and the service do.
final class VariantHarness {
    var decider = Decider(rules: ScoringRules())
    var state = PartitionState(retentionMs: nil, capacity: 1_000_000, historyWindow: 20)
    let scratch = DecisionScratch()
    var offset: Int64 = 0

    func decide(_ bytes: [UInt8]) -> DecisionOutcome {
        offset += 1
        let source = MessageSource(topic: "t", partition: 0, offset: offset, timestampMs: nil)
        return bytes.withUnsafeBytes { decider.process($0, source: source, nowMs: 0, state: &state, scratch: scratch) }
    }

    func decision(_ bytes: [UInt8]) -> DecidedRun? {
        if case let .decided(summary, json) = decide(bytes) { return DecidedRun(summary: summary, json: json) }
        return nil
    }
}

/// What these tests read of a decision: its summary, and its record's variant members as written.
struct DecidedRun {
    var summary: DecisionSummary
    var members: [String: Any]

    init(summary: DecisionSummary, json: [UInt8]) {
        self.summary = summary
        self.members = (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any] ?? [:]
    }

    var variant: String? { members["variant"] as? String }
    var comparison: [String: Any]? { members["variant_comparison"] as? [String: Any] }
    var baselineVariant: String? { comparison?["baseline_variant"] as? String }
}

@Suite("Variants in the decider and its state (contract 3.3)")
struct VariantStateTests {
    @Test func everyInputShapeNamesItsVariant() throws {
        let h = VariantHarness()
        let a = try #require(h.decision(VariantMessages.runResult("r1", variant: "\"A\"")))
        let b = try #require(h.decision(VariantMessages.report("r2", variant: "\"B\"")))
        let c = try #require(h.decision(VariantMessages.legacy("r3", variant: "\"C\"")))
        #expect(a.variant == "A" && a.summary.variantVerdict == .noBaseline)
        #expect(b.variant == "B" && b.baselineVariant == "A")
        #expect(c.variant == "C" && c.baselineVariant == "B")
        // The run result's pooled counts exclude cancelled tasks: 1 of 2 completed, 3 tasks in all.
        let d = try #require(h.decision(VariantMessages.runResult("r4", variant: "\"D\"", succeeded: 1, cancelled: 1)))
        let successRate = d.comparison?["success_rate"] as? [String: Any]
        #expect(successRate?["variant"] as? Double == 0.5)
    }

    @Test func anythingButAValidNameIsNoVariantAndNeverADeadLetter() throws {
        let h = VariantHarness()
        let long = "\"" + String(repeating: "x", count: 201) + "\""
        for (index, value) in ["\"\"", "null", "7", "{\"a\":1}", "[\"A\"]", "true", long].enumerated() {
            guard case let .decided(summary, json) = h.decide(VariantMessages.report("r\(index)", variant: value))
            else {
                Issue.record("variant \(value) was not decided")
                continue
            }
            #expect(summary.variantVerdict == nil)
            #expect(String(decoding: json, as: UTF8.self).hasSuffix(",\"variant\":null,\"variant_comparison\":null}"))
        }
        // A legacy message's metadata is not validated: a non-object there is simply no variant.
        let legacy = Array("{\"workflow_id\":\"wf\",\"run_id\":\"x\",\"success_rate\":0.9,\"metadata\":\"v2\"}".utf8)
        let decided = try #require(h.decision(legacy))
        #expect(decided.variant == nil && decided.members["variant"] is NSNull)
    }

    @Test func runsWithoutAVariantChangeNeitherTheTableNorTheLastVariant() throws {
        let h = VariantHarness()
        _ = h.decision(VariantMessages.report("r1", variant: "\"A\""))
        _ = h.decision(VariantMessages.report("r2", variant: nil))
        _ = h.decision(VariantMessages.legacy("r3", variant: nil))
        let b = try #require(h.decision(VariantMessages.report("r4", variant: "\"B\"")))
        #expect(b.baselineVariant == "A")
        #expect(h.state.variants(of: "wf").variantNames == ["A", "B"])
    }

    @Test func duplicatesNeverJoinAWindow() throws {
        let h = VariantHarness()
        _ = h.decision(VariantMessages.report("r1", variant: "\"A\""))
        guard case .duplicate = h.decide(VariantMessages.report("r1", variant: "\"A\"")) else {
            Issue.record("not a duplicate")
            return
        }
        let next = try #require(h.decision(VariantMessages.report("r2", variant: "\"A\"")))
        #expect(next.comparison?["runs"] as? Int == 2)
    }

    @Test func tablesArePerWorkflow() throws {
        let h = VariantHarness()
        _ = h.decision(VariantMessages.report("r1", workflow: "one", variant: "\"A\""))
        let other = try #require(h.decision(VariantMessages.report("r2", workflow: "two", variant: "\"B\"")))
        #expect(other.summary.variantVerdict == .noBaseline)
    }

    /// A stream over a few workflows whose variants change, eleven variants in all (so tables overflow),
    /// in every shape, some runs without a variant and some repeated.
    static func stream(count: Int, seed: UInt64) -> [[UInt8]] {
        var random = seed
        func next(_ bound: Int) -> Int {
            random = random &* 6364136223846793005 &+ 1442695040888963407
            return Int((random >> 33) % UInt64(bound))
        }
        var messages: [[UInt8]] = []
        for index in 0..<count {
            let workflow = "wf-\(next(3))"
            let variant = next(6) == 0 ? nil : "\"v\(min(index / 15 + next(3), 10))\""
            let run = next(10) == 0 && index > 0 ? "run-\(next(index))" : "run-\(index)"
            switch next(3) {
            case 0:
                messages.append(
                    VariantMessages.report(
                        run, workflow: workflow, variant: variant, successful: 5 + next(6),
                        latency: Double(500 + next(1500))))
            case 1:
                messages.append(
                    VariantMessages.legacy(
                        run, workflow: workflow, variant: variant, successRate: Double(next(11)) / 10))
            default:
                messages.append(
                    VariantMessages.runResult(
                        run, workflow: workflow, variant: variant, succeeded: next(3), cancelled: next(2)))
            }
        }
        return messages
    }

    @Test(arguments: [0, 1, 37, 120, 199])
    func stateReadBackFromDecisionsContinuesExactlyAsAnUninterruptedRun(split: Int) {
        // The service restores from the decisions topic after a crash or a rebalance: deciding the rest of
        // the stream on the rebuilt state must give byte-identical decisions to never having stopped.
        let stream = Self.stream(count: 200, seed: 42)
        let uninterrupted = VariantHarness()
        let expected = stream.map { uninterrupted.decide($0) }.map(Self.json)
        let first = VariantHarness()
        var rebuilt = PartitionState(retentionMs: nil, capacity: 1_000_000, historyWindow: 20)
        for message in stream.prefix(split) {
            guard case let .decided(_, json) = first.decide(message), let record = DecisionRecord.parse(json) else {
                continue
            }
            rebuilt.restore(record, atMs: 0)
        }
        let resumed = VariantHarness()
        resumed.state = rebuilt
        resumed.offset = Int64(split)
        let continued = stream.dropFirst(split).map { resumed.decide($0) }.map(Self.json)
        #expect(Array(expected.dropFirst(split)) == continued)
        #expect(
            expected.compactMap { $0 }.contains {
                $0.contains("\"verdict\":\"regressed\"") || $0.contains("\"verdict\":\"improved\"")
                    || $0.contains("\"verdict\":\"inconclusive\"")
            })
    }

    static func json(_ outcome: DecisionOutcome) -> String? {
        if case let .decided(_, json) = outcome { return String(decoding: json, as: UTF8.self) }
        return nil
    }

    @Test func decisionsReadBackWithBothParsers() throws {
        let h = VariantHarness()
        _ = h.decision(VariantMessages.report("r1", variant: "\"A\""))
        guard
            case let .decided(_, json) = h.decide(
                VariantMessages.report("r2", variant: "\"B\"", successful: 3, total: 10, cancelled: 2))
        else {
            Issue.record("not decided")
            return
        }
        let record = try #require(DecisionRecord.parse(json))
        #expect(DecisionRecord.parse(json, fastParser: h.scratch.fastParser) == record)
        #expect(
            record.variant
                == .init(
                    name: "B", baseline: "A",
                    run: VariantRun(successful: 3, completed: 8, avgResponseTimeMs: 1000, costPerRequest: 0.01)))
        // A decision written before variants existed reads as a run without a variant.
        let old = String(decoding: json, as: UTF8.self).replacingOccurrences(of: ",\"variant\":\"B\"", with: "")
        #expect(DecisionRecord.parse(Array(old.utf8))?.variant == nil)
    }
}
