import DecisionCore
import WireFormat

/// The engine's half of a restore: partitions' state rebuilt from the decisions read back from their
/// decisions-topic partition, in offset order. Only decisions of the current rules fingerprint count, and
/// only those the retention still keeps (``PartitionState/retains(decidedAtMs:nowMs:)``); anything else
/// on the topic (another schema, a foreign message) is read and passed over. The service reads the topic
/// and installs the result (``DecisionStateStore/install(_:)``).
public struct StateRestore {
    public let rulesFingerprint: String
    /// The moment the retention is measured from.
    public let nowMs: Int64
    public private(set) var states: [Int32: PartitionState]
    /// Records read back, whether or not they counted.
    public private(set) var recordsRead = 0
    private let parser = SimdJSONParser()

    /// States for `partitions`: a checkpoint's where `checkpointed` has one (its ids older than the
    /// retention forgotten, as a full read would not have recorded them), else empty and sized like
    /// `template`. The records after each checkpoint's offsets are then applied as for a full read.
    public init(
        _ partitions: [Int32], template: PartitionState, rulesFingerprint: String, nowMs: Int64,
        checkpointed: [Int32: PartitionState] = [:]
    ) {
        self.rulesFingerprint = rulesFingerprint
        self.nowMs = nowMs
        states = Dictionary(
            uniqueKeysWithValues: partitions.map { partition in
                guard var state = checkpointed[partition] else { return (partition, template) }
                state.expire(nowMs: nowMs)
                return (partition, state)
            })
    }

    /// Applies one record read back from `partition`'s dead-letter partition: the input offset its
    /// `dlq-source-offset` header names, or `nil` for a record that is not a dead letter of this input
    /// topic and partition (read and passed over).
    public mutating func applyDeadLetter(sourceOffset: Int64?, partition: Int32) {
        recordsRead += 1
        if let sourceOffset { states[partition]?.recordDeadLetter(forOffset: sourceOffset) }
    }

    /// Applies one record of `partition`'s decisions, written at `timestampMs` (`nil`: now).
    public mutating func apply(_ bytes: [UInt8], partition: Int32, timestampMs: Int64?) {
        recordsRead += 1
        guard let index = states.index(forKey: partition),
            let record = DecisionRecord.parse(bytes, fastParser: parser, fingerprint: rulesFingerprint)
        else { return }
        // In place, through the values' index: reading the state out of the dictionary would copy it (and
        // retain its storage) per record, and the optional subscript's modify costs twice as much.
        states.values[index].restoreIfRetained(record, atMs: timestampMs ?? nowMs, nowMs: nowMs)
    }
}
