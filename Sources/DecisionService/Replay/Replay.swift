import DecisionCore
import DecisionEngine
import Foundation
import Kafka
import Logging
import WireFormat

/// Where a replay starts or ends (contract section 6).
public enum ReplayPosition: Sendable, Equatable, CustomStringConvertible {
    case beginning
    case end
    /// Milliseconds since the epoch.
    case time(Int64)
    /// Explicit offsets; partitions not named are not replayed.
    case offsets([Int32: Int64])

    /// Parses `beginning`, `end`, an RFC 3339 time, or `P:OFFSET,…`.
    public init(parsing text: String) throws {
        switch text {
        case "beginning": self = .beginning
        case "end": self = .end
        default:
            if let ms = RFC3339.millisecondsSinceEpoch(text) {
                self = .time(ms)
                return
            }
            var offsets: [Int32: Int64] = [:]
            for item in text.split(separator: ",", omittingEmptySubsequences: false) {
                let parts = item.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2, let partition = Int32(parts[0]), partition >= 0, let offset = Int64(parts[1]),
                    offset >= 0
                else {
                    throw ServiceError(
                        "position \"\(text)\" is not beginning, end, an RFC 3339 time or P:OFFSET[,P:OFFSET…]")
                }
                guard offsets.updateValue(offset, forKey: partition) == nil else {
                    throw ServiceError("position \"\(text)\" names partition \(partition) twice")
                }
            }
            self = .offsets(offsets)
        }
    }

    public var description: String {
        switch self {
        case .beginning: "beginning"
        case .end: "end"
        case let .time(ms): RFC3339.format(millisecondsSinceEpoch: ms)
        case let .offsets(offsets):
            offsets.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
        }
    }
}

/// How far a replay has come.
public struct ReplayProgress: Sendable {
    public struct Partition: Sendable {
        public var partition: Int32
        public var start: Int64
        public var end: Int64
        public var next: Int64
        public var total: Int64 { max(0, end - start) }
        public var done: Int64 { min(total, max(0, next - start)) }
    }

    public var partitions: [Partition]
    public var decided = 0
    public var duplicates = 0
    public var deadLetters = 0
    /// Records outside a time range, skipped because the broker could not look times up.
    public var skipped = 0
    public var started: ContinuousClock.Instant
    public var interrupted = false

    public var total: Int64 { partitions.reduce(0) { $0 + $1.total } }
    public var done: Int64 { partitions.reduce(0) { $0 + $1.done } }
    public var elapsedSeconds: Double { started.duration(to: .now).inSeconds }
}

/// A backfill: re-decides a fixed range of the input and exits. It reads with manual assignment (no
/// group, no commits), so it never disturbs a live `run`, and applies the same deduplication: replaying
/// with unchanged rules writes nothing new, with new rules one new decision per run.
public struct Replay: Sendable {
    public var settings: ServiceSettings
    public var from: ReplayPosition
    public var until: ReplayPosition
    /// Where decisions go (the settings' output topic unless overridden).
    public var outputTopic: String
    public var dryRun = false
    /// Whether dead letters are written to the DLQ again (a live `run` already wrote them once).
    public var writeDeadLetters = false
    /// The live group whose committed offsets cap the end: a replay never races `run` for runs the live
    /// service has not decided yet.
    public var liveGroupID: String?

    public init(settings: ServiceSettings, from: ReplayPosition, until: ReplayPosition, outputTopic: String? = nil) {
        self.settings = settings
        self.from = from
        self.until = until
        self.outputTopic = outputTopic ?? settings.outputTopic
        self.liveGroupID = settings.groupID
    }

    /// Runs the replay; `report` sees the progress after every batch, `emit` every decision in a dry run.
    /// `budget` bounds the wait for outputs in flight once a stop has begun; `isStopping` ends the reading.
    public func run(
        logger: Logger, budget: StopBudget, isStopping: @escaping @Sendable () -> Bool,
        report: @escaping @Sendable (ReplayProgress) -> Void,
        emit: @escaping @Sendable ([UInt8]) -> Void
    ) async throws -> ReplayProgress {
        let decider = Decider(rules: settings.rules, maximumMessageBytes: settings.maximumMessageBytes)
        let consumer = try KafkaConsumer(
            configuration: settings.kafka.forManualAssignment, groupID: "optimizer-decider-replay-\(UUID().uuidString)",
            logger: logger)
        do {
            let result = try await replay(
                with: consumer, decider: decider, logger: logger, budget: budget, isStopping: isStopping,
                report: report, emit: emit)
            await consumer.close(timeout: budget.bound(.seconds(5)))
            return result
        } catch {
            await consumer.close(timeout: budget.bound(.seconds(5)))
            throw error
        }
    }

