import Foundation
import Kafka
import Testing

@Suite("Kafka layer on the in-process mock cluster", .timeLimit(.minutes(3)))
struct KafkaClientTests {
    @Test func produceConsumeRoundTripKeepsPartitionKeyHeadersAndOrder() async throws {
        let cluster = try makeCluster(topics: ["rt": 3])
        let producer = try KafkaProducer(configuration: configuration(cluster), logger: testLogger)
        var batch = records("rt", count: 30)
        batch[0].headers = [KafkaHeader("schema", "x/v1"), KafkaHeader("empty", []), KafkaHeader("null", nil)]
        batch[1].key = nil
        let reports = try await producer.send(batch)
        #expect(reports.count == 30)
        #expect(reports.map(\.topicPartition.partition) == batch.map { $0.partition! })
        let consumer = try KafkaConsumer(
            configuration: configuration(cluster), groupID: uniqueGroup(), logger: testLogger)
        try await consumer.subscribe(topics: ["rt"])
        let messages = try await consume(consumer, count: 30)
        #expect(messages.count == 30)
        let first = try #require(messages.first { text($0.value) == "m0" })
        #expect(first.headers == [KafkaHeader("schema", "x/v1"), KafkaHeader("empty", []), KafkaHeader("null", nil)])
        #expect(text(first.key) == "k0")
        #expect(first.timestampMs != nil)
        #expect(messages.first { text($0.value) == "m1" }?.key == nil)
        for partition in Int32(0)..<3 {
            let values = messages.filter { $0.partition == partition }.map { text($0.value)! }
            let expected = batch.filter { $0.partition == partition }.map { text($0.value)! }
            #expect(values == expected)
            #expect(messages.filter { $0.partition == partition }.map(\.offset) == Array(0..<Int64(expected.count)))
        }
        #expect(try await consumer.partitionCount(topic: "rt") == 3)
        let marks = try await consumer.watermarks(TopicPartition("rt", 0))
        #expect(marks.low == 0 && marks.high == 10)
        await consumer.close()
        await producer.close()
    }

    @Test func commitAndRestartResumesAtTheCommittedOffset() async throws {
        let cluster = try makeCluster(topics: ["resume": 1])
        let producer = try KafkaProducer(configuration: configuration(cluster), logger: testLogger)
        try await producer.send(records("resume", count: 10, partition: 0))
        let group = uniqueGroup()
        let first = try KafkaConsumer(configuration: configuration(cluster), groupID: group, logger: testLogger)
        try await first.subscribe(topics: ["resume"])
        let all = try await consume(first, count: 10)
        #expect(all.count == 10)
        // Processed the first 6 only: store and commit offset 6 (the next to read).
        try await first.storeOffsets([TopicPartitionOffset(TopicPartition("resume", 0), offset: 6)])
        try await first.commit()
        #expect(try await first.committed([TopicPartition("resume", 0)])[TopicPartition("resume", 0)] == 6)
        await first.close()
        let second = try KafkaConsumer(configuration: configuration(cluster), groupID: group, logger: testLogger)
        try await second.subscribe(topics: ["resume"])
        let rest = try await consume(second, count: 4)
        #expect(rest.map(\.offset) == [6, 7, 8, 9])
        await second.close()
        await producer.close()
    }

    @Test func rebalanceBetweenTwoConsumersCallsTheHookInOrder() async throws {
        let cluster = try makeCluster(topics: ["rb": 4])
        let group = uniqueGroup()
        let log1 = EventLog()
        let log2 = EventLog()
        let one = try KafkaConsumer(
            configuration: configuration(cluster), groupID: group, rebalanceHook: { await log1.append($0) },
            logger: testLogger)
        try await one.subscribe(topics: ["rb"])
        // Each phase gets its own generous deadline: group joins on a loaded machine take seconds.
        var deadline = ContinuousClock.now + .seconds(60)
        while await log1.assigned.count < 4 && ContinuousClock.now < deadline {
            _ = try await one.nextBatch(timeout: .milliseconds(100))
        }
        #expect(await log1.assigned.count == 4)
        let two = try KafkaConsumer(
            configuration: configuration(cluster), groupID: group, rebalanceHook: { await log2.append($0) },
            logger: testLogger)
        try await two.subscribe(topics: ["rb"])
        // Both must poll for the cooperative protocol to converge.
        deadline = ContinuousClock.now + .seconds(60)
        while (await log1.assigned.count, await log2.assigned.count) != (2, 2) && ContinuousClock.now < deadline {
            async let a = one.nextBatch(timeout: .milliseconds(100))
            async let b = two.nextBatch(timeout: .milliseconds(100))
            _ = try await (a, b)
        }
        let owned1 = await log1.assigned
        let owned2 = await log2.assigned
        #expect(owned1.count == 2 && owned2.count == 2)
        #expect(owned1.isDisjoint(with: owned2))
        // Cooperative: the first consumer gave up exactly two partitions and kept the others throughout.
        let events1 = await log1.events
        #expect(events1.first?.kind == .assigned)
        #expect(events1.dropFirst().allSatisfy { $0.kind == .revoked })
        #expect(events1.dropFirst().flatMap(\.partitions).count == 2)
        #expect(await log2.events.allSatisfy { $0.kind == .assigned })
        #expect(Set(try await one.assignment()) == owned1)
        // Closing the second hands its partitions back to the first, after its own revoke hook ran.
        await two.close()
        #expect(await log2.events.last?.kind == .revoked)
        deadline = ContinuousClock.now + .seconds(60)
        while await log1.assigned.count < 4 && ContinuousClock.now < deadline {
            _ = try await one.nextBatch(timeout: .milliseconds(100))
        }
        #expect(await log1.assigned.count == 4)
        await one.close()
    }

