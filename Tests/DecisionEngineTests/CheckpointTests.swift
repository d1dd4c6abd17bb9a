import DecisionCore
import Testing
import WireFormat

@testable import DecisionEngine

/// A stream of decisions as a partition's decisions topic holds them, with dead letters between them:
/// many workflows (some forgotten by the workflow cap), variants, and ids beyond a small cap.
enum DecisionStream {
    enum Record {
        case decision([UInt8], timestampMs: Int64)
        case deadLetter(sourceOffset: Int64)
    }

    static func make(count: Int, rules: ScoringRules = ScoringRules()) -> [Record] {
        let decider = Decider(rules: rules)
        var state = PartitionState(rules: rules, retentionMs: nil, capacity: count)
        let scratch = DecisionScratch()
        var records: [Record] = []
        for index in 0..<count {
            if index % 13 == 5 {
                records.append(.deadLetter(sourceOffset: Int64(index)))
                continue
            }
            let variants = ["\"a\"", "\"b\"", nil, "\"c\""]
            let message = VariantMessages.report(
                "run-\(index)", workflow: "wf-\(index % 37)", variant: variants[index % 4],
                successful: 4 + index % 7, latency: Double(800 + (index * 37) % 900))
            let outcome = message.withUnsafeBytes {
                decider.process(
                    $0, source: MessageSource(topic: "t", partition: 0, offset: Int64(index), timestampMs: nil),
                    nowMs: 0, state: &state, scratch: scratch)
            }
            if case let .decided(_, json) = outcome {
                records.append(.decision(json, timestampMs: Int64(1_000 + index)))
            }
        }
        return records
    }

    static func apply(_ records: some Sequence<Record>, to restore: inout StateRestore) {
        for record in records {
            switch record {
            case let .decision(json, timestampMs): restore.apply(json, partition: 0, timestampMs: timestampMs)
            case let .deadLetter(offset): restore.applyDeadLetter(sourceOffset: offset, partition: 0)
            }
        }
    }
}

@Suite("Checkpoints: a partition's state in bytes and back")
struct CheckpointTests {
    static let rules = ScoringRules()

    static func store(capacity: Int = 10_000, retentionMs: Int64? = nil) -> DecisionStateStore {
        DecisionStateStore(decider: Decider(rules: rules), retentionMs: retentionMs, capacityPerPartition: capacity)
    }

    static func identity(_ store: DecisionStateStore) -> PartitionCheckpoint.Identity {
        store.checkpointIdentity(partition: 0, inputTopic: "in", decisionsTopic: "out", deadLetterTopic: "in.dlq")
    }

    /// The state after a full read of `records`.
    static func fullRead(_ records: [DecisionStream.Record], _ store: DecisionStateStore, nowMs: Int64 = 10_000)
        -> PartitionState
    {
        var restore = store.beginRestore([0], nowMs: nowMs)
        DecisionStream.apply(records, to: &restore)
        return restore.states[0]!
    }

    static func roundTrip(_ state: PartitionState, _ store: DecisionStateStore) throws -> PartitionState {
        let checkpoint = PartitionCheckpoint(
            identity: identity(store), decisionsOffset: 42, deadLettersOffset: 7, state: state)
        let decoded = try PartitionCheckpoint(decoding: checkpoint.encoded(), into: store.emptyState())
        #expect(decoded.identity == checkpoint.identity)
        #expect(decoded.decisionsOffset == 42 && decoded.deadLettersOffset == 7)
        return decoded.state
    }

    @Test func aStateReadBackEqualsTheStateWritten() throws {
        let store = Self.store()
        let state = Self.fullRead(DecisionStream.make(count: 400), store)
        #expect(state.decisionCount > 300 && state.workflowCount == 37 && state.deadLetterCount > 20)
        #expect(try Self.roundTrip(state, store) == state)
        #expect(try Self.roundTrip(store.emptyState(), store) == store.emptyState(), "an empty state too")
    }

