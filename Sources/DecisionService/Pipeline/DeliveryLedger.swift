import Kafka
import Synchronization

/// Which input offsets may be stored: per partition, the input messages in consumption order with the
/// number of their outputs still unconfirmed. An offset becomes storable only when every output of its
/// message and of every earlier message of the partition is confirmed delivered (an in-order
/// watermark), so a crash at any moment re-decides and deduplicates instead of losing a run. It also
/// counts what is in flight, for backpressure, and keeps the first delivery failure, which stops the
/// service before the failed message's offset can move.
final class DeliveryLedger: Sendable {
    /// One input message's place in the ledger; an output's delivery report resolves it.
    struct Ticket: Sendable {
        let partition: Int32
        /// The partition's assignment the message was consumed in; reports of an earlier one are stale.
        let epoch: Int
        /// The message's absolute position in the partition's track.
        let position: Int
    }

    private struct Entry {
        var offset: Int64
        var pending: Int
        var arrived: ContinuousClock.Instant
    }

    private struct Track {
        var epoch: Int
        var entries: [Entry] = []
        /// `entries[..<head]` are complete.
        var head = 0
        /// Entries removed from the front by compaction: absolute position = dropped + index.
        var dropped = 0
        /// The next offset to store, not yet taken by ``takeStorable(_:)``.
        var storable: Int64?
        /// Per output partition, the offset after the last output confirmed there (or after what the
        /// restore read): what a checkpoint of the partition covers once nothing is in flight.
        var confirmedEnds: [TopicPartition: Int64] = [:]

        var pendingOutputs: Int { entries[head...].reduce(0) { $0 + $1.pending } }
    }

    private struct State {
        var tracks: [Int32: Track] = [:]
        var nextEpoch = 1
        var inFlightMessages = 0
        var inFlightBytes = 0
        var peakInFlightMessages = 0
        var failure: String?
        var retries: [(Ticket, ProducerRecord)] = []
        /// Bumped by every change a waiter may wait for: a resolution, a retry queued, a failure, a close.
        var version = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0

        /// Records a change and hands back the waiters to wake (outside the lock).
        mutating func changed() -> [CheckedContinuation<Void, Never>] {
            version += 1
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
    }

    private let state = Mutex(State())

    /// Starts tracking newly assigned partitions.
    func open(_ partitions: [Int32]) {
        state.withLock { state in
            for partition in partitions {
                state.tracks[partition] = Track(epoch: state.nextEpoch)
                state.nextEpoch += 1
            }
        }
    }

    /// Stops tracking revoked partitions: reports of their outputs still in flight are ignored from now on.
    func close(_ partitions: [Int32]) {
        let woken = state.withLock { state in
            for partition in partitions { state.tracks[partition] = nil }
            return state.changed()
        }
        woken.forEach { $0.resume() }
    }

    /// Registers a consumed message and the outputs it is about to produce (`bytes` in all); `nil` when
    /// the partition is not tracked (not assigned to this instance).
    func register(partition: Int32, offset: Int64, outputs: Int, bytes: Int, arrived: ContinuousClock.Instant)
        -> Ticket?
    {
        state.withLock { state -> Ticket? in
            guard var track = state.tracks[partition] else { return nil }
            state.tracks[partition] = nil  // edited in place below, without copying its arrays
            track.entries.append(Entry(offset: offset, pending: outputs, arrived: arrived))
            let ticket = Ticket(
                partition: partition, epoch: track.epoch, position: track.dropped + track.entries.count - 1)
            state.inFlightMessages += outputs
            state.peakInFlightMessages = max(state.peakInFlightMessages, state.inFlightMessages)
            state.inFlightBytes += bytes
            if outputs == 0 { Self.advance(&track) { _ in } }
            state.tracks[partition] = track
            return ticket
        }
    }

    /// What became of one output of `ticket` (`bytes` its weight in the in-flight bound): confirmed (at
    /// `delivered`, when known), or failed.
    struct Resolution {
        var ticket: Ticket
        var bytes: Int
        var delivered: DeliveryReport? = nil
        var failure: String? = nil
    }

