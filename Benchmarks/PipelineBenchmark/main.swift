import BenchmarkSupport
import Foundation
import Kafka
import Logging

// End to end, side by side, in one run, each contender on a fresh `mock-broker` process (3 brokers):
//   c-passthrough  a pass-through in C on librdkafka's C API (Benchmarks/baselines/passthrough.c)
//   native-decider the same job in C++ on simdjson's On-Demand API and librdkafka's C API, one thread
//                  (Benchmarks/baselines/native_decider.cpp)
//   python-peer    the same job in Python on confluent-kafka + pydantic v2 (Benchmarks/baselines/python_peer.py)
//   run            `optimizer-decider run` (one decision shard per core it may use)
//   run-1-shard    `optimizer-decider run --decision-shards 1`: the same with every partition on one shard
//   run-wide       `optimizer-decider run --max-in-flight 50000 --max-in-flight-mib 128`: room for a whole
//                  burst in flight (the native decider has librdkafka's queue of 100,000)
//   replay         `optimizer-decider replay --from beginning --until end`
// over one corpus of executor run results. Throughput = outputs ÷ span of the outputs' timestamps; CPU per
// message from the contender's rusage (user + system, start to exit); medians of the rounds. Latency is
// measured in a paced phase (output timestamp − input timestamp, matched by partition and order).
// This program only drives and measures; it shares the corpus generator and the Kafka client it reads
// and writes the topics with, never the code under test with a baseline.
//
// Usage: PipelineBenchmark <optimizer-decider> <passthrough binary> <native decider binary> <python> <python_peer.py>
//        [messages] [partitions] [keys] [tasks] [rounds] [paced rate/s]
// Environment: CONTENDERS=a,b,… runs only those (the pass-through always, for the ratios); CONTENDER_CPUS=0
// runs each contender under `taskset -c 0` (the brokers keep every core).

let arguments = CommandLine.arguments
guard arguments.count >= 6 else {
    FileHandle.standardError.write(
        Data(
            "usage: PipelineBenchmark <optimizer-decider> <passthrough> <native decider> <python> <python_peer.py> [messages] [partitions] [keys] [tasks] [rounds] [paced rate]\n"
                .utf8))
    exit(2)
}
func argument(_ index: Int, _ fallback: Int) -> Int {
    arguments.count > index ? Int(arguments[index]) ?? fallback : fallback
}
let decider = arguments[1]
let passthrough = arguments[2]
let nativeDeciderBinary = arguments[3]
let python = arguments[4]
let peer = arguments[5]
let total = argument(6, 40_000)
let partitions = argument(7, 32)
let keys = argument(8, 5_000)
let tasks = argument(9, 5)
let rounds = argument(10, 3)
let pacedRate = argument(11, 1_000)
let logger: Logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .critical
    return logger
}()

// MARK: Processes

struct Child {
    let pid: pid_t
    var stdout: FileHandle?

    /// Waits for the exit; returns the CPU seconds (user + system) the child used.
    func wait() -> Double {
        var status: Int32 = 0
        var usage = rusage()
        wait4(pid, &status, 0, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(
            usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    func signal(_ number: Int32) { kill(pid, number) }
}

/// CPUs the contenders are pinned to (`taskset -c`), or every core.
let contenderCPUs = ProcessInfo.processInfo.environment["CONTENDER_CPUS"].flatMap { $0.isEmpty ? nil : $0 }

func spawn(_ path: String, _ args: [String], captureStdout: Bool = false) -> Child {
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    var pipe: [Int32] = [-1, -1]
    if captureStdout {
        _ = pipe.withUnsafeMutableBufferPointer { Glibc.pipe($0.baseAddress!) }
        posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
        posix_spawn_file_actions_addclose(&actions, pipe[0])
    } else {
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    }
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv = ([path] + args).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, path, &actions, nil, argv, environ)
    guard result == 0 else { fatalError("cannot start \(path): \(String(cString: strerror(result)))") }
    if captureStdout { close(pipe[1]) }
    return Child(pid: pid, stdout: captureStdout ? FileHandle(fileDescriptor: pipe[0], closeOnDealloc: true) : nil)
}

func startBroker() -> (Child, String) {
    let broker = spawn(
        decider,
        [
            "mock-broker", "--brokers", "3", "--partitions", String(partitions), "--topic", "in", "--topic", "out",
            "--topic", "dlq",
        ], captureStdout: true)
    var line = Data()
    while let byte = try? broker.stdout!.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line += byte }
    return (broker, String(decoding: line, as: UTF8.self))
}

// MARK: Topics

let corpus = (0..<total).map { benchmarkRunResult($0, workflows: keys, tasks: tasks) }

func produce(_ bootstrap: String, _ values: ArraySlice<[UInt8]>, startingAt first: Int, pacedAt rate: Int? = nil)
    async throws
{
    let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: bootstrap), logger: logger)
    let chunk = rate.map { max(1, $0 / 50) } ?? 2000
    let started = ContinuousClock.now
    for start in stride(from: values.startIndex, to: values.endIndex, by: chunk) {
        let slice = values[start..<min(values.endIndex, start + chunk)]
        try await producer.send(
            slice.enumerated().map { index, value in
                let n = first + start - values.startIndex + index
                return ProducerRecord(
                    topic: "in", partition: Int32(n % partitions), key: Array("wf-\(n % keys)".utf8), value: value)
            })
        if let rate {
            let due = started + .milliseconds(Int64((start - values.startIndex + slice.count) * 1000 / rate))
            try await Task.sleep(until: due)
        }
    }
    await producer.close()
}