    /// The property the restore relies on: for every split point, the state a checkpoint taken there holds,
    /// with the records after it applied, equals the state of a full read, also where the cap forgets ids
    /// and the workflow cap forgets workflows.
    @Test(arguments: [(10_000, 100_000), (50, 100_000), (50, 10)])
    func aCheckpointAndItsTailEqualAFullReadAtEverySplit(capacity: Int, maximumWorkflows: Int) throws {
        let records = DecisionStream.make(count: 160)
        let store = Self.store(capacity: capacity)
        let template = PartitionState(
            retentionMs: nil, capacity: capacity, historyWindow: Self.rules.history.baselineWindow,
            variantWindow: Self.rules.variants.window, maximumWorkflows: maximumWorkflows)
        func restore(_ checkpointed: PartitionState? = nil) -> StateRestore {
            StateRestore(
                [0], template: template, rulesFingerprint: store.decider.rulesFingerprint, nowMs: 10_000,
                checkpointed: checkpointed.map { [0: $0] } ?? [:])
        }
        var full = restore()
        DecisionStream.apply(records, to: &full)
        for split in 0...records.count {
            var head = restore()
            DecisionStream.apply(records[..<split], to: &head)
            var identity = Self.identity(store)
            identity.stateSettings = template.settingsDescription
            let bytes = PartitionCheckpoint(
                identity: identity, decisionsOffset: Int64(split), deadLettersOffset: 0,
                state: head.states[0]!
            ).encoded()
            let loaded = try PartitionCheckpoint(decoding: bytes, into: template).state
            var tail = restore(loaded)
            DecisionStream.apply(records[split...], to: &tail)
            #expect(tail.states[0]! == full.states[0]!, "split at \(split)")
        }
    }

    @Test func aCheckpointLoadedAfterTheRetentionForgetsWhatAFullReadWouldNotKeep() throws {
        let records = DecisionStream.make(count: 100)
        let store = Self.store(retentionMs: 1_000)
        var head = store.beginRestore([0], nowMs: 1_200)
        DecisionStream.apply(records, to: &head)
        let loaded = try Self.roundTrip(head.states[0]!, store)
        // Loaded later: the ids decided before 1,050 are past the retention, as the full read finds them.
        let later = store.beginRestore([0], nowMs: 2_050, checkpointed: [0: loaded]).states[0]!
        let full = Self.fullRead(records, store, nowMs: 2_050)
        #expect(later.decisionCount == full.decisionCount)
        for case let .decision(json, timestampMs) in records {
            let id = DecisionRecord.parse(json)!.decisionID
            #expect(later.contains(id) == full.contains(id), "decided at \(timestampMs)")
        }
    }

    @Test func aCutOffCheckpointIsTruncated() throws {
        let store = Self.store()
        let bytes = PartitionCheckpoint(
            identity: Self.identity(store), decisionsOffset: 1, deadLettersOffset: 0,
            state: Self.fullRead(DecisionStream.make(count: 50), store)
        ).encoded()
        for length in [0, 10, 19, bytes.count / 2, bytes.count - 1] {
            #expect(throws: CheckpointProblem.self, "cut at \(length)") {
                try PartitionCheckpoint(decoding: Array(bytes.prefix(length)), into: store.emptyState())
            }
            do {
                _ = try PartitionCheckpoint(decoding: Array(bytes.prefix(length)), into: store.emptyState())
            } catch {
                guard case .truncated = error else {
                    Issue.record("cut at \(length): \(error)")
                    continue
                }
            }
        }
    }

    @Test func anyChangedByteIsCorrupted() {
        let store = Self.store()
        let bytes = PartitionCheckpoint(
            identity: Self.identity(store), decisionsOffset: 1, deadLettersOffset: 0,
            state: Self.fullRead(DecisionStream.make(count: 30), store)
        ).encoded()
        // Every byte of the magic, some of the length, body and checksum, and bytes appended.
        var positions = Array(0..<8) + [20, 100, bytes.count / 2, bytes.count - 5, bytes.count - 1]
        positions.append(contentsOf: stride(from: 16, to: bytes.count, by: 97))
        for position in positions {
            var changed = bytes
            changed[position] ^= 0x5A
            do {
                _ = try PartitionCheckpoint(decoding: changed, into: store.emptyState())
                Issue.record("a change at byte \(position) was not noticed")
            } catch {
                switch error {
                case .corrupted, .truncated: break
                default: Issue.record("byte \(position): \(error)")
                }
            }
        }
        #expect(throws: CheckpointProblem.self) {
            try PartitionCheckpoint(decoding: bytes + [0], into: store.emptyState())
        }
    }

    @Test func otherRulesOrSettingsAreForeign() throws {
        let store = Self.store()
        let bytes = PartitionCheckpoint(
            identity: Self.identity(store), decisionsOffset: 1, deadLettersOffset: 0, state: store.emptyState()
        ).encoded()
        var other = ScoringRules()
        other.optimizationThreshold = 90
        let otherRules = DecisionStateStore(
            decider: Decider(rules: other), retentionMs: nil, capacityPerPartition: 10_000)
        let loaded = try PartitionCheckpoint(decoding: bytes, into: otherRules.emptyState())
        let mismatch = try #require(loaded.identity.mismatch(against: Self.identity(otherRules)))
        #expect(mismatch.hasPrefix("written for rules sha256:a68eeab32a5ca2e4, not sha256:"))
        var otherTopic = Self.identity(store)
        otherTopic.partition = 3
        #expect(loaded.identity.mismatch(against: otherTopic)?.contains("partition 0") == true)
        #expect(
            throws: CheckpointProblem.foreign(
                "written with state settings \(store.emptyState().settingsDescription), not \(Self.store(capacity: 5).emptyState().settingsDescription)"
            )
        ) {
            try PartitionCheckpoint(decoding: bytes, into: Self.store(capacity: 5).emptyState())
        }
    }

    @Test func theChecksumIsCRC32C() {
        // The check value every CRC-32C implementation gives for "123456789".
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }
}

