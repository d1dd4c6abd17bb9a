extension Duration {
    /// Whole milliseconds, rounded up and at least 0, as librdkafka's timeouts take them. Rounded up so
    /// that what is left of a wait, say 0.3 ms, is a poll of 1 ms and not one that returns at once:
    /// rounded down, the last millisecond of every timed wait was a busy loop (9 ms of CPU a second in
    /// an idle service whose consumer polls in 100 ms waits).
    var milliseconds: Int32 {
        let (seconds, attoseconds) = components
        let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
        var milliseconds = seconds * 1000 + attoseconds / attosecondsPerMillisecond
        if attoseconds % attosecondsPerMillisecond > 0 { milliseconds += 1 }
        return Int32(clamping: max(0, milliseconds))
    }
}
