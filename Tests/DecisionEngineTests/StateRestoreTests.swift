import DecisionCore
import Testing
import WireFormat

@testable import DecisionEngine

@Suite("State restore: what a decision read back adds")
struct StateRestoreTests {
    /// The decisions the example runs make on partition 0, in order.
    static func decisions(rules: ScoringRules = ScoringRules()) -> [[UInt8]] {
        let decider = Decider(rules: rules)
        var state = PartitionState(rules: rules, retentionMs: nil, capacity: 1000)
        let scratch = DecisionScratch()
        return DeciderTests.sample.enumerated().compactMap { offset, line in
            let outcome = line.withUnsafeBytes {
                decider.process(
                    $0, source: MessageSource(topic: "t", partition: 0, offset: Int64(offset), timestampMs: nil),
                    nowMs: 0, state: &state, scratch: scratch)
            }
            if case let .decided(_, json) = outcome { return json }
            return nil
        }
    }

    @Test func everyDecisionOfTheFingerprintCountsAndNothingElse() throws {
        let store = DecisionStateStore(
            decider: Decider(rules: ScoringRules()), retentionMs: nil, capacityPerPartition: 100)
        var other = ScoringRules()
        other.optimizationThreshold = 90
        let ours = Self.decisions()
        try #require(ours.count >= 3)
        var restore = store.beginRestore([0], nowMs: 1_000)
        for json in ours { restore.apply(json, partition: 0, timestampMs: 500) }
        for json in Self.decisions(rules: other) { restore.apply(json, partition: 0, timestampMs: 500) }
        restore.apply(Array("not a decision".utf8), partition: 0, timestampMs: 500)
        restore.apply(ours[0], partition: 7, timestampMs: 500)
        #expect(restore.recordsRead == 2 * ours.count + 2, "every record read is counted, kept or not")
        #expect(restore.states.keys.sorted() == [0], "a partition not being restored gets no state")
        #expect(restore.states[0]!.decisionCount == ours.count, "only this fingerprint's decisions are kept")
        for json in ours {
            #expect(restore.states[0]!.contains(DecisionRecord.parse(json)!.decisionID))
        }
    }

    @Test func decisionsOlderThanTheRetentionAreLeftOut() {
        let ours = Self.decisions()
        let store = DecisionStateStore(
            decider: Decider(rules: ScoringRules()), retentionMs: 100, capacityPerPartition: 100)
        var restore = store.beginRestore([0], nowMs: 1_000)
        restore.apply(ours[0], partition: 0, timestampMs: 899)
        restore.apply(ours[1], partition: 0, timestampMs: 900)
        restore.apply(ours[2], partition: 0, timestampMs: nil)
        let state = restore.states[0]!
        #expect(!state.contains(DecisionRecord.parse(ours[0])!.decisionID), "one millisecond past the retention")
        #expect(state.contains(DecisionRecord.parse(ours[1])!.decisionID), "exactly at the retention's edge")
        #expect(state.contains(DecisionRecord.parse(ours[2])!.decisionID), "no timestamp: made now")
        #expect(state.retains(decidedAtMs: 900, nowMs: 1_000) && !state.retains(decidedAtMs: 899, nowMs: 1_000))
    }

    @Test func anInstalledRestoreIsDecidedOn() async {
        let ours = Self.decisions()
        let store = DecisionStateStore(
            decider: Decider(rules: ScoringRules()), retentionMs: nil, capacityPerPartition: 100)
        var restore = store.beginRestore([0], nowMs: 0)
        for json in ours { restore.apply(json, partition: 0, timestampMs: 0) }
        await store.install(restore.states)
        #expect(await store.ownedPartitions == [0])
        let outcomes = await store.process(
            DeciderTests.sample.enumerated().map { offset, line in
                EngineInput(topic: "t", partition: 0, offset: Int64(offset), timestampMs: nil, value: line)
            }, nowMs: 0)
        let decided = outcomes.filter { if case .decided? = $0 { return true } else { return false } }
        #expect(decided.isEmpty, "every run the restore read back is a duplicate")
    }
}

@Suite("Dead letters once: a redelivered bad message")
struct DeadLetterOnceTests {
    static let bad = Array(#"{"schema":"optimizer.test_execution_report/v1","workflow_id":"wf"}"#.utf8)

    func input(offset: Int64, _ value: [UInt8] = bad) -> EngineInput {
        EngineInput(topic: "executor-results", partition: 0, offset: offset, timestampMs: nil, value: value)
    }

    @Test func aDeadLetterReadBackIsNotWrittenAgain() async {
        let store = DecisionStateStore(
            decider: Decider(rules: ScoringRules()), retentionMs: nil, capacityPerPartition: 100)
        var restore = store.beginRestore([0], nowMs: 0)
        restore.applyDeadLetter(sourceOffset: 7, partition: 0)
        restore.applyDeadLetter(sourceOffset: 9, partition: 3)  // not being restored: ignored
        await store.install(restore.states)
        let outcomes = await store.process([input(offset: 7), input(offset: 8), input(offset: 8)], nowMs: 0)
        guard case .rejectedBefore(let first)? = outcomes[0] else {
            Issue.record("offset 7's dead letter was read back: \(String(describing: outcomes[0]))")
            return
        }
        #expect(first.reason == .missingField, "the rejection is still named")
        guard case .rejected? = outcomes[1], case .rejectedBefore? = outcomes[2] else {
            Issue.record("offset 8: dead-lettered once, then known: \(outcomes)")
            return
        }
    }

    @Test func theDeadLettersKeptAreBoundedByTheCapacity() {
        var state = PartitionState(retentionMs: nil, capacity: 3, historyWindow: 1)
        for offset in Int64(0)..<2000 { state.recordDeadLetter(forOffset: offset) }
        #expect(state.deadLetterCount == 3)
        #expect(state.hasDeadLetter(forOffset: 1999) && state.hasDeadLetter(forOffset: 1997))
        #expect(!state.hasDeadLetter(forOffset: 1996), "the oldest go first")
    }

    @Test func aDeadLetterNamesItsSourceByHeaders() {
        func headers(_ values: [String: String]) -> (String) -> [UInt8]? { { values[$0].map { Array($0.utf8) } } }
        let ours = headers([
            "dlq-source-topic": "executor-results", "dlq-source-partition": "2", "dlq-source-offset": "41",
        ])
        #expect(DeadLetterHeaders.sourceOffset(topic: "executor-results", partition: 2, header: ours) == 41)
        #expect(DeadLetterHeaders.sourceOffset(topic: "executor-results", partition: 1, header: ours) == nil)
        #expect(DeadLetterHeaders.sourceOffset(topic: "other", partition: 2, header: ours) == nil)
        #expect(
            DeadLetterHeaders.sourceOffset(
                topic: "executor-results", partition: 2,
                header: headers(["dlq-source-topic": "executor-results", "dlq-source-partition": "2"])) == nil)
    }
}
