import DecisionCore
import Foundation
import Testing
import WireFormat

@testable import DecisionEngine

func key(_ n: UInt64) -> DecisionKey { DecisionKey(high: 0, low: n) }
let point = BaselinePoint(successRate: 1, avgResponseTimeMs: 100, costPerRequest: 0.01)

@Suite("Partition state")
struct PartitionStateTests {
    @Test func remembersDecisionsAndHistory() {
        var state = PartitionState(retentionMs: nil, capacity: 10, historyWindow: 3)
        for n: UInt64 in 1...5 {
            state.record(
                key(n), workflowID: "wf",
                point: BaselinePoint(successRate: Double(n) / 10, avgResponseTimeMs: 0, costPerRequest: 0), atMs: 0)
        }
        #expect(state.contains(key(1)) && state.contains(key(5)))
        #expect(!state.contains(key(6)))
        #expect(state.baseline(for: "wf").map(\.successRate) == [0.3, 0.4, 0.5])
        #expect(state.baseline(for: "other").isEmpty)
        // A duplicate never joins the history.
        state.record(key(5), workflowID: "wf", point: point, atMs: 0)
        #expect(state.baseline(for: "wf").map(\.successRate) == [0.3, 0.4, 0.5])
        #expect(state.decisionCount == 5)
    }

    @Test func retentionForgetsOldDecisions() {
        var state = PartitionState(retentionMs: 1000, capacity: 100, historyWindow: 3)
        state.record(key(1), workflowID: "wf", point: point, atMs: 0)
        state.record(key(2), workflowID: "wf", point: point, atMs: 500)
        state.expire(nowMs: 1000)
        #expect(state.contains(key(1)), "exactly at the retention it is still kept")
        state.expire(nowMs: 1001)
        #expect(!state.contains(key(1)))
        #expect(state.contains(key(2)))
        state.expire(nowMs: 10_000)
        #expect(state.decisionCount == 0)
    }

    @Test func capacityDropsTheOldestFirst() {
        var state = PartitionState(retentionMs: nil, capacity: 3, historyWindow: 1)
        for n: UInt64 in 1...5 { state.record(key(n), workflowID: "wf", point: point, atMs: Int64(n)) }
        #expect(state.decisionCount == 3)
        #expect(!state.contains(key(1)) && !state.contains(key(2)))
        #expect(state.contains(key(3)) && state.contains(key(5)))
    }

    @Test func workflowHistoriesAreBoundedLeastRecentFirst() {
        var state = PartitionState(retentionMs: nil, capacity: 1000, historyWindow: 2, maximumWorkflows: 10)
        for n: UInt64 in 1...10 { state.record(key(n), workflowID: "wf-\(n)", point: point, atMs: 0) }
        state.record(key(11), workflowID: "wf-1", point: point, atMs: 0)  // wf-1 is now the most recent
        state.record(key(12), workflowID: "wf-new", point: point, atMs: 0)
        #expect(state.workflowCount == 10)
        #expect(state.baseline(for: "wf-2").isEmpty, "the least recently decided workflow goes first")
        #expect(state.baseline(for: "wf-1").count == 2)
        #expect(state.baseline(for: "wf-new").count == 1)
    }

    @Test func compactionKeepsOrderOverManyExpiries() {
        var state = PartitionState(retentionMs: 10, capacity: 1_000_000, historyWindow: 1)
        for n in 1...10_000 {
            state.record(key(UInt64(n)), workflowID: "wf", point: point, atMs: Int64(n))
            state.expire(nowMs: Int64(n))
        }
        #expect(state.decisionCount == 11)
        #expect(state.contains(key(10_000)) && state.contains(key(9_990)) && !state.contains(key(9_989)))
    }
}