    private func replay(
        with consumer: KafkaConsumer, decider: Decider, logger: Logger, budget: StopBudget,
        isStopping: @escaping @Sendable () -> Bool,
        report: @escaping @Sendable (ReplayProgress) -> Void, emit: @escaping @Sendable ([UInt8]) -> Void
    ) async throws -> ReplayProgress {
        let input = settings.inputTopic
        let check = TopicCheck(settings: settings, outputTopic: outputTopic, requireDLQ: writeDeadLetters)
        guard let partitionCount = try await check.inputPartitions(consumer, isStopping: isStopping) else {
            var progress = ReplayProgress(partitions: [], started: .now)
            progress.interrupted = true
            return progress
        }
        var marks: [Int32: (low: Int64, high: Int64)] = [:]
        for partition in 0..<Int32(partitionCount) {
            marks[partition] = try await consumer.watermarks(
                TopicPartition(input, partition), timeout: settings.startupTimeout)
        }
        var timeFilter: (from: Int64?, until: Int64?) = (nil, nil)
        let starts = try await resolve(
            from, marks: marks, consumer: consumer, isStart: true, logger: logger, fallback: &timeFilter.from)
        var ends = try await resolve(
            until, marks: marks, consumer: consumer, isStart: false, logger: logger, fallback: &timeFilter.until)
        if let live = liveGroupID {
            try await capAtLiveCommits(&ends, group: live, partitions: Array(marks.keys), logger: logger)
        }
        var progress = ReplayProgress(
            partitions: starts.keys.sorted().compactMap { partition in
                guard let end = ends[partition] else { return nil }
                let start = starts[partition]!
                return ReplayProgress.Partition(partition: partition, start: start, end: max(start, end), next: start)
            },
            started: .now)
        let work = progress.partitions.filter { $0.total > 0 }
        guard !work.isEmpty else {
            report(progress)
            return progress
        }
        // The same state the live service would have: decisions already on the output, this rules fingerprint.
        let store = DecisionStateStore(
            decider: decider, retentionMs: settings.retentionMs,
            capacityPerPartition: settings.stateCapacityPerPartition)
        let restorer = StateRestorer(
            settings: settings, outputTopic: outputTopic, logger: logger, isStopping: isStopping)
        let decisionsRead: Int
        do {
            decisionsRead = try await restorer.restore(work.map(\.partition), into: store)
        } catch is StateRestorer.Interrupted {
            progress.interrupted = true
            return progress
        }
        logger.info("state restored from \(outputTopic)", metadata: ["decisions_read": "\(decisionsRead)"])
        let ledger = DeliveryLedger()
        ledger.open(work.map(\.partition))
        let outputs = OutputRecords(
            outputTopic: outputTopic, dlqTopic: settings.dlqTopic, writeDeadLetters: writeDeadLetters)
        let publisher =
            try dryRun
            ? nil
            : Publisher(
                producer: KafkaProducer(configuration: settings.producerConfiguration, logger: logger), ledger: ledger,
                outputs: outputs,
                metrics: nil, logger: logger)
        try await consumer.assign(
            work.map { TopicPartitionOffset(TopicPartition(input, $0.partition), offset: $0.start) })
        var remaining = Set(work.map(\.partition))
        let index = Dictionary(
            uniqueKeysWithValues: progress.partitions.enumerated().map { ($0.element.partition, $0.offset) })
        report(progress)
        do {
            while !remaining.isEmpty && !isStopping() {
                if let reason = ledger.failure { throw ServiceError("replay \(reason)") }
                try await publisher?.publishRetries()
                let room = await ledger.roomForNextBatch(settings)
                guard room > 0 else { continue }
                let batch = try await consumer.nextBatch(
                    maxMessages: min(settings.batchSize, room), timeout: .milliseconds(100))
                let arrived = ContinuousClock.now
                var inRange: [KafkaMessage] = []
                for message in batch {
                    guard remaining.contains(message.partition), let slot = index[message.partition] else { continue }
                    let end = progress.partitions[slot].end
                    guard message.offset < end else { continue }
                    progress.partitions[slot].next = message.offset + 1
                    if message.offset + 1 >= end { remaining.remove(message.partition) }
                    if let from = timeFilter.from, let ts = message.timestampMs, ts < from {
                        progress.skipped += 1
                        continue
                    }
                    if let until = timeFilter.until, let ts = message.timestampMs, ts >= until {
                        progress.skipped += 1
                        continue
                    }
                    inRange.append(message)
                }
                guard !inRange.isEmpty else {
                    if !batch.isEmpty { report(progress) }
                    continue
                }
                let outcomes = await store.process(
                    inRange.map {
                        EngineInput(
                            topic: $0.topic, partition: $0.partition, offset: $0.offset, timestampMs: $0.timestampMs,
                            value: $0.value)
                    },
                    nowMs: WallClock.nowMs())
                var output = OutputBatch(capacity: inRange.count)
                for (message, outcome) in zip(inRange, outcomes) {
                    guard let outcome else { continue }
                    switch outcome {
                    case let .decided(_, json):
                        progress.decided += 1
                        if dryRun { emit(json) }
                    case .duplicate: progress.duplicates += 1
                    case .rejected: progress.deadLetters += 1
                    }
                    guard !dryRun else { continue }
                    _ = output.add(
                        outputs.records(for: outcome, of: message, trace: TraceContextHeaders(of: message)),
                        of: message, arrived: arrived, in: ledger)
                }
                try await publisher?.publish(output)
                report(progress)
            }
            progress.interrupted = !remaining.isEmpty
            // A finished replay waits for every output; an interrupted one as long as the stop budget allows.
            let wait =
                progress.interrupted
                ? budget.remaining(keeping: budget.reserve(.seconds(2), share: 0.4)) : settings.restoreTimeout
            _ = await publisher?.drain(timeout: wait)
            if let reason = ledger.failure { throw ServiceError("replay \(reason)") }
            if ledger.pendingOutputs() > 0 {
                throw ServiceError(
                    "replay output still unconfirmed after \(wait): \(ledger.pendingOutputs()) records may not have been written"
                )
            }
        } catch {
            await publisher?.producer.close(timeout: budget.bound(.seconds(5)))
            throw error
        }
        await publisher?.producer.close(timeout: budget.bound(.seconds(10)))
        report(progress)
        return progress
    }

