import Foundation

/// Wall-clock time and duration conversions for the service (the Kafka layer converts its own, and
/// `score` reads the clock itself).
public enum WallClock {
    /// Milliseconds since the epoch: decision times, retention, record timestamps.
    public static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// Runs `work` on a Dispatch queue after `delay`: off the cooperative pool, so it runs whatever the pool
/// (or librdkafka) is doing. The deadlines of the stop budget and of the delivery ledger's waits.
func runAfter(_ delay: Duration, _ work: @escaping @Sendable () -> Void) {
    DispatchQueue.global().asyncAfter(
        deadline: .now() + .nanoseconds(Int(clamping: delay.inNanoseconds)), execute: work)
}

extension Duration {
    /// The duration in seconds, as metrics and logs show it.
    public var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Whole milliseconds (rounded down).
    public var inMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Whole nanoseconds, as swift-metrics timers take them.
    public var inNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }

    /// Seconds with millisecond precision, for log lines.
    public var secondsText: String { String(format: "%.3f", inSeconds) }
}
