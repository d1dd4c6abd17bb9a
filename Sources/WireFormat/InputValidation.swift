import DecisionCore

/// The contract's rules for each input shape (sections 2.1 to 2.4), each failure naming the field by the
/// path the decoder reads it at (``InputField``).
extension TestExecutionReport {
    /// The report of an executor run: the run validated, converted (the seed's `from_executor_result`),
    /// and the report validated.
    public static func validated(from run: ExecutorRunResult, patterns: ErrorPatterns, metadata: JSONObject? = nil)
        throws(InputRejection) -> TestExecutionReport
    {
        try validated(
            runID: run.runID, workflowID: run.workflowID, finishedAt: run.finishedAt, statistics: run.statistics,
            taskCount: run.tasks.count, tasks: TaskTally(run.tasks, patterns: patterns), metadata: metadata,
            validateTasks: run.validateTasks)
    }

    /// The same from a run's members and its tasks' tally (the decoder's one-pass path reads no
    /// ``TaskResult``): `validateTasks` checks the tasks' own rules in their place among the run's.
    static func validated(
        runID: String, workflowID: String, finishedAt: String, statistics: RunStatistics, taskCount: Int,
        tasks: TaskTally, metadata: JSONObject?, validateTasks: () throws(InputRejection) -> Void
    ) throws(InputRejection) -> TestExecutionReport {
        try ExecutorRunResult.validate(
            runID: runID, workflowID: workflowID, statistics: statistics, taskCount: taskCount,
            validateTasks: validateTasks)
        let report = TestExecutionReport(
            runID: runID, workflowID: workflowID, finishedAt: finishedAt, statistics: statistics, tasks: tasks,
            metadata: metadata)
        try report.validate()
        return report
    }

    /// The report of legacy baseline metrics: the metrics validated, converted, and the report validated.
    public static func validated(legacy: LegacyBaselineMetrics) throws(InputRejection) -> TestExecutionReport {
        try legacy.validate()
        let report = TestExecutionReport(legacy: legacy)
        try report.validate()
        return report
    }

    /// Checks every rule the contract sets for a report (section 2.2), naming the first field that breaks one.
    public func validate() throws(InputRejection) {
        typealias F = InputField.Report
        try Check.nonEmpty(workflowID, InputField.workflowID)
        try Check.nonEmpty(runID, InputField.runID)
        guard totalTests >= 1 else { throw .invalidValue(F.totalTests, "must be ≥ 1, got \(totalTests)") }
        try Check.nonNegative(totalTests, F.totalTests)
        try Check.nonNegative(successfulTests, F.successfulTests)
        try Check.nonNegative(failedTests, F.failedTests)
        try Check.nonNegative(cancelledTests, F.cancelledTests)
        try Check.unitInterval(successRate, F.successRate)
        try Check.nonNegative(avgResponseTimeMs, F.avgResponseTimeMs)
        if let p95ResponseTimeMs { try Check.nonNegative(p95ResponseTimeMs, F.p95ResponseTimeMs) }
        if let p99ResponseTimeMs { try Check.nonNegative(p99ResponseTimeMs, F.p99ResponseTimeMs) }
        try Check.nonNegative(totalTokens, F.totalTokens)
        try Check.nonNegative(avgTokensPerRequest, F.avgTokensPerRequest)
        try Check.nonNegative(totalCost, F.totalCost)
        try Check.nonNegative(costPerRequest, F.costPerRequest)
        try errorDistribution.validate(field: F.errorDistribution)
        let accounted = successfulTests + failedTests + cancelledTests
        guard accounted <= totalTests else {
            throw InputRejection(
                .inconsistent, field: F.totalTests,
                "\(F.totalTests) \(totalTests) is less than \(F.successfulTests) + \(F.failedTests) + \(F.cancelledTests) = \(accounted)"
            )
        }
    }

    /// Validates a report as it arrives in the `optimizer.test_execution_report/v1` shape: every report rule,
    /// and a stated success rate within 0.001 of successful / (total − cancelled).
    public func validateAsSubmitted() throws(InputRejection) {
        typealias F = InputField.Report
        try validate()
        try Check.rateAgrees(
            successRate, counted: countedSuccessRate, F.successRate,
            "\(F.successfulTests) / (\(F.totalTests) − \(F.cancelledTests))")
    }
}