    @Test func hookRunsBeforeMessagesOfNewPartitionsAndCanCommitOnRevoke() async throws {
        let cluster = try makeCluster(topics: ["hook": 2])
        let producer = try KafkaProducer(configuration: configuration(cluster), logger: testLogger)
        try await producer.send(
            records("hook", count: 20).map {
                var r = $0
                r.partition = r.partition! % 2
                return r
            })
        let group = uniqueGroup()
        let restored = EventLog()
        let box = ConsumerBox()
        let commitFailures = EventLog()
        let consumer = try KafkaConsumer(
            configuration: configuration(cluster), groupID: group,
            rebalanceHook: { event in
                // Simulate a slow state restore: no message may be delivered before it ends.
                if event.kind == .assigned { try? await Task.sleep(for: .milliseconds(300)) }
                if event.kind == .revoked, let consumer = box.consumer {
                    do {
                        try await consumer.commit(event.partitions.map { TopicPartitionOffset($0, offset: 3) })
                    } catch {
                        await commitFailures.append(event)
                    }
                }
                await restored.append(event)
            }, logger: testLogger)
        box.consumer = consumer
        try await consumer.subscribe(topics: ["hook"])
        // The moment the first message arrives, the hook must already have finished (it logs last).
        var first: [KafkaMessage] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while first.isEmpty && ContinuousClock.now < deadline {
            first = try await consumer.nextBatch(timeout: .milliseconds(100))
        }
        #expect(!first.isEmpty)
        #expect(
            await restored.events.map(\.kind) == [.assigned], "the hook finished before the first message was delivered"
        )
        let messages = first + (try await consume(consumer, count: 20 - first.count))
        #expect(messages.count == 20)
        await consumer.close()
        #expect(await restored.events.last?.kind == .revoked)
        #expect(await commitFailures.events.isEmpty, "the commit in the revoke hook succeeded")
        let check = try KafkaConsumer(configuration: configuration(cluster), groupID: group, logger: testLogger)
        let committed = try await check.committed([TopicPartition("hook", 0), TopicPartition("hook", 1)])
        #expect(committed == [TopicPartition("hook", 0): 3, TopicPartition("hook", 1): 3])
        await check.close()
        await producer.close()
    }

    @Test func seekPauseResumeAndManualAssignment() async throws {
        let cluster = try makeCluster(topics: ["seek": 2])
        let producer = try KafkaProducer(configuration: configuration(cluster), logger: testLogger)
        try await producer.send(
            records("seek", count: 10, partition: 0) + records("seek", count: 10, partition: 1, prefix: "p"))
        let consumer = try KafkaConsumer(
            configuration: configuration(cluster), groupID: uniqueGroup(), logger: testLogger)
        let p0 = TopicPartition("seek", 0)
        let p1 = TopicPartition("seek", 1)
        try await consumer.assign([
            TopicPartitionOffset(p0, offset: 5), TopicPartitionOffset(p1, offset: TopicPartitionOffset.beginning),
        ])
        try await consumer.pause([p1])
        let fromFive = try await consume(consumer, count: 5)
        #expect(fromFive.map(\.offset) == [5, 6, 7, 8, 9])
        #expect(fromFive.allSatisfy { $0.partition == 0 })
        #expect(try await consumer.nextBatch(timeout: .milliseconds(300)).isEmpty)
        try await consumer.resume([p1])
        let resumed = try await consume(consumer, count: 10)
        #expect(resumed.map(\.offset) == Array(0..<10))
        try await consumer.seek([TopicPartitionOffset(p1, offset: 8)])
        let again = try await consume(consumer, count: 2)
        #expect(again.map(\.offset) == [8, 9])
        #expect(Set(try await consumer.assignment()) == [p0, p1])
        await consumer.close()
        await producer.close()
    }

    @Test func missingTopicIsAnError() async throws {
        let cluster = try makeCluster(topics: ["present": 1])
        let consumer = try KafkaConsumer(
            configuration: configuration(cluster, ["allow.auto.create.topics": "false"]), groupID: uniqueGroup(),
            logger: testLogger)
        await #expect(throws: KafkaError.self) {
            _ = try await consumer.partitionCount(topic: "absent", timeout: .seconds(5))
        }
        await consumer.close()
    }

    @Test func closeIsBoundedAndIdempotent() async throws {
        let cluster = try makeCluster(topics: ["close": 3])
        let producer = try KafkaProducer(configuration: configuration(cluster), logger: testLogger)
        try await producer.send(records("close", count: 300))
        let consumer = try KafkaConsumer(
            configuration: configuration(cluster), groupID: uniqueGroup(), logger: testLogger)
        try await consumer.subscribe(topics: ["close"])
        _ = try await consume(consumer, count: 1)
        let clock = ContinuousClock()
        let elapsed = await clock.measure {
            await consumer.close()
            await producer.close()
        }
        // The service's own stop budget (10 s), generous enough for a loaded CI machine.
        #expect(elapsed < .seconds(10))
        await consumer.close()
        await producer.close()
        await #expect(throws: KafkaError.self) { _ = try await consumer.nextBatch() }
        await #expect(throws: KafkaError.self) { try await producer.send(records("close", count: 1)) }
    }
}

/// Lets a rebalance hook reach the consumer it belongs to.
final class ConsumerBox: @unchecked Sendable {
    // Written once before the consumer subscribes, read only by its hooks afterwards.
    var consumer: KafkaConsumer?
}
