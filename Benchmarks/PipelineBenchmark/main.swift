import BenchmarkSupport
import Foundation
import Kafka
import Logging
import WireFormat

// End-to-end benchmark on one `mock-broker` process, in one run:
//  (a) a raw librdkafka pass-through written here (consume, produce the same bytes to the same
//      partition, store offsets after delivery), and
//  (b) `optimizer-decider run` as a child process,
// over the same generated corpus of 20-task executor run results. Throughput is measured on the output
// topic's timestamps (first to last record), so process start-up is not counted; latency is measured in
// a second, paced phase as output timestamp − input timestamp.
// Usage: PipelineBenchmark <path to optimizer-decider> [messages per partition] [partitions]

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: PipelineBenchmark <optimizer-decider> [messages per partition] [partitions]\n".utf8))
    exit(2)
}
let decider = arguments[1]
let perPartition = arguments.count > 2 ? Int(arguments[2]) ?? 1000 : 1000
let partitions = arguments.count > 3 ? Int(arguments[3]) ?? 12 : 12
var logger = Logger(label: "bench")
logger.logLevel = .error

func run(_ path: String, _ args: [String], stdout: FileHandle? = nil) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = args
    if let stdout { process.standardOutput = stdout }
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

func message(_ n: Int) -> [UInt8] { benchmarkRunResult(n, workflows: 97) }

/// Reads a topic until `count` records arrived; returns their timestamps (ms) and, for latency, the
/// input timestamps they refer to (by key).
@MainActor func drain(_ bootstrap: String, topic: String, count: Int, timeout: Duration) async throws -> [KafkaMessage] {
    let consumer = try KafkaConsumer(configuration: KafkaConfiguration(bootstrapServers: bootstrap), groupID: "bench-reader-\(UUID())", logger: logger)
    try await consumer.assign((0..<Int32(partitions)).map { TopicPartitionOffset(TopicPartition(topic, $0), offset: TopicPartitionOffset.beginning) })
    var messages: [KafkaMessage] = []
    let deadline = ContinuousClock.now + timeout
    while messages.count < count && ContinuousClock.now < deadline {
        messages += try await consumer.nextBatch(maxMessages: 5000, timeout: .milliseconds(200))
    }
    await consumer.close()
    return messages
}

func span(_ messages: [KafkaMessage]) -> Double {
    let stamps = messages.compactMap(\.timestampMs)
    guard let first = stamps.min(), let last = stamps.max(), last > first else { return .nan }
    return Double(last - first) / 1000
}

func percentile(_ values: [Double], _ q: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
}

/// The raw pass-through: what the decider does minus decoding, deciding and encoding.
@MainActor func passThrough(_ bootstrap: String, from input: String, to output: String, count: Int, stop: @Sendable () -> Bool) async throws {
    var configuration = KafkaConfiguration(bootstrapServers: bootstrap)
    configuration["auto.commit.interval.ms"] = "1000"
    let consumer = try KafkaConsumer(configuration: configuration, groupID: "bench-passthrough-\(input)", logger: logger)
    let producer = try KafkaProducer(configuration: configuration, logger: logger)
    try await consumer.subscribe(topics: [input])
    var done = 0
    while done < count && !stop() {
        let batch = try await consumer.nextBatch(maxMessages: 1000, timeout: .milliseconds(200))
        guard !batch.isEmpty else { continue }
        try await producer.send(batch.map { ProducerRecord(topic: output, partition: $0.partition, key: $0.key, value: $0.value) })
        var positions: [Int32: Int64] = [:]
        for message in batch { positions[message.partition] = message.offset + 1 }
        try await consumer.storeOffsets(positions.map { TopicPartitionOffset(TopicPartition(input, $0.key), offset: $0.value) })
        done += batch.count
    }
    await consumer.close()
    await producer.close()
}

func peakRSS(_ pid: Int32) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return (Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0) * 1024
    }
    return 0
}

let total = perPartition * partitions
let topics = ["pass-in", "pass-out", "decide-in", "decide-out", "decide-dlq", "lat-pass-in", "lat-pass-out", "lat-in", "lat-out"]
let brokerOutput = Pipe()
let broker = try run(decider, ["mock-broker", "--partitions", String(partitions)] + topics.flatMap { ["--topic", $0] }, stdout: brokerOutput.fileHandleForWriting)
var line = Data()
while let byte = try brokerOutput.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line += byte }
let bootstrap = String(decoding: line, as: UTF8.self)
defer { broker.terminate() }

print("corpus: \(total) executor run results (\(message(0).count) bytes each) over \(partitions) partitions; mock-broker at \(bootstrap)")
let corpus = (0..<total).map(message)
let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap), logger: logger)
for topic in ["pass-in", "decide-in"] {
    for chunk in stride(from: 0, to: total, by: 2000) {
        try await producer.send(corpus[chunk..<min(total, chunk + 2000)].enumerated().map { offset, value in
            ProducerRecord(topic: topic, partition: Int32((chunk + offset) % partitions), key: Array("wf-\((chunk + offset) % 97)".utf8), value: value)
        })
    }
}