    /// Resolves one output of `ticket`: confirmed (at `delivered`, when known), or failed. Returns how
    /// long each message that became complete took from its arrival, for the processing-time histogram.
    func resolve(_ ticket: Ticket, bytes: Int, delivered: DeliveryReport? = nil, failure: String? = nil) -> [Duration] {
        resolve([Resolution(ticket: ticket, bytes: bytes, delivered: delivered, failure: failure)])
    }

    /// Resolves a batch of outputs (the delivery reports of one poll) under one lock, waking waiters once.
    func resolve(_ resolutions: [Resolution]) -> [Duration] {
        guard !resolutions.isEmpty else { return [] }
        let (completed, woken) = state.withLock { state -> ([Duration], [CheckedContinuation<Void, Never>]) in
            let now = ContinuousClock.now
            var completed: [Duration] = []
            for resolution in resolutions { Self.settle(resolution, in: &state, now: now, completed: &completed) }
            return (completed, state.changed())
        }
        woken.forEach { $0.resume() }
        return completed
    }

    /// Appends to `completed` how long each message that became complete took from its arrival.
    private static func settle(
        _ resolution: Resolution, in state: inout State, now: ContinuousClock.Instant, completed: inout [Duration]
    ) {
        let ticket = resolution.ticket
        state.inFlightMessages -= 1
        state.inFlightBytes -= resolution.bytes
        guard var track = state.tracks[ticket.partition], track.epoch == ticket.epoch else { return }
        if let failure = resolution.failure {
            if state.failure == nil { state.failure = failure }
            return
        }
        state.tracks[ticket.partition] = nil  // edited in place below, without copying its arrays
        if let delivered = resolution.delivered {
            // Raised in place: one look-up of the topic's name per delivery.
            raise(&track.confirmedEnds[delivered.topicPartition, default: 0], to: delivered.offset + 1)
        }
        track.entries[ticket.position - track.dropped].pending -= 1
        advance(&track) { completed.append($0.duration(to: now)) }
        state.tracks[ticket.partition] = track
    }

    /// An output to send again in place of one that failed (a dead letter too large for its topic); it
    /// stays in flight for its message until the new attempt resolves.
    func retry(_ ticket: Ticket, with record: ProducerRecord, replacingBytes: Int) {
        let woken = state.withLock { state in
            state.inFlightBytes += record.value.count + (record.key?.count ?? 0) - replacingBytes
            state.retries.append((ticket, record))
            return state.changed()
        }
        woken.forEach { $0.resume() }
    }

    func takeRetries() -> [(Ticket, ProducerRecord)] {
        state.withLock { state in
            defer { state.retries.removeAll() }
            return state.retries
        }
    }

    /// Offsets to store, per partition (of `partitions`, or every tracked one), that became storable since
    /// the last call.
    func takeStorable(_ partitions: [Int32]? = nil) -> [Int32: Int64] {
        state.withLock { state in
            var positions: [Int32: Int64] = [:]
            for partition in partitions ?? Array(state.tracks.keys) {
                guard let storable = state.tracks[partition]?.storable else { continue }
                positions[partition] = storable
                state.tracks[partition]!.storable = nil
            }
            return positions
        }
    }

    /// Sets where `partition`'s outputs start being confirmed: the ends of what its restore read.
    func cover(_ partition: Int32, from ends: [TopicPartition: Int64]) {
        state.withLock { state in
            state.tracks[partition]?.confirmedEnds.merge(ends) { max($0, $1) }
        }
    }

    /// Per output partition, the offset after the last of `partition`'s outputs confirmed there (or after
    /// what its restore read); `nil` when the partition is not tracked.
    func confirmedEnds(of partition: Int32) -> [TopicPartition: Int64]? {
        state.withLock { $0.tracks[partition]?.confirmedEnds }
    }

    /// The first delivery failure, if any.
    var failure: String? { state.withLock { $0.failure } }