@Suite("Restore range: where a partition's restore starts reading")
struct RestoreRangeTests {
    @Test func theLatestOfTheLowWatermarkTheCheckpointAndTheFirstRetainedRecord() {
        #expect(RestoreRange.start(low: 0, high: 100, checkpointOffset: nil, firstRetained: nil) == 0)
        #expect(RestoreRange.start(low: 10, high: 100, checkpointOffset: nil, firstRetained: nil) == 10)
        #expect(RestoreRange.start(low: 10, high: 100, checkpointOffset: 60, firstRetained: nil) == 60)
        #expect(RestoreRange.start(low: 10, high: 100, checkpointOffset: 60, firstRetained: 80) == 80)
        #expect(RestoreRange.start(low: 10, high: 100, checkpointOffset: 90, firstRetained: 80) == 90)
        #expect(RestoreRange.start(low: 10, high: 100, checkpointOffset: nil, firstRetained: 5) == 10)
        #expect(RestoreRange.start(low: 10, high: 100, checkpointOffset: nil, firstRetained: 500) == 100)
        #expect(RestoreRange.start(low: 10, high: 100, checkpointOffset: 100, firstRetained: nil) == 100)
    }

    @Test func aCheckpointOutsideWhatTheTopicHoldsIsOutOfRange() {
        #expect(RestoreRange.problem(offset: 0, low: 0, high: 0, topic: "out") == nil)
        #expect(RestoreRange.problem(offset: 100, low: 10, high: 100, topic: "out") == nil)
        #expect(RestoreRange.problem(offset: 10, low: 10, high: 100, topic: "out") == nil)
        #expect(
            RestoreRange.problem(offset: 101, low: 10, high: 100, topic: "out")
                == .outOfRange("it covers out up to offset 101, beyond its end 100"))
        #expect(
            RestoreRange.problem(offset: 9, low: 10, high: 100, topic: "out")
                == .outOfRange("it covers out up to offset 9, before its first record 10"))
    }

    /// Starting at the offset a broker's offsets-for-times answers for "now − retention" (a fake answer
    /// here: the mock broker cannot look up times) rebuilds the state a full read does.
    @Test(arguments: [0, 1_050, 1_100, 1_159, 5_000])
    func readingFromTheFirstRetainedRecordEqualsAFullRead(cutoff: Int64) {
        let records = DecisionStream.make(count: 160)
        let store = CheckpointTests.store(retentionMs: 1_000)
        let nowMs = cutoff + 1_000
        var full = store.beginRestore([0], nowMs: nowMs)
        DecisionStream.apply(records, to: &full)
        // The fake answer: the first decision record at or after the cutoff (dead letters carry none).
        let answer = records.firstIndex { record in
            if case let .decision(_, timestampMs) = record { return timestampMs >= cutoff }
            return false
        }
        let start = Int(
            RestoreRange.start(
                low: 0, high: Int64(records.count), checkpointOffset: nil, firstRetained: answer.map(Int64.init)))
        var skipping = store.beginRestore([0], nowMs: nowMs)
        DecisionStream.apply(
            records[start...].filter { if case .decision = $0 { return true } else { return false } },
            to: &skipping)
        var decisionsOnly = store.beginRestore([0], nowMs: nowMs)
        DecisionStream.apply(
            records.filter { if case .decision = $0 { return true } else { return false } }, to: &decisionsOnly)
        #expect(skipping.states[0]! == decisionsOnly.states[0]!, "cutoff \(cutoff): from offset \(start)")
        #expect(full.states[0]!.decisionCount == skipping.states[0]!.decisionCount)
    }
}
