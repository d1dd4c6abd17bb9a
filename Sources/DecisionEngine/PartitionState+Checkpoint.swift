import DecisionCore

/// A partition's state in bytes and back, for checkpoints: the decision ids in the order they were made,
/// every workflow's history and variants, the dead-lettered offsets, and the counters that order
/// forgetting. Read back into an empty state of the same settings, it is equal to the state written.
extension PartitionState {
    /// The settings a checkpoint must share with the state it is read into, in one line.
    public var settingsDescription: String {
        "retention_ms=\(retentionMs.map(String.init) ?? "none") capacity=\(capacity) history_window=\(historyWindow) variant_window=\(variantWindow) maximum_workflows=\(maximumWorkflows)"
    }

    public func write(to writer: inout StateWriter) {
        writer.write(decisionsRecorded)
        writer.write(order.count)
        for decided in order.elements {
            writer.write(decided.key.high)
            writer.write(decided.key.low)
            writer.write(decided.atMs)
        }
        writer.write(workflows.count)
        for (workflowID, workflow) in workflows {
            writer.write(workflowID)
            writer.write(workflow.lastDecision)
            workflow.history.write(to: &writer)
            workflow.variants.write(to: &writer)
        }
        writer.write(deadLetterOrder.count)
        for offset in deadLetterOrder.elements { writer.write(offset) }
    }

    /// The state `writer` wrote, read into `empty` (whose settings it must have been written with).
    public init(reading reader: inout StateReader, into empty: PartitionState) throws(StateReadError) {
        self = empty
        decisionsRecorded = try reader.readInt()
        let decisions = try reader.readCount(minimumBytes: 24)
        guard decisions <= capacity else {
            throw StateReadError("\(decisions) decision ids, over the cap of \(capacity)")
        }
        var kept: [Decided] = []
        kept.reserveCapacity(decisions)
        decided.reserveCapacity(decisions)
        for _ in 0..<decisions {
            let key = DecisionKey(high: try reader.readUInt64(), low: try reader.readUInt64())
            guard decided.insert(key).inserted else { throw StateReadError("decision id \(key) kept twice") }
            kept.append(Decided(key: key, atMs: try reader.readInt64()))
        }
        order = FIFOQueue(kept)
        let workflowCount = try reader.readCount(minimumBytes: 48)
        guard workflowCount <= maximumWorkflows else {
            throw StateReadError("\(workflowCount) workflows, over the \(maximumWorkflows) kept")
        }
        workflows.reserveCapacity(workflowCount)
        for _ in 0..<workflowCount {
            let workflowID = try reader.readString()
            let lastDecision = try reader.readInt()
            let workflow = WorkflowState(
                history: try WorkflowHistory(reading: &reader), variants: try VariantTable(reading: &reader),
                lastDecision: lastDecision)
            guard workflows.updateValue(workflow, forKey: workflowID) == nil else {
                throw StateReadError("workflow \(workflowID) kept twice")
            }
        }
        let deadLetters = try reader.readCount(minimumBytes: 8)
        guard deadLetters <= capacity else {
            throw StateReadError("\(deadLetters) dead letters, over the cap of \(capacity)")
        }
        var offsets: [Int64] = []
        offsets.reserveCapacity(deadLetters)
        for _ in 0..<deadLetters {
            let offset = try reader.readInt64()
            guard deadLettered.insert(offset).inserted else {
                throw StateReadError("dead letter of offset \(offset) kept twice")
            }
            offsets.append(offset)
        }
        deadLetterOrder = FIFOQueue(offsets)
    }
}
