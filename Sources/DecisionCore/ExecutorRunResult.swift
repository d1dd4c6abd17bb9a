/// A task's state as the executor reports it.
public enum TaskStatus: String, Sendable, CaseIterable {
    case pending, queued, running, succeeded, failed, timeout, cancelled, error
}

/// One task of an executor run: the fields the report needs.
public struct TaskResult: Sendable, Equatable {
    public var taskID: String
    public var status: TaskStatus
    /// Seconds.
    public var executionTime: Double
    public var errorMessage: String?
    public var attemptCount: Int?

    public init(
        taskID: String, status: TaskStatus, executionTime: Double, errorMessage: String? = nil, attemptCount: Int? = nil
    ) {
        self.taskID = taskID
        self.status = status
        self.executionTime = executionTime
        self.errorMessage = errorMessage
        self.attemptCount = attemptCount
    }
}

/// The executor's own counts for a run.
public struct RunStatistics: Sendable, Equatable {
    public var totalTasks: Int
    /// Absent in some executor versions; then succeeded + failed + timeout + error.
    public var completedTasks: Int?
    public var succeededTasks: Int
    public var failedTasks: Int
    public var timeoutTasks: Int
    public var cancelledTasks: Int
    public var errorTasks: Int
    public var totalTokens: Int
    public var totalRetries: Int
    public var successRate: Double
    public var totalExecutionTime: Double
    public var avgExecutionTime: Double
    public var totalCost: Double

    public init(
        totalTasks: Int, completedTasks: Int? = nil, succeededTasks: Int, failedTasks: Int = 0, timeoutTasks: Int = 0,
        cancelledTasks: Int = 0, errorTasks: Int = 0, totalTokens: Int = 0, totalRetries: Int = 0,
        successRate: Double, totalExecutionTime: Double = 0, avgExecutionTime: Double = 0, totalCost: Double = 0
    ) {
        self.totalTasks = totalTasks
        self.completedTasks = completedTasks
        self.succeededTasks = succeededTasks
        self.failedTasks = failedTasks
        self.timeoutTasks = timeoutTasks
        self.cancelledTasks = cancelledTasks
        self.errorTasks = errorTasks
        self.totalTokens = totalTokens
        self.totalRetries = totalRetries
        self.successRate = successRate
        self.totalExecutionTime = totalExecutionTime
        self.avgExecutionTime = avgExecutionTime
        self.totalCost = totalCost
    }

    /// The tasks that reached an outcome: the denominator of the executor's success rate.
    public var effectiveCompletedTasks: Int {
        completedTasks ?? (succeededTasks + failedTasks + timeoutTasks + errorTasks)
    }
}

/// The executor's `RunExecutionResult` (contract section 2.1).
public struct ExecutorRunResult: Sendable, Equatable {
    public var runID: String
    public var workflowID: String
    /// RFC 3339 text as given.
    public var startedAt: String
    public var finishedAt: String
    public var statistics: RunStatistics
    public var tasks: [TaskResult]

    public init(
        runID: String, workflowID: String, startedAt: String, finishedAt: String, statistics: RunStatistics,
        tasks: [TaskResult]
    ) {
        self.runID = runID
        self.workflowID = workflowID
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.statistics = statistics
        self.tasks = tasks
    }
}

extension TestExecutionReport {
    /// Builds the report from an executor run's members and its tasks' tally (``TaskTally``): the seed's
    /// `from_executor_result`, with the contract's fix (the success rate is checked against completed
    /// tasks, so runs with cancelled tasks are accepted). The run and the report are validated by the wire
    /// format, which names their fields (`TestExecutionReport.validated(from:patterns:metadata:)`).
    public init(
        runID: String, workflowID: String, finishedAt: String, statistics s: RunStatistics,
        tasks: TaskTally, metadata: JSONObject? = nil
    ) {
        let completed = s.effectiveCompletedTasks
        let (p95, p99) = tasks.percentiles()
        self.init(
            workflowID: workflowID,
            runID: runID,
            totalTests: s.totalTasks,
            successfulTests: s.succeededTasks,
            failedTests: s.failedTasks + s.timeoutTasks + s.errorTasks,
            cancelledTests: s.cancelledTasks,
            successRate: s.successRate,
            avgResponseTimeMs: s.avgExecutionTime * 1000,
            p95ResponseTimeMs: p95,
            p99ResponseTimeMs: p99,
            totalTokens: s.totalTokens,
            avgTokensPerRequest: completed > 0 ? Double(s.totalTokens) / Double(completed) : 0,
            totalCost: s.totalCost,
            costPerRequest: completed > 0 ? s.totalCost / Double(completed) : 0,
            errorDistribution: tasks.errorDistribution(s),
            executedAt: finishedAt,
            metadata: metadata
        )
    }
}

/// The seed's percentile: the element at index ⌊n × q⌋ of the ascending values (n × q computed in
/// binary floating point, as Python does), or `nil` when there are none.
public func percentile<Times: RandomAccessCollection<Double>>(_ sortedAscending: Times, _ q: Double) -> Double?
where Times.Index == Int {
    guard !sortedAscending.isEmpty else { return nil }
    let index = Int((Double(sortedAscending.count) * q).rounded(.down))
    return sortedAscending[sortedAscending.startIndex + min(index, sortedAscending.count - 1)]
}
