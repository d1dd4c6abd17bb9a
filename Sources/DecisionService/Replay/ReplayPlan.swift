import Kafka
import Logging

extension Replay {
    /// What a replay reads: each partition's range and, for a time the broker could not look up, the
    /// timestamps kept.
    struct Plan {
        var progress: ReplayProgress
        var window: TimeWindow
        /// Where dead letters go, from the topic check.
        let routing: DeadLetterRouting
        let inputTopic: String

        /// The non-empty ranges of the input topic.
        var work: [TopicPartition: Range<Int64>] {
            Dictionary(
                uniqueKeysWithValues: progress.partitions.filter { $0.total > 0 }.map {
                    (TopicPartition(inputTopic, $0.partition), $0.start..<$0.end)
                })
        }
    }

    /// The timestamps a replay decides when its positions are times the broker could not look up:
    /// records outside are read and skipped.
    struct TimeWindow {
        var from: Int64?
        var until: Int64?

        func contains(_ timestampMs: Int64?) -> Bool {
            guard let timestampMs else { return true }
            if let from, timestampMs < from { return false }
            if let until, timestampMs >= until { return false }
            return true
        }
    }

    /// Resolves the positions into ranges, each end capped at the live group's commits; `nil` when a stop
    /// came before the brokers answered.
    func plan(with consumer: KafkaConsumer, logger: Logger, isStopping: @escaping @Sendable () -> Bool)
        async throws -> Plan?
    {
        let routing = DeadLetterRouting()
        let check = TopicCheck(
            settings: settings, outputTopic: outputTopic, requireDLQ: writeDeadLetters, routing: routing, logger: logger
        )
        guard let partitionCount = try await check.inputPartitions(consumer, isStopping: isStopping) else {
            return nil
        }
        var marks: [Int32: (low: Int64, high: Int64)] = [:]
        for partition in 0..<Int32(partitionCount) {
            marks[partition] = try await consumer.watermarks(
                TopicPartition(settings.inputTopic, partition), timeout: settings.startupTimeout)
        }
        var window = TimeWindow()
        let starts = try await resolve(
            from, marks: marks, consumer: consumer, isStart: true, logger: logger, fallback: &window.from)
        var ends = try await resolve(
            until, marks: marks, consumer: consumer, isStart: false, logger: logger, fallback: &window.until)
        if let live = liveGroupID {
            try await capAtLiveCommits(&ends, group: live, partitions: Array(marks.keys), logger: logger)
        }
        let progress = ReplayProgress(
            partitions: starts.keys.sorted().compactMap { partition in
                guard let end = ends[partition] else { return nil }
                let start = starts[partition]!
                return ReplayProgress.Partition(partition: partition, start: start, end: max(start, end), next: start)
            },
            started: .now)
        return Plan(progress: progress, window: window, routing: routing, inputTopic: settings.inputTopic)
    }

    /// Caps the ends at the live group's committed offsets: a replay never races `run` for runs the live
    /// service has not decided yet.
    private func capAtLiveCommits(_ ends: inout [Int32: Int64], group: String, partitions: [Int32], logger: Logger)
        async throws
    {
        let checker = try KafkaConsumer(configuration: settings.kafka, groupID: group, logger: logger)
        let committed: [TopicPartition: Int64]
        do {
            committed = try await checker.committed(
                partitions.map { TopicPartition(settings.inputTopic, $0) }, timeout: settings.startupTimeout)
        } catch {
            await checker.close(timeout: .seconds(2))
            throw error
        }
        await checker.close(timeout: .seconds(2))
        var capped: [Int32] = []
        for (position, offset) in committed {
            if let end = ends[position.partition], end > offset {
                ends[position.partition] = offset
                capped.append(position.partition)
            }
        }
        if !capped.isEmpty {
            logger.notice(
                "the end of partitions \(capped.sorted()) is capped at the committed offsets of the live group \(group): later runs are the live service's to decide"
            )
        }
    }

    /// "No message at or after the time" for a partition whose last message is at or after it means the
    /// broker did not really look (librdkafka's mock cluster answers so to every time).
    private func answersAreConsistent(
        _ found: [TopicPartition: Int64?], time: Int64, marks: [Int32: (low: Int64, high: Int64)],
        consumer: KafkaConsumer
    ) async throws -> Bool {
        guard
            let probe = found.first(where: { entry in
                entry.value == nil && (marks[entry.key.partition].map { $0.high > $0.low } ?? false)
            })?.key
        else {
            return true
        }
        let last = marks[probe.partition]!.high - 1
        var reader = try await PartitionReader(consumer: consumer, ranges: [probe: last..<(last + 1)])
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let message = try await reader.nextBatch(maxMessages: 1).first {
                return (message.timestampMs ?? Int64.max) < time
            }
        }
        return false
    }

    /// Offsets per partition for a position. A time the broker cannot look up falls back to the
    /// watermark (`beginning` for a start, the high watermark for an end) and a timestamp filter.
    private func resolve(
        _ position: ReplayPosition, marks: [Int32: (low: Int64, high: Int64)], consumer: KafkaConsumer,
        isStart: Bool, logger: Logger, fallback: inout Int64?
    ) async throws -> [Int32: Int64] {
        switch position {
        case .beginning: return marks.mapValues(\.low)
        case .end: return marks.mapValues(\.high)
        case let .offsets(offsets):
            var result: [Int32: Int64] = [:]
            for (partition, offset) in offsets {
                guard let mark = marks[partition] else {
                    throw ServiceError(
                        "partition \(partition) does not exist in \(settings.inputTopic) (it has \(marks.count))")
                }
                result[partition] = min(max(offset, mark.low), mark.high)
            }
            if !isStart {
                // Partitions the end does not name end at their high watermark.
                for (partition, mark) in marks where result[partition] == nil { result[partition] = mark.high }
            }
            return result
        case let .time(ms):
            let query = Dictionary(
                uniqueKeysWithValues: marks.keys.map { (TopicPartition(settings.inputTopic, $0), ms) })
            if let found = try? await consumer.offsetsForTimes(query, timeout: .seconds(10)),
                try await answersAreConsistent(found, time: ms, marks: marks, consumer: consumer)
            {
                // A partition with no message at or after the time has nothing to replay from it on.
                return Dictionary(
                    uniqueKeysWithValues: found.map { entry in
                        (entry.key.partition, entry.value ?? marks[entry.key.partition]!.high)
                    })
            }
            logger.notice(
                "the broker cannot look up offsets for \(position): reading \(isStart ? "from the beginning and skipping records older than it" : "to the end and skipping records from it on")"
            )
            fallback = ms
            return isStart ? marks.mapValues(\.low) : marks.mapValues(\.high)
        }
    }
}