/// Every record of a topic, per partition in offset order, read up to the current high watermarks.
func readAll(_ bootstrap: String, _ topic: String) async throws -> [Int32: [KafkaMessage]] {
    let consumer = try KafkaConsumer(
        configuration: KafkaConfiguration(bootstrapServers: bootstrap).forManualAssignment,
        groupID: "bench-reader-\(UUID())", logger: logger)
    var reader = try await PartitionReader.upToHighWatermarks(
        of: (0..<Int32(partitions)).map { TopicPartition(topic, $0) }, on: consumer)
    var records: [Int32: [KafkaMessage]] = [:]
    for message in try await reader.readToEnd(within: .seconds(120), maxMessages: 10_000) {
        records[message.partition, default: []].append(message)
    }
    await consumer.close()
    return records
}

func outputCount(_ bootstrap: String) async throws -> Int {
    let consumer = try KafkaConsumer(
        configuration: KafkaConfiguration(bootstrapServers: bootstrap), groupID: "bench-count", logger: logger)
    var count: Int64 = 0
    for partition in 0..<Int32(partitions) {
        let marks = try await consumer.watermarks(TopicPartition("out", partition))
        count += marks.high - marks.low
    }
    await consumer.close(timeout: .seconds(2))
    return Int(count)
}

func waitForOutputs(_ bootstrap: String, _ count: Int, timeout: Duration = .seconds(300)) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await outputCount(bootstrap) < count {
        guard ContinuousClock.now < deadline else { throw ServiceTimeout(what: "\(count) outputs") }
        try await Task.sleep(for: .milliseconds(200))
    }
}

struct ServiceTimeout: Error { let what: String }

// MARK: Contenders

enum Contender: String, CaseIterable {
    case cPassthrough = "c-passthrough"
    case nativeDecider = "native-decider"
    case pythonPeer = "python-peer"
    case run
    case runOneShard = "run-1-shard"
    case runWide = "run-wide"
    case replay

    /// Starts the contender on `in`, writing `out`; `count` is how many outputs it must produce.
    func start(_ bootstrap: String, count: Int) -> Child {
        let (path, args) = command(bootstrap, count: count)
        guard let cpus = contenderCPUs else { return spawn(path, args) }
        return spawn("/usr/bin/taskset", ["-c", cpus, path] + args)
    }

    private func command(_ bootstrap: String, count: Int) -> (String, [String]) {
        switch self {
        case .cPassthrough:
            return (passthrough, [bootstrap, "in", "out", "bench-c", String(count)])
        case .nativeDecider:
            return (nativeDeciderBinary, [bootstrap, "in", "out", "dlq", "bench-native", String(count)])
        case .pythonPeer:
            return (python, [peer, bootstrap, "in", "out", "dlq", "bench-py", String(count)])
        case .run, .runOneShard, .runWide:
            return (
                decider,
                [
                    "run", "--bootstrap-servers", bootstrap, "--input-topic", "in", "--output-topic", "out",
                    "--dlq-topic", "dlq",
                    "--group-id", "bench-run", "--metrics-address", "off", "--log-level", "error",
                ] + options
            )
        case .replay:
            return (
                decider,
                [
                    "replay", "--bootstrap-servers", bootstrap, "--input-topic", "in", "--output-topic", "out",
                    "--dlq-topic", "dlq",
                    "--group-id", "bench-replay", "--from", "beginning", "--until", "end", "--log-level", "error",
                ]
            )
        }
    }

    /// What the `run` variants add to the defaults.
    private var options: [String] {
        switch self {
        case .runOneShard: ["--decision-shards", "1"]
        case .runWide: ["--max-in-flight", "50000", "--max-in-flight-mib", "128"]
        default: []
        }
    }

    /// `run` is a service: it is stopped once its outputs are in; the others exit by themselves.
    var runsUntilStopped: Bool { self == .run || self == .runOneShard || self == .runWide }
}

struct Throughput {
    var rate: Double
    var cpuMicrosecondsPerMessage: Double
}

