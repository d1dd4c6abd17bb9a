/// Where one partition's restore reads, from what the topic holds (its watermarks), the checkpoint
/// loaded for it, and the first record the retention still keeps. Pure, so every case is tested.
public enum RestoreRange {
    /// The first offset to read: the latest of the low watermark, the checkpoint's offset and the first
    /// retained record (what lies before it would be passed over by the retention anyway). `firstRetained`
    /// comes from an offsets-for-times look-up; `nil` (no answer, or "no record at or after", which some
    /// brokers answer wrongly) trusts nothing and reads from the low watermark.
    public static func start(low: Int64, high: Int64, checkpointOffset: Int64?, firstRetained: Int64?) -> Int64 {
        let retained = min(max(firstRetained ?? low, low), high)
        return max(low, checkpointOffset ?? low, retained)
    }

    /// Why a checkpoint's `offset` cannot be used with a partition holding `low..<high`: beyond the
    /// end (the topic was recreated), or before the start (records it did not see are gone); `nil` when
    /// it can.
    public static func problem(offset: Int64, low: Int64, high: Int64, topic: String) -> CheckpointProblem? {
        if offset > high {
            return .outOfRange("it covers \(topic) up to offset \(offset), beyond its end \(high)")
        }
        if offset < low {
            return .outOfRange("it covers \(topic) up to offset \(offset), before its first record \(low)")
        }
        return nil
    }
}
