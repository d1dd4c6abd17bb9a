import DecisionCore
import WireFormat

/// A deterministic pseudo-random generator (SplitMix64), so every demo run shows the same story.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Executor traffic for the demo: realistic run results of several workflows (one degrading over time,
/// so regressions show), a few legacy and pre-aggregated messages, duplicates, and one bad message of
/// every dead-letter reason.
struct DemoTraffic {
    struct Message {
        var key: String
        var value: [UInt8]
        /// The run this message decides, `nil` for a bad message.
        var run: String?
    }

    static let workflows = [
        "wf-support-triage", "wf-invoice-extract", "wf-search-summarize", "wf-code-review", "wf-translate",
        "wf-degrading",
    ]
    static let errorMessages = [
        "Rate limit exceeded (429)", "context length exceeded", "JSONDecodeError: Expecting value",
        "Output format invalid",
        "upstream connection reset", "assertion failed: expected 3 items",
    ]

    var generator: SplitMix64

    init(seed: UInt64 = 42) { generator = SplitMix64(seed: seed) }

    mutating func messages(runs: Int) -> [Message] {
        var messages: [Message] = []
        var perWorkflow: [String: Int] = [:]
        for index in 0..<runs {
            let workflow = Self.workflows[index % Self.workflows.count]
            let sequence = perWorkflow[workflow, default: 0]
            perWorkflow[workflow] = sequence + 1
            let runID = "\(workflow)-run-\(sequence + 1)"
            let value: [UInt8]
            switch index % 20 {
            case 7: value = legacy(workflow: workflow, runID: runID)
            case 13: value = report(workflow: workflow, runID: runID)
            default: value = runResult(workflow: workflow, runID: runID, sequence: sequence)
            }
            messages.append(Message(key: workflow, value: value, run: "\(workflow)/\(runID)"))
            // Executor retries: every eleventh run is delivered twice.
            if index % 11 == 3 { messages.append(messages.last!) }
        }
        messages += abTests(runsPerWorkflow: max(12, runs / 10))
        messages += badMessages()
        return messages
    }

    /// Workflows whose prompt changes half way, from `prompt-v1` to `prompt-v2` (contract 3.3): the new
    /// variant improves the success rate, regresses the latency, or changes nothing measurable.
    static let abWorkflows = ["wf-ab-improves", "wf-ab-regresses", "wf-ab-inconclusive"]

    mutating func abTests(runsPerWorkflow: Int) -> [Message] {
        var messages: [Message] = []
        for index in 0..<runsPerWorkflow {
            let second = index >= runsPerWorkflow / 2
            for workflow in Self.abWorkflows {
                let runID = "\(workflow)-run-\(index + 1)"
                let total = 50
                var success = 0.9
                var latency = 1200.0
                switch workflow {
                case "wf-ab-improves": success = second ? 0.97 : 0.8
                case "wf-ab-regresses": latency = second ? 2100 : 1200
                default: break
                }
                let successful = (0..<total).count { _ in chance(success) }
                latency *= Double.random(in: 0.9...1.1, using: &generator)
                let cost = 0.004 * Double.random(in: 0.9...1.1, using: &generator)
                var w = JSONWriter()
                w.beginObject()
                w.key("workflow_id")
                w.string(workflow)
                w.key("run_id")
                w.string(runID)
                w.key("total_tests")
                w.integer(total)
                w.key("successful_tests")
                w.integer(successful)
                w.key("failed_tests")
                w.integer(total - successful)
                w.key("success_rate")
                w.number(Double(successful) / Double(total))
                w.key("avg_response_time_ms")
                w.number(latency.rounded())
                w.key("total_tokens")
                w.integer(total * 400)
                w.key("avg_tokens_per_request")
                w.number(400)
                w.key("total_cost")
                w.number(cost * Double(total))
                w.key("cost_per_request")
                w.number(cost)
                w.key("metadata")
                w.beginObject()
                w.key("variant")
                w.string(second ? "prompt-v2" : "prompt-v1")
                w.endObject()
                w.endObject()
                messages.append(Message(key: workflow, value: w.bytes, run: "\(workflow)/\(runID)"))
            }
        }
        return messages
    }

