import DecisionEngine
import Kafka
import Synchronization
import Testing

@testable import DecisionService

@Suite("Delivery ledger: in-order watermarks, failures, backpressure")
struct DeliveryLedgerTests {
    func register(_ ledger: DeliveryLedger, _ partition: Int32, _ offset: Int64, outputs: Int = 1, bytes: Int = 10)
        -> DeliveryLedger.Ticket
    {
        ledger.register(partition: partition, offset: offset, outputs: outputs, bytes: bytes, arrived: .now)!
    }

    @Test func anOffsetIsStorableOnlyWhenEveryEarlierOutputIsConfirmed() {
        let ledger = DeliveryLedger()
        ledger.open([0])
        let first = register(ledger, 0, 10)
        let second = register(ledger, 0, 11, outputs: 2, bytes: 20)
        let third = register(ledger, 0, 12)
        // Later messages confirmed first: nothing may be stored while offset 10 is unconfirmed.
        _ = ledger.resolve(third, bytes: 10)
        _ = ledger.resolve(second, bytes: 10)
        #expect(ledger.takeStorable().isEmpty)
        _ = ledger.resolve(first, bytes: 10)
        #expect(ledger.takeStorable() == [0: 11], "offset 11 still has one output in flight")
        let completed = ledger.resolve(second, bytes: 10)
        #expect(completed.count == 2, "messages 11 and 12 complete together")
        #expect(ledger.takeStorable() == [0: 13])
        #expect(ledger.takeStorable().isEmpty, "taken once")
        #expect(ledger.inFlight.messages == 0 && ledger.inFlight.bytes == 0)
    }

    @Test func messagesWithoutOutputsMoveTheWatermarkInOrder() {
        let ledger = DeliveryLedger()
        ledger.open([1])
        let decided = register(ledger, 1, 0)
        _ = register(ledger, 1, 1, outputs: 0)  // a duplicate
        #expect(ledger.takeStorable().isEmpty, "the duplicate waits behind the decision before it")
        _ = ledger.resolve(decided, bytes: 10)
        #expect(ledger.takeStorable() == [1: 2])
        _ = register(ledger, 1, 2, outputs: 0)
        #expect(ledger.takeStorable() == [1: 3])
    }

    @Test func aFailedDeliveryHoldsItsOffsetAndIsReported() {
        let ledger = DeliveryLedger()
        ledger.open([0])
        let failed = register(ledger, 0, 5)
        let later = register(ledger, 0, 6)
        _ = ledger.resolve(failed, bytes: 10, failure: "broker said no")
        _ = ledger.resolve(later, bytes: 10)
        #expect(ledger.failure == "broker said no")
        #expect(ledger.takeStorable().isEmpty, "nothing at or after the failed message may be committed")
    }

    @Test func takingOnePartitionsOffsetsLeavesTheOthers() {
        let ledger = DeliveryLedger()
        ledger.open([0, 1])
        _ = register(ledger, 0, 4, outputs: 0)
        _ = register(ledger, 1, 9, outputs: 0)
        #expect(ledger.takeStorable([0]) == [0: 5])
        #expect(ledger.takeStorable() == [1: 10], "partition 1's offset was not taken with partition 0's")
    }