extension ErrorDistribution {
    /// Checks each count's range (≥ 0, at most 2^53); `field` is the distribution's path.
    func validate(field: String) throws(InputRejection) {
        typealias F = InputField.ErrorDistribution
        try Check.nonNegative(timeoutErrors, InputField.path(field, F.timeoutErrors))
        try Check.nonNegative(apiErrors, InputField.path(field, F.apiErrors))
        try Check.nonNegative(validationErrors, InputField.path(field, F.validationErrors))
        try Check.nonNegative(llmErrors, InputField.path(field, F.llmErrors))
    }
}

extension ExecutorRunResult {
    /// The rules of each task in turn, naming the first field that breaks one.
    func validateTasks() throws(InputRejection) {
        for (index, entry) in tasks.enumerated() {
            try Self.validateTask(index, taskIDIsEmpty: entry.taskID.isEmpty, executionTime: entry.executionTime)
        }
    }

    /// Checks every rule the contract sets for a run (section 2.1), naming the first field that breaks one;
    /// the tasks' own (`validateTasks`) in their place in the order, so that a run read without
    /// ``TaskResult``s is judged by the same rules in the same order.
    static func validate(
        runID: String, workflowID: String, statistics s: RunStatistics, taskCount: Int,
        validateTasks: () throws(InputRejection) -> Void
    ) throws(InputRejection) {
        typealias F = InputField.Statistics
        func statistic(_ name: String) -> String { InputField.path(InputField.Run.statistics, name) }
        try Check.nonEmpty(runID, InputField.runID)
        try Check.nonEmpty(workflowID, InputField.workflowID)
        try Check.nonNegative(s.totalTasks, statistic(F.totalTasks))
        if let completed = s.completedTasks { try Check.nonNegative(completed, statistic(F.completedTasks)) }
        try Check.nonNegative(s.succeededTasks, statistic(F.succeededTasks))
        try Check.nonNegative(s.failedTasks, statistic(F.failedTasks))
        try Check.nonNegative(s.timeoutTasks, statistic(F.timeoutTasks))
        try Check.nonNegative(s.cancelledTasks, statistic(F.cancelledTasks))
        try Check.nonNegative(s.errorTasks, statistic(F.errorTasks))
        try Check.nonNegative(s.totalTokens, statistic(F.totalTokens))
        try Check.nonNegative(s.totalRetries, statistic(F.totalRetries))
        try Check.unitInterval(s.successRate, statistic(F.successRate))
        try Check.nonNegative(s.totalExecutionTime, statistic(F.totalExecutionTime))
        try Check.nonNegative(s.avgExecutionTime, statistic(F.avgExecutionTime))
        try Check.nonNegative(s.totalCost, statistic(F.totalCost))
        guard s.totalTasks >= 1 else { throw .invalidValue(statistic(F.totalTasks), "must be ≥ 1, got 0") }
        guard taskCount > 0 else { throw .invalidValue(InputField.Run.taskResults, "must not be empty") }
        try validateTasks()
        let outcomes = s.succeededTasks + s.failedTasks + s.timeoutTasks + s.cancelledTasks + s.errorTasks
        guard outcomes <= s.totalTasks else {
            throw InputRejection(
                .inconsistent, field: statistic(F.totalTasks),
                "\(statistic(F.totalTasks)) \(s.totalTasks) is less than the succeeded, failed, timeout, cancelled and error tasks together (\(outcomes))"
            )
        }
        let completed = s.effectiveCompletedTasks
        try Check.rateAgrees(
            s.successRate, counted: completed > 0 ? Double(s.succeededTasks) / Double(completed) : 0,
            statistic(F.successRate), "\(F.succeededTasks) / \(F.completedTasks)")
    }

    /// The rules for the task at `index` of `task_results`.
    static func validateTask(_ index: Int, taskIDIsEmpty: Bool, executionTime: Double) throws(InputRejection) {
        func task(_ name: String) -> String { "\(InputField.Run.taskResults)[\(index)].\(name)" }
        try Check.nonEmpty(isEmpty: taskIDIsEmpty, task(InputField.Task.taskID))
        try Check.nonNegative(executionTime, task(InputField.Task.executionTime))
    }
}

