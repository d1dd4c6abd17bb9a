import CSimdJSON
import DecisionCore

/// An executor run result as simdjson read it in one pass (`sj_read_run_result`), made into the domain's
/// values. Only what the C reader cannot check is checked here: a task's status and an issue's severity
/// among their names, the timestamps as RFC 3339. When one of those fails the answer is `nil` and the
/// decoder reads the message member by member, which names the error.
struct RunResultReading {
    var run: ExecutorRunResult
    var analysis: PromptAnalysis?
    var variant: String?

    init?(_ read: sj_run_result) {
        guard let startedAt = Self.string(read.started_at), RFC3339.isValid(startedAt),
            let finishedAt = Self.string(read.finished_at), RFC3339.isValid(finishedAt),
            let tasks = Self.tasks(read), let analysis = Self.analysis(read)
        else { return nil }
        run = ExecutorRunResult(
            runID: Self.string(read.run_id) ?? "", workflowID: Self.string(read.workflow_id) ?? "",
            startedAt: startedAt, finishedAt: finishedAt, statistics: Self.statistics(read), tasks: tasks)
        self.analysis = analysis
        variant = VariantRules.variantName(Self.string(read.variant))
    }

    private static func statistics(_ read: sj_run_result) -> RunStatistics {
        RunStatistics(
            totalTasks: Int(read.total_tasks),
            completedTasks: read.has_completed_tasks ? Int(read.completed_tasks) : nil,
            succeededTasks: Int(read.succeeded_tasks), failedTasks: Int(read.failed_tasks),
            timeoutTasks: Int(read.timeout_tasks), cancelledTasks: Int(read.cancelled_tasks),
            errorTasks: Int(read.error_tasks), totalTokens: Int(read.total_tokens),
            totalRetries: Int(read.total_retries), successRate: read.success_rate,
            totalExecutionTime: read.total_execution_time, avgExecutionTime: read.avg_execution_time,
            totalCost: read.total_cost)
    }

    private static func tasks(_ read: sj_run_result) -> [TaskResult]? {
        var tasks: [TaskResult] = []
        tasks.reserveCapacity(read.task_count)
        for task in UnsafeBufferPointer(start: read.tasks, count: read.task_count) {
            guard let status = bytes(task.task_status, TaskStatus.named) else { return nil }
            tasks.append(
                TaskResult(
                    taskID: string(task.task_id) ?? "", status: status, executionTime: task.execution_time,
                    errorMessage: string(task.error_message),
                    attemptCount: task.has_attempt_count ? Int(task.attempt_count) : nil))
        }
        return tasks
    }

    /// The analysis, `.some(nil)` when the message has none; `nil` when an issue's severity is unknown.
    private static func analysis(_ read: sj_run_result) -> PromptAnalysis?? {
        guard read.has_analysis else { return .some(nil) }
        var issues: [PromptIssue] = []
        issues.reserveCapacity(read.issue_count)
        for issue in UnsafeBufferPointer(start: read.issues, count: read.issue_count) {
            guard let severity = bytes(issue.severity, IssueSeverity.named) else { return nil }
            issues.append(
                PromptIssue(
                    severity: severity, type: string(issue.type) ?? "", description: string(issue.description) ?? ""))
        }
        return PromptAnalysis(
            promptID: string(read.prompt_id), overallScore: read.overall_score, clarityScore: read.clarity_score,
            efficiencyScore: read.efficiency_score, issues: issues)
    }

    private static func bytes<Result>(_ text: sj_text, _ body: (UnsafeRawBufferPointer) -> Result?) -> Result? {
        guard let start = text.bytes else { return nil }
        return body(UnsafeRawBufferPointer(start: start, count: text.length))
    }

    /// The text as a `String`; `nil` when the member was absent or null. The parser validated its UTF-8.
    private static func string(_ text: sj_text) -> String? {
        bytes(text) { String(decoding: $0, as: UTF8.self) }
    }
}

extension SimdJSONParser {
    /// The run result the document holds, read in one pass; `nil` when it needs the member-by-member path.
    func readRunResult(_ root: SimdJSONNode) -> RunResultReading? {
        var read = sj_run_result()
        guard sj_read_run_result(root.parser, root.element, &read) != 0 else { return nil }
        return RunResultReading(read)
    }
}
