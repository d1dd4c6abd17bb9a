import BenchmarkSupport
import DecisionCore
import DecisionEngine
import Foundation
import WireFormat

/// Micro-benchmarks of the decision path on one core: decode, score, encode, and all three together
/// (what `run` does per message), over generated executor run results (20 tasks, ~3.5 KB, by default);
/// then the state store deciding batches with one shard and with one per core.
/// Usage: DecisionBenchmarks [seconds per benchmark, default 2] [name filter] [tasks per run, default 20]
///    or: DecisionBenchmarks [--seconds S] [--only NAME] [--tasks T] [--iterations N]
/// With `--iterations N` each selected benchmark runs exactly N calls after its setup, no warm-up and no
/// clock: callgrind over two N's then gives the instructions of one call (the difference over the
/// difference in N), whatever the functions inside are called.

/// Resident set size of this process, from /proc (kB → bytes).
func residentBytes(_ field: String = "VmRSS") -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        return (Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? 0) * 1024
    }
    return 0
}

/// The command line, in either form of the usage above.
struct Options {
    var seconds = 2.0
    var only: String?
    var tasks = 20
    var iterations: Int?

    init(_ arguments: [String]) {
        guard arguments.first?.hasPrefix("--") == true else {
            if arguments.count > 0 { seconds = Double(arguments[0]) ?? seconds }
            if arguments.count > 1 { only = arguments[1] }
            if arguments.count > 2 { tasks = Int(arguments[2]) ?? tasks }
            return
        }
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { Self.fail("\(flag) needs a value") }
            switch flag {
            case "--seconds":
                guard let number = Double(value), number > 0 else { Self.fail("--seconds takes a positive number") }
                seconds = number
            case "--only": only = value
            case "--tasks": tasks = Self.positive(value, flag)
            case "--iterations": iterations = Self.positive(value, flag)
            default:
                Self.fail(
                    "unknown option \(flag); see the usage at the top of Benchmarks/DecisionBenchmarks/main.swift")
            }
        }
    }

    static func positive(_ value: String, _ flag: String) -> Int {
        guard let number = Int(value), number > 0 else { fail("\(flag) takes a positive integer, got \(value)") }
        return number
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("DecisionBenchmarks: \(message)\n".utf8))
        exit(2)
    }
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
let tasksPerRun = options.tasks

func corpus(count: Int) -> [[UInt8]] { (0..<count).map { benchmarkRunResult($0, tasks: tasksPerRun) } }

/// Only benchmarks whose name contains this, e.g. for profiling one of them.
let only = options.only

func measure(_ name: String, seconds: Double, items: Int, _ body: (Int) -> Int) {
    if let only, !name.contains(only) { return }
    if let iterations = options.iterations {
        var sink = 0
        for i in 0..<iterations { sink &+= body(i % items) }
        print(String(format: "%-28@ %12d calls", name as NSString, iterations), "(sink \(sink & 1))")
        return
    }
    var sink = 0
    for i in 0..<min(items, 1000) { sink &+= body(i) }  // warm-up
    var operations = 0
    let clock = ContinuousClock()
    let start = clock.now
    var elapsed = Duration.zero
    while elapsed < .milliseconds(Int64(seconds * 1000)) {
        for i in 0..<1000 { sink &+= body((operations + i) % items) }
        operations += 1000
        elapsed = start.duration(to: clock.now)
    }
    let total = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let rate = Double(operations) / total
    print(String(format: "%-28@ %12.0f ops/s %10.2f µs/op", name as NSString, rate, 1e6 / rate), "(sink \(sink & 1))")
}

let seconds = options.seconds
let messages = corpus(count: 10_000)
print(
    "corpus: \(messages.count) executor run results of \(tasksPerRun) tasks, \(messages.map(\.count).reduce(0, +) / messages.count) bytes on average"
)
let rules = ScoringRules()
let decoder = InputDecoder(patterns: rules.errorPatterns)
let submissions = messages.map { try! decoder.decode($0) }
let fingerprint = rules.fingerprint
let decisions = submissions.map {
    Decision(
        submission: $0, rules: rules, rulesFingerprint: fingerprint, baseline: [],
        source: MessageSource(topic: "t", partition: 0, offset: 0, timestampMs: 0), decidedAtMs: 0)
}
measure("parse (JSON tree)", seconds: seconds, items: messages.count) { i in
    messages[i].withUnsafeBytes { (try? JSONParser.parse($0)) == nil ? 0 : 1 }
}
measure("decode (bytes → report)", seconds: seconds, items: messages.count) { i in
    (try? decoder.decode(messages[i]))?.report.totalTests ?? 0
}
measure("score (report → verdict)", seconds: seconds, items: submissions.count) { i in
    rules.verdict(for: submissions[i].report, analysis: submissions[i].analysis).reasons.count
}
var encoder = DecisionEncoder()
measure("encode (decision → bytes)", seconds: seconds, items: decisions.count) { i in
    encoder.encode(decisions[i]).count
}
let scratch = DecisionScratch()
measure("decode, simdjson path", seconds: seconds, items: messages.count) { i in
    (try? decoder.decode(messages[i], fastParser: scratch.fastParser))?.report.totalTests ?? 0
}
// What a state restore does per decision read back from the decisions topic.
let decisionJSON = decisions.map { encoder.encode($0) }
measure("restore read, reference parser", seconds: seconds, items: decisionJSON.count) { i in
    DecisionRecord.parse(decisionJSON[i]) == nil ? 0 : 1
}
measure("restore read, simdjson", seconds: seconds, items: decisionJSON.count) { i in
    DecisionRecord.parse(decisionJSON[i], fastParser: scratch.fastParser) == nil ? 0 : 1
}
// What a restore does per record read back: parse, check the fingerprint and the retention, record into the
// partition's state (decision id, history, variant), the engine's StateRestore as the service runs it.
var restore = StateRestore(
    [0], template: PartitionState(rules: rules, retentionMs: nil, capacity: Int.max),
    rulesFingerprint: fingerprint, nowMs: 0)