// (a) Throughput of the raw pass-through.
try await passThrough(bootstrap, from: "pass-in", to: "pass-out", count: total, stop: { false })
let passed = try await drain(bootstrap, topic: "pass-out", count: total, timeout: .seconds(120))
let passRate = Double(passed.count) / span(passed)

// (b) Throughput of the decider.
let service = try run(decider, [
    "run", "--bootstrap-servers", bootstrap, "--input-topic", "decide-in", "--output-topic", "decide-out", "--dlq-topic", "decide-dlq",
    "--group-id", "bench-decider", "--metrics-address", "off", "--log-level", "error",
])
let decided = try await drain(bootstrap, topic: "decide-out", count: total, timeout: .seconds(300))
let decideRate = Double(decided.count) / span(decided)
let valid = Set(decided.compactMap { DecisionRecord.parse($0.value)?.decisionID }).count

// Latency: a paced stream (1,000 messages/s for 5 s) through both, output timestamp − input timestamp.
@MainActor func pacedLatency(input: String, output: String, passThroughRunning: Bool) async throws -> [Double] {
    let paced = 5000
    let start = ContinuousClock.now
    for index in 0..<paced {
        try await producer.send([ProducerRecord(topic: input, partition: Int32(index % partitions), key: Array("wf-\(index % 97)".utf8), value: message(total + index))])
        let due = start + .milliseconds(index)
        let now = ContinuousClock.now
        if due > now { try await Task.sleep(until: due) }
    }
    let inputs = try await drain(bootstrap, topic: input, count: paced, timeout: .seconds(60))
    let outputs = try await drain(bootstrap, topic: output, count: paced, timeout: .seconds(60))
    var sent: [String: Int64] = [:]
    for message in inputs { sent["\(message.partition):\(String(decoding: message.value.prefix(24), as: UTF8.self))"] = message.timestampMs }
    return outputs.compactMap { out -> Double? in
        // Decisions carry their source offset; pass-through copies carry the input bytes.
        if let record = try? JSONParser.parse(out.value), case let .object(object) = record, case let .object(source)? = object["source"],
           case let .integer(offset)? = source["offset"], let input = inputs.first(where: { $0.partition == out.partition && $0.offset == offset }),
           let a = input.timestampMs, let b = out.timestampMs {
            return Double(b - a)
        }
        guard let a = sent["\(out.partition):\(String(decoding: out.value.prefix(24), as: UTF8.self))"], let b = out.timestampMs else { return nil }
        return Double(b - a)
    }
}
let passLatencyTask = Task { try await passThrough(bootstrap, from: "lat-pass-in", to: "lat-pass-out", count: 5000, stop: { false }) }
let passLatency = try await pacedLatency(input: "lat-pass-in", output: "lat-pass-out", passThroughRunning: true)
_ = try? await passLatencyTask.value
service.terminate()
service.waitUntilExit()
let latencyService = try run(decider, [
    "run", "--bootstrap-servers", bootstrap, "--input-topic", "lat-in", "--output-topic", "lat-out", "--dlq-topic", "decide-dlq",
    "--group-id", "bench-latency", "--metrics-address", "off", "--log-level", "error",
])
try await Task.sleep(for: .seconds(5))  // joined and restored before the paced stream starts
let decideLatency = try await pacedLatency(input: "lat-in", output: "lat-out", passThroughRunning: false)
let rss = peakRSS(latencyService.processIdentifier)
latencyService.terminate()
latencyService.waitUntilExit()
await producer.close()

func format(_ value: Double) -> String { String(format: "%.0f", value) }
print("""

| measure | raw librdkafka pass-through | optimizer-decider run | ratio |
|---|---|---|---|
| throughput (messages/s, backlog of \(total)) | \(format(passRate)) | \(format(decideRate)) | \(String(format: "%.2f", decideRate / passRate)) |
| output records (expected \(total)) | \(passed.count) | \(decided.count) (distinct decisions: \(valid)) | |
| latency p50 / p99 (ms, 1,000 msg/s paced) | \(format(percentile(passLatency, 0.5))) / \(format(percentile(passLatency, 0.99))) | \(format(percentile(decideLatency, 0.5))) / \(format(percentile(decideLatency, 0.99))) | |
| peak RSS of the decider (MB) | | \(String(format: "%.1f", Double(rss) / 1_048_576)) | |
""")
guard passed.count == total, decided.count == total, valid == total else {
    FileHandle.standardError.write(Data("output counts do not match the corpus: the mock may have dropped records (5 MiB per partition)\n".utf8))
    exit(1)
}
