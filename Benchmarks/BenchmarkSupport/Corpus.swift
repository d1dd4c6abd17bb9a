import WireFormat

/// The benchmarks' corpus: executor run results of `tasks` tasks (20: ~4.3 KB), all succeeded but one each
/// failed, timed out and errored with an LLM error message, every task with a `test_result`.
public func benchmarkRunResult(_ n: Int, workflows: Int = 50, tasks: Int = 20) -> [UInt8] {
    precondition(tasks >= 4, "three tasks fail in every run")
    let succeeded = tasks - 3
    var w = JSONWriter()
    w.beginObject()
    w.key("run_id")
    w.string("run-\(n)")
    w.key("workflow_id")
    w.string("wf-\(n % workflows)")
    w.key("started_at")
    w.string("2025-11-19T10:00:00Z")
    w.key("finished_at")
    w.string("2025-11-19T10:01:02.500Z")
    w.key("total_duration")
    w.number(62.5)
    w.key("statistics")
    w.beginObject()
    for (key, value) in [
        ("total_tasks", tasks), ("completed_tasks", tasks), ("succeeded_tasks", succeeded), ("failed_tasks", 1),
        ("timeout_tasks", 1),
        ("cancelled_tasks", 0), ("error_tasks", 1), ("total_tokens", 8400), ("total_retries", 2),
    ] {
        w.key(key)
        w.integer(value)
    }
    w.key("success_rate")
    w.number(Double(succeeded) / Double(tasks))
    w.key("total_execution_time")
    w.number(64.6)
    w.key("avg_execution_time")
    w.number(3.23)
    w.key("total_cost")
    w.number(0.084)
    w.endObject()
    w.key("task_results")
    w.beginArray()
    for task in 0..<tasks {
        let status = task < succeeded ? "succeeded" : ["failed", "timeout", "error"][task - succeeded]
        w.beginObject()
        w.key("task_id")
        w.string("task-\(task)-of-run-\(n)")
        w.key("task_status")
        w.string(status)
        w.key("execution_time")
        w.number(1.2 + Double(task) * 0.137)
        w.key("error_message")
        status == "succeeded" ? w.null() : w.string("Rate limit exceeded (429) while calling the model")
        w.key("attempt_count")
        w.integer(1)
        w.key("test_result")
        w.beginObject()
        w.key("tokens_used")
        w.integer(420)
        w.key("cost")
        w.number(0.0042)
        w.key("passed")
        w.bool(status == "succeeded")
        w.endObject()
        w.endObject()
    }
    w.endArray()
    w.endObject()
    return w.bytes
}