    @Test func reportsOfARevokedAssignmentAreIgnored() {
        let ledger = DeliveryLedger()
        ledger.open([0])
        let old = register(ledger, 0, 7)
        ledger.close([0])
        ledger.open([0])
        let current = register(ledger, 0, 3)
        _ = ledger.resolve(old, bytes: 10, failure: "late failure of an abandoned output")
        #expect(ledger.failure == nil, "the next owner re-reads and deduplicates what was abandoned")
        _ = ledger.resolve(current, bytes: 10)
        #expect(ledger.takeStorable() == [0: 4])
        #expect(
            ledger.register(partition: 9, offset: 0, outputs: 1, bytes: 1, arrived: .now) == nil, "untracked partition")
    }

    @Test func retriesStayInFlightUntilTheyResolve() {
        let ledger = DeliveryLedger()
        ledger.open([0])
        let ticket = register(ledger, 0, 0, bytes: 1000)
        ledger.retry(ticket, with: ProducerRecord(topic: "dlq", key: nil, value: []), replacingBytes: 1000)
        #expect(ledger.inFlight.messages == 1 && ledger.inFlight.bytes == 0)
        let retries = ledger.takeRetries()
        #expect(retries.count == 1 && ledger.takeRetries().isEmpty)
        #expect(ledger.pendingOutputs() == 1)
        _ = ledger.resolve(retries[0].0, bytes: 0)
        #expect(ledger.takeStorable() == [0: 1] && ledger.pendingOutputs() == 0)
    }

    // Bounded by the framework's time limit, not a wall-clock assertion: the drain's deadline is checked
    // when its task wakes, and a starved pool (the whole suite runs in parallel) wakes it late — a 2 s
    // bound measured 2.49 s in a clean-clone CI run.
    @Test(.timeLimit(.minutes(1)))
    func drainWaitsForThePartitionsAskedAndNoLonger() async {
        let ledger = DeliveryLedger()
        ledger.open([0, 1])
        let zero = register(ledger, 0, 0)
        _ = register(ledger, 1, 0)
        #expect(await ledger.drain([0], timeout: .milliseconds(50)) == false)
        _ = ledger.resolve(zero, bytes: 10)
        #expect(await ledger.drain([0], timeout: .milliseconds(50)))
        let started = ContinuousClock.now
        #expect(await ledger.drain(timeout: .milliseconds(100)) == false, "partition 1 never confirms")
        #expect(started.duration(to: .now) >= .milliseconds(100), "it waited out its deadline before giving up")
    }

    /// A dead letter refused as too large is queued to be sent again without its value: a drain (stop,
    /// revoke, the end of a replay) must send it, not wait its whole deadline for an output never sent.
    @Test(.timeLimit(.minutes(1)))
    func aDrainSendsQueuedRetriesInsteadOfWaitingForThem() async {
        let ledger = DeliveryLedger()
        ledger.open([0])
        let ticket = register(ledger, 0, 7, bytes: 1000)
        ledger.retry(ticket, with: ProducerRecord(topic: "dlq", key: nil, value: []), replacingBytes: 1000)
        let sent = Mutex(0)
        let drained = await ledger.drain(timeout: .seconds(30)) {
            // What the publisher does: send each retry; here its delivery is confirmed at once.
            for (retried, record) in ledger.takeRetries() {
                sent.withLock { $0 += 1 }
                _ = ledger.resolve(retried, bytes: record.weight)
            }
        }
        #expect(drained && sent.withLock { $0 } == 1)
        #expect(ledger.takeStorable() == [0: 8])
    }

    /// A drain is woken by the delivery it waits for, not by a timer: confirmed 200 ms later, it returns
    /// long before its 30 s deadline; cancelled, it returns at once with false.
    @Test(.timeLimit(.minutes(1)))
    func aDrainWakesOnTheDeliveryAndOnCancellation() async throws {
        let ledger = DeliveryLedger()
        ledger.open([0])
        let ticket = register(ledger, 0, 0)
        let confirming = Task {
            try await Task.sleep(for: .milliseconds(200))
            _ = ledger.resolve(ticket, bytes: 10)
        }
        var started = ContinuousClock.now
        #expect(await ledger.drain(timeout: .seconds(30)))
        // 10 s: a wide margin for a starved machine, still a third of the deadline a timer would wait out.
        #expect(started.duration(to: .now) < .seconds(10))
        try await confirming.value
        _ = register(ledger, 0, 1)
        let waiting = Task { await ledger.drain(timeout: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(100))
        started = ContinuousClock.now
        waiting.cancel()
        #expect(await waiting.value == false, "a cancelled drain gives up")
        #expect(started.duration(to: .now) < .seconds(10))
    }

    @Test func compactionKeepsTicketsValid() {
        let ledger = DeliveryLedger()
        ledger.open([0])
        // Every seventh output confirms 100 messages late, so the front is compacted under live tickets.
        var pending: [(offset: Int64, ticket: DeliveryLedger.Ticket)] = []
        for offset in Int64(0)..<5000 {
            let ticket = register(ledger, 0, offset)
            if offset % 7 == 0 { pending.append((offset, ticket)) } else { _ = ledger.resolve(ticket, bytes: 10) }
            while let first = pending.first, offset - first.offset >= 100 {
                _ = ledger.resolve(first.ticket, bytes: 10)
                pending.removeFirst()
            }
        }
        #expect(ledger.takeStorable()[0]! < 5000)
        for entry in pending { _ = ledger.resolve(entry.ticket, bytes: 10) }
        #expect(ledger.takeStorable() == [0: 5000])
        #expect(ledger.pendingOutputs() == 0)
    }
}

@Suite("State bounds the service sets")
struct StateBoundsTests {
    @Test func theServiceKeepsTwoMillionIdsAndOneHundredThousandWorkflowsPerPartition() {
        // docs/operations.md: "bounded by the retention and by 2,000,000 ids per partition" and "100,000 workflows per
        // partition"; PartitionStateTests prove the bounds work, this proves the service sets them.
        let settings = ServiceSettings(bootstrapServers: "unused:9092")
        #expect(settings.stateCapacityPerPartition == 2_000_000)
        #expect(settings.retentionMs == 7 * 24 * 3_600_000)
        let store = DecisionStateStore(
            decider: Decider(rules: settings.rules), retentionMs: settings.retentionMs,
            capacityPerPartition: settings.stateCapacityPerPartition)
        let state = store.emptyState()
        #expect(
            state.capacity == 2_000_000 && state.maximumWorkflows == 100_000 && state.retentionMs == 7 * 24 * 3_600_000)
        #expect(state.historyWindow == 20 && state.variantWindow == 50)
    }
}
