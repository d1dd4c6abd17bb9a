import Foundation
import Synchronization

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

/// Waits at most `timeout` for work that cannot be interrupted (a file write on a thread pool): its value,
/// or `nil` when the time passed first, the work then finishing unawaited.
func value<T: Sendable>(of work: Task<T, any Error>, within timeout: Duration) async throws -> T? {
    let waiter = OnceContinuation<T?>()
    return try await withCheckedThrowingContinuation { continuation in
        waiter.set(continuation)
        Task { waiter.resume(with: await work.result.map { Optional($0) }) }
        runAfter(timeout) { waiter.resume(with: .success(nil)) }
    }
}

/// A continuation resumed by whichever of several racers comes first; the others find it taken.
private final class OnceContinuation<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func set(_ value: CheckedContinuation<T, any Error>) { continuation.withLock { $0 = value } }

    func resume(with result: Result<T, any Error>) {
        continuation.withLock { value in
            defer { value = nil }
            return value
        }?.resume(with: result)
    }
}