@Suite("Decider and state store")
struct DeciderTests {
    static let sample: [[UInt8]] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../examples/executor-results.jsonl")
        return (try! String(contentsOf: url, encoding: .utf8)).split(separator: "\n").map { Array($0.utf8) }
    }()

    func messages(partition: Int32 = 0) -> [EngineInput] {
        Self.sample.enumerated().map {
            EngineInput(
                topic: "executor-results", partition: partition, offset: Int64($0.offset), timestampMs: nil,
                value: $0.element)
        }
    }

    @Test func storeDecidesDeduplicatesAndRejectsInOrder() async {
        let store = DecisionStateStore(
            decider: Decider(rules: ScoringRules()), retentionMs: nil, capacityPerPartition: 1000)
        await store.install(store.emptyState(), for: 0)
        let results = await store.process(messages(), nowMs: 1_763_546_400_000)
        let kinds = results.map { result -> String in
            switch result {
            case .decided?: "decided"
            case .duplicate?: "duplicate"
            case let .rejected(rejection)?: rejection.reason.rawValue
            case let .rejectedBefore(rejection)?: "again: \(rejection.reason.rawValue)"
            case nil: "not owned"
            }
        }
        #expect(
            kinds == [
                "decided", "decided", "decided", "decided", "decided", "duplicate", "invalid_json",
                "unsupported_schema", "inconsistent", "wrong_type", "invalid_value", "missing_field",
            ])
        // Redelivery of the same batch (a restart without a commit) decides nothing new.
        let again = await store.process(messages(), nowMs: 1_763_546_400_000)
        let decidedAgain = again.filter { if case .decided? = $0 { true } else { false } }.count
        #expect(decidedAgain == 0)
        #expect(await store.size.decisions == 5)
    }

    @Test func messagesOfUnownedPartitionsAreNotProcessed() async {
        let store = DecisionStateStore(
            decider: Decider(rules: ScoringRules()), retentionMs: nil, capacityPerPartition: 1000)
        await store.install(store.emptyState(), for: 0)
        #expect(await store.process(messages(partition: 1), nowMs: 0).allSatisfy { $0 == nil })
        await store.drop([0])
        #expect(await store.ownedPartitions.isEmpty)
    }

    /// What an outcome says, with its decision's bytes: comparable across stores.
    static func summary(_ outcome: DecisionOutcome?) -> String {
        switch outcome {
        case let .decided(_, json)?: "decided " + String(decoding: json, as: UTF8.self)
        case let .duplicate(key)?: "duplicate \(key)"
        case let .rejected(rejection)?: "rejected \(rejection.reason.rawValue)"
        case let .rejectedBefore(rejection)?: "again \(rejection.reason.rawValue)"
        case nil: "not owned"
        }
    }

    @Test(arguments: [2, 3, 8])
    func shardsDecideEachPartitionAsOneStoreDoes(shards: Int) async {
        // Four partitions' messages interleaved (each sample line, then the whole sample again: duplicates
        // and dead letters met twice), one of them not installed: every outcome, at its position, is the
        // one store's, byte for byte.
        let partitions: [Int32] = [0, 1, 2, 5]
        let batch = (Self.sample + Self.sample).enumerated().flatMap { offset, line in
            partitions.map {
                EngineInput(
                    topic: "executor-results", partition: $0, offset: Int64(offset), timestampMs: nil, value: line)
            }
        }
        func decide(_ store: DecisionStateStore) async -> [String] {
            for partition in partitions.dropLast() { await store.install(store.emptyState(), for: partition) }
            let first = await store.process(Array(batch.prefix(17)), nowMs: 1_763_546_400_000)
            let rest = await store.process(Array(batch.dropFirst(17)), nowMs: 1_763_546_400_000)
            return (first + rest).map(Self.summary)
        }
        let one = DecisionStateStore(
            decider: Decider(rules: ScoringRules()), retentionMs: nil, capacityPerPartition: 1000)
        let sharded = DecisionStateStore(
            decider: Decider(rules: ScoringRules()), retentionMs: nil, capacityPerPartition: 1000, shards: shards)
        #expect(sharded.shardCount == shards)
        let expected = await decide(one)
        #expect(await decide(sharded) == expected)
        #expect(expected.filter { $0.hasPrefix("decided") }.count == 15, "five runs on each installed partition")
        #expect(expected.filter { $0 == "not owned" }.count == 2 * Self.sample.count)
        #expect(await sharded.ownedPartitions == [0, 1, 2])
        #expect(await sharded.size.decisions == 15)
        #expect(await sharded.snapshot([0, 1, 2, 5]) == (await one.snapshot([0, 1, 2, 5])))
        await sharded.drop([1, 2, 5])
        #expect(await sharded.ownedPartitions == [0])
    }

    @Test func decisionsReadBackRebuildTheSameState() async {
        // What restore reads from the decisions topic reproduces dedup ids and history.
        let decider = Decider(rules: ScoringRules())
        var state = PartitionState(retentionMs: nil, capacity: 100, historyWindow: 20)
        let scratch = DecisionScratch()
        var rebuilt = PartitionState(retentionMs: nil, capacity: 100, historyWindow: 20)
        var firstDecision: [UInt8] = []
        for (offset, line) in Self.sample.enumerated() {
            let outcome = line.withUnsafeBytes {
                decider.process(
                    $0, source: MessageSource(topic: "t", partition: 0, offset: Int64(offset), timestampMs: nil),
                    nowMs: 0, state: &state, scratch: scratch)
            }
            if case let .decided(_, json) = outcome, let record = DecisionRecord.parse(json) {
                #expect(
                    DecisionRecord.parse(json, fastParser: scratch.fastParser) == record, "both parsers read the same")
                if firstDecision.isEmpty { firstDecision = json }
                #expect(record.rulesFingerprint == decider.rulesFingerprint)
                rebuilt.record(record.decisionID, workflowID: record.workflowID, point: record.point, atMs: 0)
            }
        }
        #expect(rebuilt.decisionCount == state.decisionCount)
        for workflow in ["wf-support-triage", "wf-invoice-extract", "wf-search-summarize", "wf-healthy", "wf-legacy"] {
            #expect(rebuilt.baseline(for: workflow) == state.baseline(for: workflow))
        }
        // Edge cases of the reading itself, identical on both parsers: the last of repeated keys wins,
        // integers of any size are numbers, a wrong type anywhere makes the record foreign.
        let base = String(decoding: firstDecision.dropLast(), as: UTF8.self)
        let variants = [
            base + ",\"workflow_id\":\"wf-repeated\"}",
            base
                + ",\"report\":{\"success_rate\":1,\"avg_response_time_ms\":18446744073709551615,\"cost_per_request\":0}}",
            base + ",\"rules_fingerprint\":null}",
            base + ",\"decision_id\":\"0123\"}",
        ]
        for (variant, isDecision) in zip(variants, [true, true, false, false]) {
            let reference = DecisionRecord.parse(Array(variant.utf8))
            #expect(
                DecisionRecord.parse(Array(variant.utf8), fastParser: scratch.fastParser) == reference, "\(variant)")
            #expect((reference != nil) == isDecision, "\(variant)")
        }
        #expect(
            DecisionRecord.parse(Array((base + ",\"workflow_id\":\"wf-repeated\"}").utf8))?.workflowID == "wf-repeated")
        #expect(
            DecisionRecord.parse(Array(variants[1].utf8), fastParser: scratch.fastParser)?.point.avgResponseTimeMs
                == Double(UInt64.max))
        for foreign in [
            "{\"schema\":\"other\"}", "not json", "[1]", "{\"schema\":\"optimizer.decision/v1\",\"decision_id\":7}",
        ] {
            #expect(DecisionRecord.parse(Array(foreign.utf8)) == nil)
            #expect(DecisionRecord.parse(Array(foreign.utf8), fastParser: scratch.fastParser) == nil)
        }
    }
}
