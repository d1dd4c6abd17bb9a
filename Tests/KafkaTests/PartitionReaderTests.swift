import Kafka
import Testing

@Suite("Partition reader: fixed ranges, read once", .timeLimit(.minutes(2)))
struct PartitionReaderTests {
    @Test func readsEachRangeExactlyAndStopsAtItsEnd() async throws {
        let cluster = try makeCluster(topics: ["ranges": 3])
        let producer = try KafkaProducer(configuration: configuration(cluster), logger: testLogger)
        for partition in Int32(0)..<3 { try await producer.send(records("ranges", count: 10, partition: partition)) }
        let consumer = try KafkaConsumer(
            configuration: configuration(cluster).forManualAssignment, groupID: uniqueGroup(), logger: testLogger)
        let (p0, p1, p2) = (TopicPartition("ranges", 0), TopicPartition("ranges", 1), TopicPartition("ranges", 2))
        // A middle slice, an empty range, and a whole partition.
        var reader = try await PartitionReader(consumer: consumer, ranges: [p0: 3..<7, p1: 5..<5, p2: 0..<10])
        #expect(
            reader.unread.keys.sorted { $0.partition < $1.partition } == [p0, p2], "an empty range is done at once")
        let messages = try await reader.readToEnd(within: .seconds(20))
        #expect(
            messages.filter { $0.partition == 0 }.map(\.offset) == [3, 4, 5, 6], "nothing past the end is returned")
        #expect(messages.filter { $0.partition == 2 }.map(\.offset) == Array(0..<10))
        #expect(!messages.contains { $0.partition == 1 })
        #expect(reader.isFinished && reader.next == [p0: 7, p1: 5, p2: 10])
        #expect(try await reader.nextBatch().isEmpty, "a finished reader reads nothing more")
        await consumer.close()
        await producer.close()
    }

    @Test func upToHighWatermarksTakesTheMarksAtTheStartAndHonoursStarts() async throws {
        let cluster = try makeCluster(topics: ["marks": 2])
        let producer = try KafkaProducer(configuration: configuration(cluster), logger: testLogger)
        try await producer.send(records("marks", count: 6, partition: 0))
        let consumer = try KafkaConsumer(
            configuration: configuration(cluster).forManualAssignment, groupID: uniqueGroup(), logger: testLogger)
        let (p0, p1) = (TopicPartition("marks", 0), TopicPartition("marks", 1))
        var reader = try await PartitionReader.upToHighWatermarks(of: [p0, p1], from: [p0: 2], on: consumer)
        // Written after the marks were taken: not part of the range.
        try await producer.send(records("marks", count: 3, partition: 0, prefix: "late"))
        let messages = try await reader.readToEnd(within: .seconds(20))
        #expect(messages.map(\.offset) == [2, 3, 4, 5])
        #expect(messages.allSatisfy { $0.partition == 0 }, "an empty partition contributes nothing")
        await consumer.close()
        await producer.close()
    }

    @Test func aRangeThatCannotBeReadTimesOutNamingIt() async throws {
        let cluster = try makeCluster(topics: ["short": 1])
        let consumer = try KafkaConsumer(
            configuration: configuration(cluster).forManualAssignment, groupID: uniqueGroup(), logger: testLogger)
        // Offsets that do not exist yet: the fetch finds nothing within the limit.
        var reader = try await PartitionReader(consumer: consumer, ranges: [TopicPartition("short", 0): 0..<5])
        await #expect {
            _ = try await reader.readToEnd(within: .seconds(1))
        } throws: { error in
            "\(error)" == "partitions short[0] not read to their end within 1.0 seconds"
        }
        await consumer.close()
    }
}