    private mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &generator) < probability
    }

    mutating func runResult(workflow: String, runID: String, sequence: Int) -> [UInt8] {
        // wf-degrading gets slower, costlier and less reliable run after run.
        let degradation = workflow == "wf-degrading" ? Double(sequence) : 0
        let statuses = drawStatuses(degradation: degradation)
        let counts = TaskCounts(statuses)
        let baseLatency = (workflow == "wf-search-summarize" ? 4.2 : 1.4) * (1 + degradation * 0.25)
        let times = statuses.map { status -> Double in
            switch status {
            case .cancelled: 0
            case .timeout: 30
            default: (baseLatency * Double.random(in: 0.6...1.5, using: &generator) * 1000).rounded() / 1000
            }
        }
        let totalTime = times.reduce(0, +)
        let tokens = counts.completed * Int.random(in: 300...900, using: &generator)
        let costPerToken = (workflow == "wf-invoice-extract" ? 0.00012 : 0.00002) * (1 + degradation * 0.2)
        var w = JSONWriter()
        w.beginObject()
        w.key("run_id")
        w.string(runID)
        w.key("workflow_id")
        w.string(workflow)
        w.key("started_at")
        w.string("2025-11-19T10:00:00Z")
        w.key("finished_at")
        w.string("2025-11-19T10:0\(min(9, Int(totalTime / 60))):\(String(format2(Int(totalTime) % 60)))Z")
        w.key("total_duration")
        w.number(totalTime)
        w.key("statistics")
        Self.writeStatistics(counts, tokens: tokens, totalTime: totalTime, cost: Double(tokens) * costPerToken, to: &w)
        w.key("task_results")
        writeTasks(statuses, times: times, to: &w)
        if chance(0.4) {
            w.key("prompt_analysis")
            writeAnalysis(workflow: workflow, to: &w)
        }
        w.endObject()
        return w.bytes
    }

    /// How many tasks ended each way.
    private struct TaskCounts {
        var total, succeeded, failed, timeout, error, cancelled: Int
        var completed: Int { succeeded + failed + timeout + error }

        init(_ statuses: [TaskStatus]) {
            let count = { (status: TaskStatus) in statuses.count { $0 == status } }
            (total, succeeded, failed, timeout) = (statuses.count, count(.succeeded), count(.failed), count(.timeout))
            (error, cancelled) = (count(.error), count(.cancelled))
        }
    }

    private mutating func drawStatuses(degradation: Double) -> [TaskStatus] {
        let total = Int.random(in: 12...24, using: &generator)
        var statuses: [TaskStatus] = []
        for _ in 0..<total {
            let roll = Double.random(in: 0..<1, using: &generator)
            let failure = 0.06 + degradation * 0.03
            switch roll {
            case ..<failure: statuses.append(.failed)
            case ..<(failure + 0.02 + degradation * 0.005): statuses.append(.timeout)
            case ..<(failure + 0.04): statuses.append(.error)
            case ..<(failure + 0.05): statuses.append(.cancelled)
            default: statuses.append(.succeeded)
            }
        }
        return statuses
    }

    private static func writeStatistics(
        _ counts: TaskCounts, tokens: Int, totalTime: Double, cost: Double, to w: inout JSONWriter
    ) {
        let completed = counts.completed
        w.beginObject()
        for (key, value) in [
            ("total_tasks", counts.total), ("completed_tasks", completed), ("succeeded_tasks", counts.succeeded),
            ("failed_tasks", counts.failed), ("timeout_tasks", counts.timeout), ("cancelled_tasks", counts.cancelled),
            ("error_tasks", counts.error), ("total_tokens", tokens), ("total_retries", counts.failed + counts.error),
        ] {
            w.key(key)
            w.integer(value)
        }
        w.key("success_rate")
        w.number(completed > 0 ? Double(counts.succeeded) / Double(completed) : 0)
        w.key("total_execution_time")
        w.number(totalTime)
        w.key("avg_execution_time")
        w.number(completed > 0 ? totalTime / Double(completed) : 0)
        w.key("total_cost")
        w.number(cost)
        w.endObject()
    }

    private mutating func writeTasks(_ statuses: [TaskStatus], times: [Double], to w: inout JSONWriter) {
        w.beginArray()
        for (index, status) in statuses.enumerated() {
            w.beginObject()
            w.key("task_id")
            w.string("task-\(index + 1)")
            w.key("task_status")
            w.string(status.rawValue)
            w.key("execution_time")
            w.number(times[index])
            w.key("error_message")
            if status == .failed || status == .error {
                w.string(Self.errorMessages[Int.random(in: 0..<Self.errorMessages.count, using: &generator)])
            } else {
                w.null()
            }
            w.key("attempt_count")
            w.integer(status == .succeeded ? 1 : 2)
            w.key("test_result")
            w.null()
            w.endObject()
        }
        w.endArray()
    }

    private mutating func writeAnalysis(workflow: String, to w: inout JSONWriter) {
        let clarity = Double(Int.random(in: 55...95, using: &generator))
        let efficiency = Double(Int.random(in: 55...95, using: &generator))
        w.beginObject()
        w.key("prompt_id")
        w.string("\(workflow)-prompt")
        w.key("overall_score")
        w.number(((clarity + efficiency) / 2).rounded())
        w.key("clarity_score")
        w.number(clarity)
        w.key("efficiency_score")
        w.number(efficiency)
        w.key("issues")
        w.beginArray()
        if clarity < 65 {
            w.beginObject()
            w.key("severity")
            w.string("critical")
            w.key("type")
            w.string("ambiguous_instructions")
            w.key("description")
            w.string("The expected output format is never stated")
            w.endObject()
        }
        w.endArray()
        w.endObject()
    }

    func legacy(workflow: String, runID: String) -> [UInt8] {
        Array(
            #"{"workflow_id":"\#(workflow)","run_id":"\#(runID)","success_rate":0.75,"total_tests":8,"avg_response_time":2.1,"total_tokens":4000,"avg_tokens":500,"total_cost":0.08,"avg_cost":0.01}"#
                .utf8)
    }

    func report(workflow: String, runID: String) -> [UInt8] {
        Array(
            #"{"schema":"optimizer.test_execution_report/v1","workflow_id":"\#(workflow)","run_id":"\#(runID)","total_tests":40,"successful_tests":38,"failed_tests":2,"success_rate":0.95,"avg_response_time_ms":1800.5,"p95_response_time_ms":4200,"p99_response_time_ms":6100,"total_tokens":24000,"avg_tokens_per_request":600,"total_cost":0.96,"cost_per_request":0.024,"error_distribution":{"timeout_errors":0,"api_errors":1,"validation_errors":1,"llm_errors":0,"total_errors":2}}"#
                .utf8)
    }

    /// One message per dead-letter reason but `too_large`, plus one too large for the demo's limit.
    func badMessages() -> [Message] {
        [
            Message(key: "wf-broken", value: Array(#"{"run_id": "oops", "statistics": {"#.utf8), run: nil),
            Message(
                key: "wf-broken", value: Array(#"{"schema": "executor.run_result/v9", "run_id": "r"}"#.utf8), run: nil),
            Message(
                key: "wf-broken",
                value: Array(
                    #"{"workflow_id": "wf-broken", "run_id": "r1", "total_tests": 3, "successful_tests": 3}"#.utf8),
                run: nil),
            Message(
                key: "wf-broken", value: Array(#"{"workflow_id": "wf-broken", "success_rate": "high"}"#.utf8), run: nil),
            Message(
                key: "wf-broken", value: Array(#"{"workflow_id": "wf-broken", "success_rate": 1.7}"#.utf8), run: nil),
            Message(
                key: "wf-broken",
                value: Array(
                    #"{"workflow_id":"wf-broken","run_id":"r2","total_tests":10,"successful_tests":9,"failed_tests":1,"success_rate":0.5,"avg_response_time_ms":100,"total_tokens":1,"avg_tokens_per_request":0.1,"total_cost":0,"cost_per_request":0}"#
                        .utf8), run: nil),
            Message(
                key: "wf-broken",
                value: Array(#"{"workflow_id":"wf-broken","success_rate":1,"padding":""#.utf8)
                    + [UInt8](repeating: 0x78, count: 70_000) + Array(#""}"#.utf8), run: nil),
        ]
    }
}

private func format2(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
