import Foundation
import Synchronization

/// The one kind of dedicated OS thread in this layer: it runs jobs one after another, so that blocking
/// librdkafka calls never run on Swift's cooperative thread pool. The consumer's calls, the producer's
/// control calls and the producer's delivery-report poll loop each have one.
///
/// `@unchecked Sendable`: all mutable state (`jobs`, `stopping`, `finished`) is read and written only while
/// holding `condition`'s lock (a condition variable, which `Mutex` does not offer); `wake` and `ended` are
/// immutable (a semaphore is thread-safe).
final class KafkaThread: @unchecked Sendable {
    typealias Job = () -> Void

    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var stopping = false
    private var finished = false
    /// Wakes the thread when it is parked inside a librdkafka poll rather than on `condition`.
    private let wake: (@Sendable () -> Void)?
    /// Signalled once, when the thread's loop has returned.
    private let ended = DispatchSemaphore(value: 0)

    init(name: String, wake: (@Sendable () -> Void)? = nil) {
        self.wake = wake
        // The thread keeps this object alive until `main` returns, so a stopped thread never touches
        // freed state.
        let thread = Thread { self.main() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Queues a job; it runs after the jobs queued before it.
    func submit(_ job: @escaping Job) {
        condition.lock()
        let accepted = !finished
        if accepted { jobs.append(job) }
        condition.signal()
        condition.unlock()
        if accepted { wake?() } else { job() }
    }

    /// Runs `body` on the thread and returns its result to the awaiting task.
    func perform<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result { try body() }) }
        }
    }

    /// From the thread itself: runs queued jobs; returns whether any ran.
    @discardableResult
    func runPendingJobs() -> Bool {
        condition.lock()
        let pending = jobs
        jobs.removeAll()
        condition.unlock()
        for job in pending { job() }
        return !pending.isEmpty
    }

    /// From the thread itself: keeps running jobs until `done` holds. Used while a librdkafka callback
    /// waits for async code that may itself need this thread (a rebalance hook that commits). Woken by a
    /// job or by ``wakeServe()``; the 100 ms wait only bounds how late a deadline inside `done` is seen.
    func serve(until done: () -> Bool) {
        while !done() {
            if runPendingJobs() { continue }
            condition.lock()
            // `done` is checked again under the lock ``wakeServe()`` takes, so its wake-up cannot be lost.
            if jobs.isEmpty && !done() { _ = condition.wait(until: Date(timeIntervalSinceNow: 0.1)) }
            condition.unlock()
        }
    }

    /// Wakes a ``serve(until:)`` so it looks at its condition again (the awaited work finished).
    func wakeServe() {
        condition.lock()
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread finish the jobs already queued, then end. Jobs submitted later run on the caller.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
        wake?()
    }

    /// Waits until the thread has ended (after ``stop()``); for one caller, once.
    func waitUntilEnded() {
        ended.wait()
    }

    private func main() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty && stopping {
                finished = true
                condition.unlock()
                ended.signal()
                return
            }
            let pending = jobs
            jobs.removeAll()
            condition.unlock()
            for job in pending { job() }
        }
    }
}

/// A flag set once from one thread and read from any other.
public final class LockedFlag: Sendable {
    private let value = Atomic<Bool>(false)

    public init() {}

    public var isSet: Bool { value.load(ordering: .acquiring) }

    public func set() { value.store(true, ordering: .releasing) }
}
