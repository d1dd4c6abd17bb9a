import CSimdJSON
import DecisionCore

/// An executor run result as simdjson read it in one pass (`sj_read_run_result`), made into what the report
/// needs: the run's ids, its finish time and statistics as Swift values, its tasks only as their tally
/// (no `String` per task). Only what the C reader cannot check is checked here: a task's status and an
/// issue's severity among their names, the timestamps as RFC 3339, and each task's own rules. When one of
/// those fails the answer is `nil` and the decoder reads the message member by member, which names the
/// error.
struct RunResultReading {
    var runID: String
    var workflowID: String
    var finishedAt: String
    var statistics: RunStatistics
    var taskCount: Int
    /// Every task passed ``ExecutorRunResult/validateTask(_:taskIDIsEmpty:executionTime:)``.
    var tasks: TaskTally
    var analysis: PromptAnalysis?
    var variant: String?

    init?(_ read: sj_run_result, patterns: ErrorPatterns) {
        guard let startedAt = Self.utf8(read.started_at), RFC3339.isValid(utf8: startedAt),
            let finishedAtUTF8 = Self.utf8(read.finished_at), RFC3339.isValid(utf8: finishedAtUTF8),
            let tasks = Self.tasks(read, patterns: patterns), let analysis = Self.analysis(read)
        else { return nil }
        runID = Self.string(read.run_id) ?? ""
        workflowID = Self.string(read.workflow_id) ?? ""
        finishedAt = String(decoding: finishedAtUTF8, as: UTF8.self)
        statistics = Self.statistics(read)
        taskCount = read.task_count
        self.tasks = tasks
        self.analysis = analysis
        variant = VariantRules.variantName(Self.string(read.variant))
    }

    /// The report, validated as the member-by-member path validates a run and its report.
    func report(metadata: JSONObject) throws(InputRejection) -> TestExecutionReport {
        try TestExecutionReport.validated(
            runID: runID, workflowID: workflowID, finishedAt: finishedAt, statistics: statistics, taskCount: taskCount,
            tasks: tasks, metadata: metadata,
            validateTasks: {})  // each was validated as it was read
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

    /// The tasks' tally; `nil` when a task's status is unknown or it breaks a task's rule.
    private static func tasks(_ read: sj_run_result, patterns: ErrorPatterns) -> TaskTally? {
        var tally = TaskTally(capacity: read.task_count)
        for (index, task) in UnsafeBufferPointer(start: read.tasks, count: read.task_count).enumerated() {
            guard let status = bytes(task.task_status, TaskStatus.named),
                (try? ExecutorRunResult.validateTask(
                    index, taskIDIsEmpty: task.task_id.length == 0, executionTime: task.execution_time)) != nil
            else { return nil }
            tally.add(
                status: status, executionTime: task.execution_time, errorMessage: utf8(task.error_message),
                patterns: patterns)
        }
        return tally
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
        utf8(text).flatMap { body(UnsafeRawBufferPointer($0)) }
    }

    /// The text's UTF-8 (validated by the parser), in the parser's document; `nil` when absent or null.
    private static func utf8(_ text: sj_text) -> UnsafeBufferPointer<UInt8>? {
        guard let start = text.bytes else { return nil }
        return UnsafeBufferPointer(
            start: UnsafeRawPointer(start).assumingMemoryBound(to: UInt8.self), count: text.length)
    }

    /// The text as a `String`; `nil` when the member was absent or null.
    private static func string(_ text: sj_text) -> String? {
        utf8(text).map { String(decoding: $0, as: UTF8.self) }
    }
}

extension SimdJSONParser {
    /// The run result the document holds, read in one pass; `nil` when it needs the member-by-member path.
    func readRunResult(_ root: SimdJSONNode, patterns: ErrorPatterns) -> RunResultReading? {
        var read = sj_run_result()
        guard sj_read_run_result(root.parser, root.element, &read) != 0 else { return nil }
        return RunResultReading(read, patterns: patterns)
    }
}
