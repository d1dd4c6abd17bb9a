import DecisionCore

// Values of the domain core that the core's and the wire format's tests both build.

/// A valid executor run: `succeeded` of `total` tasks succeed, the rest as the arguments say.
public func makeRun(
    total: Int = 10, succeeded: Int = 10, failed: Int = 0, timeout: Int = 0, cancelled: Int = 0, error: Int = 0,
    completed: Int? = nil, successRate: Double? = nil, avgExecutionTime: Double = 1, totalCost: Double = 0.1,
    totalTokens: Int = 1000, tasks: [TaskResult]? = nil
) -> ExecutorRunResult {
    let completedCount = completed ?? (succeeded + failed + timeout + error)
    let rate = successRate ?? (completedCount > 0 ? Double(succeeded) / Double(completedCount) : 0)
    var defaultTasks: [TaskResult] = []
    var index = 0
    func add(_ count: Int, _ status: TaskStatus, _ time: Double) {
        for _ in 0..<count {
            defaultTasks.append(TaskResult(taskID: "t\(index)", status: status, executionTime: time))
            index += 1
        }
    }
    add(succeeded, .succeeded, 1)
    add(failed, .failed, 1)
    add(timeout, .timeout, 30)
    add(cancelled, .cancelled, 0)
    add(error, .error, 0.5)
    add(max(0, total - index), .pending, 0)
    return ExecutorRunResult(
        runID: "run-1", workflowID: "wf-1", startedAt: "2025-11-19T10:00:00Z", finishedAt: "2025-11-19T10:01:00Z",
        statistics: RunStatistics(
            totalTasks: total, completedTasks: completed, succeededTasks: succeeded, failedTasks: failed,
            timeoutTasks: timeout, cancelledTasks: cancelled, errorTasks: error, totalTokens: totalTokens,
            totalRetries: 0, successRate: rate, totalExecutionTime: Double(total) * avgExecutionTime,
            avgExecutionTime: avgExecutionTime, totalCost: totalCost),
        tasks: tasks ?? defaultTasks)
}

/// A valid report with everything healthy unless the arguments say otherwise.
public func makeReport(
    total: Int = 100, successful: Int = 100, cancelled: Int = 0, successRate: Double? = nil,
    latencyMs: Double = 1000, costPerRequest: Double = 0.01, timeouts: Int = 0
) -> TestExecutionReport {
    TestExecutionReport(
        workflowID: "wf-1", runID: "run-1", totalTests: total, successfulTests: successful,
        failedTests: total - successful - cancelled, cancelledTests: cancelled,
        successRate: successRate ?? Double(successful) / Double(max(1, total - cancelled)),
        avgResponseTimeMs: latencyMs, totalTokens: 0, avgTokensPerRequest: 0, totalCost: costPerRequest * Double(total),
        costPerRequest: costPerRequest, errorDistribution: ErrorDistribution(timeoutErrors: timeouts))
}

public func analysis(overall: Double = 90, clarity: Double = 90, efficiency: Double = 90, critical: Int = 0)
    -> PromptAnalysis
{
    PromptAnalysis(
        overallScore: overall, clarityScore: clarity, efficiencyScore: efficiency,
        issues: (0..<critical).map { _ in PromptIssue(severity: .critical, type: "x", description: "y") }
            + [PromptIssue(severity: .warning, type: "w", description: "not counted")])
}

/// The rejection `body` throws, or `nil` when it succeeds.
public func rejection(_ body: () throws -> Void) -> InputRejection? {
    do {
        try body()
        return nil
    } catch {
        return error as? InputRejection
    }
}

/// A deterministic generator (SplitMix64) so a failing case can be replayed from its seed.
public struct SeededGenerator: RandomNumberGenerator {
    public var state: UInt64

    public init(state: UInt64) { self.state = state }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