    /// Caps the ends at the live group's committed offsets: a replay never races `run` for runs the live
    /// service has not decided yet.
    private func capAtLiveCommits(_ ends: inout [Int32: Int64], group: String, partitions: [Int32], logger: Logger)
        async throws
    {
        let checker = try KafkaConsumer(configuration: settings.kafka, groupID: group, logger: logger)
        let committed: [TopicPartitionOffset]
        do {
            committed = try await checker.committed(
                partitions.map { TopicPartition(settings.inputTopic, $0) }, timeout: settings.startupTimeout)
        } catch {
            await checker.close(timeout: .seconds(2))
            throw error
        }
        await checker.close(timeout: .seconds(2))
        var capped: [Int32] = []
        for position in committed where position.offset >= 0 {
            let partition = position.topicPartition.partition
            if let end = ends[partition], end > position.offset {
                ends[partition] = position.offset
                capped.append(partition)
            }
        }
        if !capped.isEmpty {
            logger.notice(
                "the end of partitions \(capped.sorted()) is capped at the committed offsets of the live group \(group): later runs are the live service's to decide"
            )
        }
    }

    /// "No message at or after the time" (-1) for a partition whose last message is at or after it means
    /// the broker did not really look (librdkafka's mock cluster answers -1 to every time).
    private func answersAreConsistent(
        _ found: [TopicPartitionOffset], time: Int64, marks: [Int32: (low: Int64, high: Int64)], consumer: KafkaConsumer
    ) async throws -> Bool {
        guard
            let probe = found.first(where: {
                $0.offset == -1 && (marks[$0.topicPartition.partition].map { $0.high > $0.low } ?? false)
            })
        else {
            return true
        }
        let last = marks[probe.topicPartition.partition]!.high - 1
        try await consumer.assign([TopicPartitionOffset(probe.topicPartition, offset: last)])
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let message = try await consumer.nextBatch(maxMessages: 1, timeout: .milliseconds(200)).first {
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
            let query = marks.keys.map { TopicPartitionOffset(TopicPartition(settings.inputTopic, $0), offset: ms) }
            if let found = try? await consumer.offsetsForTimes(query, timeout: .seconds(10)),
                found.allSatisfy({ $0.offset >= -1 }),
                try await answersAreConsistent(found, time: ms, marks: marks, consumer: consumer)
            {
                return Dictionary(
                    uniqueKeysWithValues: found.map { entry in
                        let mark = marks[entry.topicPartition.partition]!
                        return (entry.topicPartition.partition, entry.offset < 0 ? mark.high : entry.offset)
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
