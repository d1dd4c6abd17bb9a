/// The byte form (``StateWriter``, ``StateReader``) of what the state keeps of decided runs: a workflow's
/// history and its variant table, exactly, ring positions and counters included, so that state read back
/// from a checkpoint decides the next run as the state written would have.
extension BaselinePoint {
    static let encodedBytes = 24

    public func write(to writer: inout StateWriter) {
        writer.write(successRate)
        writer.write(avgResponseTimeMs)
        writer.write(costPerRequest)
    }

    public init(reading reader: inout StateReader) throws(StateReadError) {
        self.init(
            successRate: try reader.readDouble(), avgResponseTimeMs: try reader.readDouble(),
            costPerRequest: try reader.readDouble())
    }
}

extension WorkflowHistory {
    public func write(to writer: inout StateWriter) {
        writer.write(window)
        writer.write(points.count)
        for point in points { point.write(to: &writer) }
    }

    public init(reading reader: inout StateReader) throws(StateReadError) {
        self.init(window: try reader.readInt())
        let count = try reader.readCount(minimumBytes: BaselinePoint.encodedBytes)
        guard count <= window else { throw StateReadError("a history of \(count) runs in a window of \(window)") }
        points.reserveCapacity(count)
        for _ in 0..<count { points.append(try BaselinePoint(reading: &reader)) }
    }
}

extension VariantRun {
    public func write(to writer: inout StateWriter) {
        writer.write(successful)
        writer.write(completed)
        writer.write(avgResponseTimeMs)
        writer.write(costPerRequest)
    }

    public init(reading reader: inout StateReader) throws(StateReadError) {
        self.init(
            successful: try reader.readInt(), completed: try reader.readInt(),
            avgResponseTimeMs: try reader.readDouble(), costPerRequest: try reader.readDouble())
    }
}

extension VariantWindow {
    func write(to writer: inout StateWriter) {
        writer.write(capacity)
        writer.write(start)
        writer.write(runs.count)
        for run in runs { run.write(to: &writer) }
    }

    init(reading reader: inout StateReader) throws(StateReadError) {
        self.init(capacity: try reader.readInt())
        let start = try reader.readInt()
        let count = try reader.readCount(minimumBytes: 32)
        guard count <= capacity, start >= 0, start < max(1, count) else {
            throw StateReadError("a variant window of \(count) runs starting at \(start) in a ring of \(capacity)")
        }
        self.start = start
        runs.reserveCapacity(count)
        for _ in 0..<count { runs.append(try VariantRun(reading: &reader)) }
    }
}

extension VariantTable {
    public func write(to writer: inout StateWriter) {
        writer.write(decisions)
        writer.write(lastDecidedVariant)
        writer.write(entries.count)
        for entry in entries {
            writer.write(entry.name)
            writer.write(entry.baseline)
            writer.write(entry.lastDecided)
            entry.window.write(to: &writer)
        }
    }

    public init(reading reader: inout StateReader) throws(StateReadError) {
        self.init()
        decisions = try reader.readInt()
        lastDecidedVariant = try reader.readOptionalString()
        let count = try reader.readCount(minimumBytes: 41)
        guard count <= VariantRules.maximumVariants else {
            throw StateReadError("\(count) variants, more than the \(VariantRules.maximumVariants) kept")
        }
        for _ in 0..<count {
            let name = try reader.readString()
            let baseline = try reader.readOptionalString()
            let lastDecided = try reader.readInt()
            entries.append(
                Entry(
                    name: name, baseline: baseline, window: try VariantWindow(reading: &reader),
                    lastDecided: lastDecided))
        }
    }
}