func measureThroughput(_ contender: Contender) async throws -> Throughput {
    let (broker, bootstrap) = startBroker()
    defer {
        broker.signal(SIGTERM)
        _ = broker.wait()
    }
    try await produce(bootstrap, corpus[...], startingAt: 0)
    let child = contender.start(bootstrap, count: total)
    try await waitForOutputs(bootstrap, total)
    if contender.runsUntilStopped { child.signal(SIGTERM) }
    let cpu = child.wait()
    let outputs = try await readAll(bootstrap, "out").values.flatMap { $0 }
    let stamps = outputs.compactMap(\.timestampMs)
    let span = Double((stamps.max() ?? 0) - (stamps.min() ?? 0)) / 1000
    return Throughput(rate: Double(outputs.count) / span, cpuMicrosecondsPerMessage: cpu / Double(total) * 1e6)
}

/// Latency at a paced rate: a warm-up message first (so the contender has joined and is reading), then
/// `pacedRate` messages a second for five seconds.
func measureLatency(_ contender: Contender) async throws -> (p50: Double, p99: Double) {
    let (broker, bootstrap) = startBroker()
    defer {
        broker.signal(SIGTERM)
        _ = broker.wait()
    }
    let paced = pacedRate * 5
    if contender == .replay { return (.nan, .nan) }
    let child = contender.start(bootstrap, count: paced + 1)
    try await produce(bootstrap, corpus[0..<1], startingAt: 0)
    try await waitForOutputs(bootstrap, 1, timeout: .seconds(120))
    try await produce(bootstrap, corpus[1..<(paced + 1)], startingAt: 1, pacedAt: pacedRate)
    try await waitForOutputs(bootstrap, paced + 1)
    if contender.runsUntilStopped { child.signal(SIGTERM) }
    _ = child.wait()
    let inputs = try await readAll(bootstrap, "in")
    let outputs = try await readAll(bootstrap, "out")
    var latencies: [Double] = []
    for (partition, sent) in inputs {
        for (input, output) in zip(sent, outputs[partition] ?? []) where input.offset > 0 || partition != 0 {
            if let a = input.timestampMs, let b = output.timestampMs { latencies.append(Double(b - a)) }
        }
    }
    latencies.sort()
    return (latencies[latencies.count / 2], latencies[min(latencies.count - 1, latencies.count * 99 / 100)])
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// The contenders of this run: CONTENDERS, or all; the pass-through always.
let contenders: [Contender] = {
    guard let names = ProcessInfo.processInfo.environment["CONTENDERS"], !names.isEmpty else {
        return Contender.allCases
    }
    let chosen = Set(
        names.split(separator: ",").map { name in
            guard let contender = Contender(rawValue: String(name)) else { fatalError("no contender named \(name)") }
            return contender
        })
    return Contender.allCases.filter { $0 == .cPassthrough || chosen.contains($0) }
}()

print(
    "corpus: \(total) executor run results of \(tasks) tasks (\(corpus[0].count) bytes) over \(keys) keys, \(partitions) partitions, 3 mock brokers; \(rounds) rounds\(contenderCPUs.map { "; contenders on CPUs \($0)" } ?? "")"
)
var results: [Contender: [Throughput]] = [:]
for round in 1...rounds {
    for contender in contenders {
        let result = try await measureThroughput(contender)
        results[contender, default: []].append(result)
        print(
            String(
                format: "round %d  %-13@ %9.0f outputs/s  %6.1f µs CPU/message", round, contender.rawValue as NSString,
                result.rate, result.cpuMicrosecondsPerMessage))
    }
}
var latency: [Contender: (Double, Double)] = [:]
for contender in contenders where contender != .replay {
    latency[contender] = try await measureLatency(contender)
}
let baseline = median(results[.cPassthrough]!.map(\.rate))
let baselineCPU = median(results[.cPassthrough]!.map(\.cpuMicrosecondsPerMessage))
let pythonRate = results[.pythonPeer].map { median($0.map(\.rate)) } ?? .nan
let nativeRate = results[.nativeDecider].map { median($0.map(\.rate)) } ?? .nan
let nativeCPU = results[.nativeDecider].map { median($0.map(\.cpuMicrosecondsPerMessage)) } ?? .nan
print(
    "\n| contender | outputs/s (median of \(rounds); the rounds) | vs C pass-through | vs native decider | vs Python peer | CPU µs/message | CPU vs C | CPU vs native | latency p50 / p99 ms at \(pacedRate)/s |"
)
print("|---|---|---|---|---|---|---|---|---|")
for contender in contenders {
    let rate = median(results[contender]!.map(\.rate))
    let cpu = median(results[contender]!.map(\.cpuMicrosecondsPerMessage))
    let lat = latency[contender].map { String(format: "%.0f / %.0f", $0.0, $0.1) } ?? "n/a (a backfill)"
    let each = results[contender]!.map { String(format: "%.0f", $0.rate) }.joined(separator: "; ")
    print(
        String(
            format: "| %@ | %.0f (%@) | %.2f | %.2f | %.2f | %.1f | %.2f | %.2f | %@ |", contender.rawValue as NSString,
            rate, each as NSString, rate / baseline, rate / nativeRate, rate / pythonRate, cpu, cpu / baselineCPU,
            cpu / nativeCPU, lat as NSString))
}