extension LegacyBaselineMetrics {
    /// Checks the legacy dict's values (section 2.3) before the seed's conversion.
    func validate() throws(InputRejection) {
        typealias F = InputField.Legacy
        try Check.unitInterval(successRate, F.successRate)
        if let value = avgResponseTime { try Check.nonNegative(value, F.avgResponseTime) }
        if let value = totalTokens { try Check.nonNegative(value, F.totalTokens) }
        if let value = avgTokens { try Check.nonNegative(value, F.avgTokens) }
        if let value = totalCost { try Check.nonNegative(value, F.totalCost) }
        if let value = avgCost { try Check.nonNegative(value, F.avgCost) }
        if let value = workflowID { try Check.nonEmpty(value, InputField.workflowID) }
        if let value = runID { try Check.nonEmpty(value, InputField.runID) }
        let total = totalTests ?? 1
        guard total >= 1 else { throw .invalidValue(F.totalTests, "must be ≥ 1, got \(total)") }
        try Check.nonNegative(total, F.totalTests)
    }
}

extension PromptAnalysis {
    /// Checks the three scores' ranges (section 2.4).
    func validate() throws(InputRejection) {
        typealias F = InputField.Analysis
        try Check.score(overallScore, InputField.path(InputField.promptAnalysis, F.overallScore))
        try Check.score(clarityScore, InputField.path(InputField.promptAnalysis, F.clarityScore))
        try Check.score(efficiencyScore, InputField.path(InputField.promptAnalysis, F.efficiencyScore))
    }
}

extension InputRejection {
    static func invalidValue(_ field: String, _ rule: String) -> InputRejection {
        InputRejection(.invalidValue, field: field, "\(field) \(rule)")
    }
}

/// Range checks shared by every shape's validation; each failure names the field. Field paths are
/// autoclosures, built only for an error: built eagerly, the per-task paths cost more than the checks.
enum Check {
    /// The largest count accepted (2^53, the largest integer a double holds exactly): far beyond any real
    /// number of tests or tokens, and small enough that sums of counts can never overflow.
    static let maximumCount = 1 << 53

    static func nonNegative(_ value: Int, _ field: @autoclosure () -> String) throws(InputRejection) {
        guard value >= 0 else { throw .invalidValue(field(), "must be ≥ 0, got \(value)") }
        guard value <= maximumCount else {
            throw .invalidValue(field(), "must be at most \(maximumCount), got \(value)")
        }
    }

    static func nonNegative(_ value: Double, _ field: @autoclosure () -> String) throws(InputRejection) {
        try finite(value, field())
        guard value >= 0 else { throw .invalidValue(field(), "must be ≥ 0, got \(formatNumber(value))") }
    }

    static func unitInterval(_ value: Double, _ field: @autoclosure () -> String) throws(InputRejection) {
        try finite(value, field())
        guard value >= 0, value <= 1 else {
            throw .invalidValue(field(), "must be between 0 and 1, got \(formatNumber(value))")
        }
    }

    static func score(_ value: Double, _ field: @autoclosure () -> String) throws(InputRejection) {
        try finite(value, field())
        guard value >= 0, value <= 100 else {
            throw .invalidValue(field(), "must be between 0 and 100, got \(formatNumber(value))")
        }
    }

    static func finite(_ value: Double, _ field: @autoclosure () -> String) throws(InputRejection) {
        guard value.isFinite else { throw .invalidValue(field(), "must be a finite number") }
    }

    static func nonEmpty(_ value: String, _ field: @autoclosure () -> String) throws(InputRejection) {
        try nonEmpty(isEmpty: value.isEmpty, field())
    }

    /// The same for text read as bytes, whose emptiness is all that is known.
    static func nonEmpty(isEmpty: Bool, _ field: @autoclosure () -> String) throws(InputRejection) {
        guard !isEmpty else { throw .invalidValue(field(), "must not be empty") }
    }

    /// The seed's consistency rule: a stated rate must lie within 0.001 of the counted one, compared in
    /// binary floating point exactly as Python does (`abs(stated - counted) > 0.001` rejects).
    static func rateAgrees(
        _ stated: Double, counted: Double, _ field: @autoclosure () -> String, _ explanation: String
    ) throws(InputRejection) {
        guard abs(stated - counted) <= 0.001 else {
            let field = field()
            throw InputRejection(
                .inconsistent, field: field,
                "\(field) \(formatNumber(stated)) disagrees with \(explanation) = \(formatNumber(counted)) by more than 0.001"
            )
        }
    }
}