    var inFlight: (messages: Int, bytes: Int) { state.withLock { ($0.inFlightMessages, $0.inFlightBytes) } }

    /// The most outputs ever in flight at once: what the in-flight bound is checked against.
    var peakInFlightMessages: Int { state.withLock { $0.peakInFlightMessages } }

    /// Outputs not yet confirmed for `partitions` (every tracked partition when `nil`), counting retries.
    func pendingOutputs(_ partitions: [Int32]? = nil) -> Int {
        state.withLock { state in
            let tracks = partitions.map { $0.compactMap { state.tracks[$0] } } ?? Array(state.tracks.values)
            return tracks.reduce(0) { $0 + $1.pendingOutputs }
        }
    }

    /// How many more input messages may be fetched before the in-flight bound is reached: each message
    /// produces at most one output, so a batch of this size never takes the count above the bound (the
    /// bytes may pass theirs by one batch). Zero means backpressure: fetch nothing until deliveries catch up.
    func room(_ settings: ServiceSettings) -> Int {
        let (messages, bytes) = inFlight
        guard bytes < settings.maximumInFlightBytes else { return 0 }
        return max(0, settings.maximumInFlightMessages - messages)
    }

    /// Room for the next batch (see ``room(_:)``). When there is none it first waits, at most `patience`,
    /// for a delivery (or any other change) and returns 0, so the caller's loop goes round again: the
    /// backpressure of `run` and `replay`, woken by the ledger rather than a timer.
    func roomForNextBatch(_ settings: ServiceSettings, patience: Duration = .milliseconds(100)) async -> Int {
        let version = version
        let room = room(settings)
        if room == 0 { await waitForChange(since: version, timeout: patience) }
        return room
    }

    /// A number that changes whenever a waiter of ``waitForChange(since:timeout:)`` should look again.
    var version: Int { state.withLock { $0.version } }

    /// Waits until the ledger changes after `version` (a delivery resolved or failed, a retry queued, a
    /// partition closed), `timeout` passes, or the task is cancelled, whichever comes first. Woken by the
    /// change itself: no polling.
    func waitForChange(since version: Int, timeout: Duration) async {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let waiting = state.withLock { state -> Bool in
                    guard state.version == version, !Task.isCancelled, timeout > .zero else { return false }
                    state.waiters[id] = continuation
                    return true
                }
                guard waiting else { return continuation.resume() }
                runAfter(timeout) { [self] in wake(id) }
            }
        } onCancel: {
            wake(id)
        }
    }

    private func wake(_ id: Int) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
    }

    /// Waits until `partitions` (every tracked one when `nil`) have nothing in flight, a delivery failed,
    /// `timeout` passes or the task is cancelled; returns whether everything was confirmed. `resend` runs
    /// before every wait, so retries queued meanwhile (a dead letter sent again without its value) are
    /// sent instead of being waited for in vain.
    func drain(_ partitions: [Int32]? = nil, timeout: Duration, resend: () async -> Void = {}) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            let version = version
            await resend()
            guard pendingOutputs(partitions) > 0 else { return true }
            let left = ContinuousClock.now.duration(to: deadline)
            guard failure == nil, left > .zero, !Task.isCancelled else { return false }
            await waitForChange(since: version, timeout: left)
        }
    }

    /// Moves the head over complete entries (telling `completed` when each arrived), marks the next offset
    /// storable, and compacts.
    private static func advance(_ track: inout Track, completed: (_ arrived: ContinuousClock.Instant) -> Void) {
        while track.head < track.entries.count && track.entries[track.head].pending == 0 {
            track.storable = track.entries[track.head].offset + 1
            completed(track.entries[track.head].arrived)
            track.head += 1
        }
        // Compact once the complete prefix outweighs the live part, keeping appends amortised O(1).
        if track.head > 1024 && track.head * 2 > track.entries.count {
            track.entries.removeFirst(track.head)
            track.dropped += track.head
            track.head = 0
        }
    }
}

private func raise(_ value: inout Int64, to bound: Int64) {
    if value < bound { value = bound }
}
