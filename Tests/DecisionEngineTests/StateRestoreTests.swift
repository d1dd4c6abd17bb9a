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