measure("restore (read back + record)", seconds: seconds, items: decisionJSON.count) { i in
    if i == 0 {
        restore = StateRestore(
            [0], template: PartitionState(rules: rules, retentionMs: nil, capacity: Int.max),
            rulesFingerprint: fingerprint, nowMs: 0)
    }
    restore.apply(decisionJSON[i], partition: 0, timestampMs: 0)
    return restore.recordsRead
}
let decider = Decider(rules: rules)
var state = PartitionState(retentionMs: nil, capacity: Int.max, historyWindow: 20)
var round = 0
measure("decide (decode+score+encode)", seconds: seconds, items: messages.count) { i in
    if i == 0 {
        round += 1
        state = PartitionState(retentionMs: nil, capacity: Int.max, historyWindow: 20)
    }
    let outcome = messages[i].withUnsafeBytes {
        decider.process(
            $0, source: MessageSource(topic: "t", partition: 0, offset: Int64(i), timestampMs: 0), nowMs: 0,
            state: &state, scratch: scratch)
    }
    if case let .decided(_, json) = outcome { return json.count }
    return 0
}

/// The state store as the service drives it: batches of 1,000 messages over 32 partitions, decided by
/// `shards` shards at the same time (one per core in the service); every pass over the corpus starts from
/// an empty state, so each message is a new decision. Only `process` is timed.
func decideInStore(shards: Int, seconds: Double) async -> Double {
    let partitions = 32
    let batches = stride(from: 0, to: messages.count, by: 1000).map { start in
        (start..<min(messages.count, start + 1000)).map { i in
            EngineInput(
                topic: "t", partition: Int32(i % partitions), offset: Int64(i / partitions), timestampMs: 0,
                value: messages[i])
        }
    }
    var decided = 0
    var elapsed = Duration.zero
    let clock = ContinuousClock()
    while elapsed < .milliseconds(Int64(seconds * 1000)) {
        let store = DecisionStateStore(
            decider: Decider(rules: rules), retentionMs: nil, capacityPerPartition: 2_000_000, shards: shards)
        await store.install(
            Dictionary(uniqueKeysWithValues: (0..<Int32(partitions)).map { ($0, store.emptyState()) }))
        for batch in batches {
            let start = clock.now
            let outcomes = await store.process(batch, nowMs: 0)
            elapsed += start.duration(to: clock.now)
            decided += outcomes.count
        }
    }
    return Double(decided) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

if options.iterations == nil, only == nil || "decide in the store".contains(only!) {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    var rates: [Int: Double] = [:]
    for shards in Set([1, 2, cores]).sorted() {
        rates[shards] = await decideInStore(shards: shards, seconds: seconds)
        print(
            String(
                format: "%-28@ %12.0f ops/s %10.2f µs/op  (%.2f× one shard, %d cores)",
                "decide in the store, \(shards) shard\(shards == 1 ? "" : "s")" as NSString, rates[shards]!,
                1e6 / rates[shards]!, rates[shards]! / rates[1]!, cores))
    }
}

if only == nil || only == "state" {
    // Dedup state for 1,000,000 runs (ids and one workflow history per 50 runs), measured as RSS growth.
    let before = residentBytes()
    var big = PartitionState(retentionMs: 7 * 24 * 3_600_000, capacity: 2_000_000, historyWindow: 20)
    for n in 0..<1_000_000 {
        let key = RunIdentity.runID(workflowID: "wf-\(n % 20_000)", runID: "run-\(n)").decisionKey(
            rulesFingerprint: fingerprint)
        big.record(
            key, workflowID: "wf-\(n % 20_000)",
            point: BaselinePoint(successRate: 0.9, avgResponseTimeMs: 1000, costPerRequest: 0.01), atMs: Int64(n))
    }
    let after = residentBytes()
    print(
        String(
            format: "%-28@ %12d ids %10.1f MB RSS growth (%d workflows)", "dedup state, 1M runs" as NSString,
            big.decisionCount, Double(after - before) / 1_048_576, big.workflowCount))
}

if only == nil || only == "variants" {
    // Variant tables at their bound: 20,000 workflows, each with 8 variants of 50 runs (the defaults),
    // 8,000,000 variant runs in all, measured as RSS growth.
    let before = residentBytes()
    var tables = [String: VariantTable]()
    let run = VariantRun(successful: 9, completed: 10, avgResponseTimeMs: 1000, costPerRequest: 0.01)
    for workflow in 0..<20_000 {
        var table = VariantTable()
        for variant in 0..<VariantRules.maximumVariants {
            for _ in 0..<VariantRules().window {
                table.record("prompt-v\(variant)", run: run, window: VariantRules().window)
            }
        }
        tables["wf-\(workflow)"] = table
    }
    let after = residentBytes()
    print(
        String(
            format: "%-28@ %12d workflows %7.1f MB RSS growth (%.1f KB a workflow at 8 variants × %d runs)",
            "variant tables, full" as NSString, tables.count, Double(after - before) / 1_048_576,
            Double(after - before) / 1024 / Double(tables.count), VariantRules().window))
}
