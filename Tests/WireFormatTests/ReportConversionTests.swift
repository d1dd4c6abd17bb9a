import CoreFixtures
import DecisionCore
import Testing

@testable import WireFormat

@Suite("Executor run result → report (contract 2.1)")
struct RunResultConversionTests {
    @Test func mapsCountsRatesAndCosts() throws {
        let run = makeRun(
            total: 10, succeeded: 6, failed: 1, timeout: 1, cancelled: 1, error: 1, avgExecutionTime: 2.5,
            totalCost: 0.9, totalTokens: 900)
        let report = try TestExecutionReport.validated(from: run, patterns: ErrorPatterns())
        #expect(report.totalTests == 10)
        #expect(report.successfulTests == 6)
        #expect(report.failedTests == 3)
        #expect(report.cancelledTests == 1)
        #expect(report.successRate == 6.0 / 9.0)
        #expect(report.avgResponseTimeMs == 2500)
        #expect(report.avgTokensPerRequest == 100)
        #expect(report.costPerRequest == 0.9 / 9)
        #expect(report.executedAt == "2025-11-19T10:01:00Z")
        #expect(report.errorDistribution == ErrorDistribution(timeoutErrors: 1, apiErrors: 1))
    }

    @Test func cancelledTasksAreAcceptedTheContractsFix() throws {
        // The seed compared 8/10 against 8/8 and rejected this run; the executor's denominator is completed.
        let run = makeRun(total: 10, succeeded: 8, cancelled: 2, successRate: 1.0)
        let report = try TestExecutionReport.validated(from: run, patterns: ErrorPatterns())
        #expect(report.successRate == 1.0)
        #expect(report.cancelledTests == 2)
    }

    @Test func successRateAgainstTotalIsRejectedWhenTasksWereCancelled() {
        let run = makeRun(total: 10, succeeded: 8, cancelled: 2, successRate: 0.8)
        let error = rejection { _ = try TestExecutionReport.validated(from: run, patterns: ErrorPatterns()) }
        #expect(error?.reason == .inconsistent)
        #expect(error?.field == "statistics.success_rate")
    }

    @Test func allTasksCancelled() throws {
        let run = makeRun(total: 3, succeeded: 0, cancelled: 3, successRate: 0, totalCost: 0.3, totalTokens: 10)
        let report = try TestExecutionReport.validated(from: run, patterns: ErrorPatterns())
        #expect(report.successRate == 0)
        #expect(report.avgTokensPerRequest == 0)
        #expect(report.costPerRequest == 0)
        #expect(report.p95ResponseTimeMs == nil)
        #expect(report.p99ResponseTimeMs == nil)
        // All cancelled and a stated rate of 1.0 disagrees with the 0.0 the contract fixes for no completions.
        let wrong = makeRun(total: 3, succeeded: 0, cancelled: 3, successRate: 1)
        #expect(
            rejection { _ = try TestExecutionReport.validated(from: wrong, patterns: ErrorPatterns()) }?.reason
                == .inconsistent)
    }

    @Test func completedTasksGivenExplicitlyIsTheDenominator() throws {
        let run = makeRun(total: 10, succeeded: 5, failed: 1, completed: 8, successRate: 0.625)
        let report = try TestExecutionReport.validated(from: run, patterns: ErrorPatterns())
        #expect(report.successRate == 0.625)
        #expect(report.avgTokensPerRequest == 1000.0 / 8)
    }

    @Test func rateWithinToleranceIsAcceptedAndBeyondIsRejected() throws {
        _ = try TestExecutionReport.validated(
            from: makeRun(total: 3, succeeded: 2, failed: 1, successRate: 0.667), patterns: ErrorPatterns())
        let error = rejection {
            _ = try TestExecutionReport.validated(
                from: makeRun(total: 3, succeeded: 2, failed: 1, successRate: 0.668), patterns: ErrorPatterns())
        }
        #expect(error?.reason == .inconsistent)
    }

    @Test func countsExceedingTotalAreInconsistent() {
        let run = makeRun(
            total: 5, succeeded: 5, failed: 1, tasks: [TaskResult(taskID: "a", status: .succeeded, executionTime: 1)])
        let error = rejection { _ = try TestExecutionReport.validated(from: run, patterns: ErrorPatterns()) }
        #expect(error?.reason == .inconsistent)
        #expect(error?.field == "statistics.total_tasks")
    }

    @Test func rangeViolationsNameTheField() {
        var run = makeRun()
        run.statistics.totalCost = -1
        #expect(
            rejection { _ = try TestExecutionReport.validated(from: run, patterns: ErrorPatterns()) }
                == InputRejection(
                    .invalidValue, field: "statistics.total_cost", "statistics.total_cost must be ≥ 0, got -1"))
        run = makeRun()
        run.statistics.successRate = 1.5
        #expect(
            rejection { _ = try TestExecutionReport.validated(from: run, patterns: ErrorPatterns()) }?.field
                == "statistics.success_rate")
        run = makeRun()
        run.tasks = []
        #expect(
            rejection { _ = try TestExecutionReport.validated(from: run, patterns: ErrorPatterns()) }?.field
                == "task_results")
        run = makeRun()
        run.tasks[3].executionTime = -0.5
        #expect(
            rejection { _ = try TestExecutionReport.validated(from: run, patterns: ErrorPatterns()) }?.field
                == "task_results[3].execution_time")
        run = makeRun()
        run.runID = ""
        #expect(
            rejection { _ = try TestExecutionReport.validated(from: run, patterns: ErrorPatterns()) }?.field == "run_id"
        )
        run = makeRun(total: 0, succeeded: 0, tasks: [TaskResult(taskID: "a", status: .pending, executionTime: 0)])
        #expect(
            rejection { _ = try TestExecutionReport.validated(from: run, patterns: ErrorPatterns()) }?.field
                == "statistics.total_tasks")
    }
}

@Suite("Percentiles: the seed's ⌊n × q⌋ index")
struct PercentileTests {
    @Test func none() { #expect(percentile([], 0.95) == nil) }

    @Test func one() {
        #expect(percentile([7], 0.95) == 7)
        #expect(percentile([7], 0.99) == 7)
    }

    @Test func twenty() {
        let values = (1...20).map(Double.init)
        #expect(percentile(values, 0.95) == 20)  // ⌊19.0⌋ = 19: the last
        #expect(percentile(values, 0.99) == 20)  // ⌊19.8⌋ = 19
    }

    @Test func twentyOne() {
        let values = (1...21).map(Double.init)
        #expect(percentile(values, 0.95) == 20)  // ⌊19.95⌋ = 19
        #expect(percentile(values, 0.99) == 21)  // ⌊20.79⌋ = 20
    }

    @Test func hundred() {
        let values = (1...100).map(Double.init)
        #expect(percentile(values, 0.95) == 96)
        #expect(percentile(values, 0.99) == 100)
    }

    @Test func onlyPositiveTimesCountAndAreInMilliseconds() throws {
        let tasks = [
            TaskResult(taskID: "a", status: .succeeded, executionTime: 0.25),
            TaskResult(taskID: "b", status: .cancelled, executionTime: 0),
            TaskResult(taskID: "c", status: .succeeded, executionTime: 0.5),
        ]
        let report = try TestExecutionReport.validated(
            from: makeRun(total: 3, succeeded: 2, cancelled: 1, tasks: tasks), patterns: ErrorPatterns())
        #expect(report.p95ResponseTimeMs == 500)  // n = 2: ⌊1.9⌋ = 1
        #expect(report.p99ResponseTimeMs == 500)
    }
}

@Suite("Error classification (contract 2.1)")
struct ErrorClassificationTests {
    func distribution(_ tasks: [(TaskStatus, String?)], errorTasks: Int, timeouts: Int = 0) -> ErrorDistribution {
        let taskResults = tasks.enumerated().map {
            TaskResult(taskID: "t\($0)", status: $1.0, executionTime: 1, errorMessage: $1.1)
        }
        var run = makeRun(total: 20, succeeded: 0, tasks: taskResults)
        run.statistics.errorTasks = errorTasks
        run.statistics.timeoutTasks = timeouts
        return TaskTally(run.tasks, patterns: ErrorPatterns()).errorDistribution(run.statistics)
    }

    @Test func llmBeforeValidationAndCaseInsensitive() {
        let d = distribution(
            [(.error, "RATE LIMIT hit while validating schema"), (.failed, "Output Format wrong")], errorTasks: 1)
        #expect(d.llmErrors == 1)
        #expect(d.validationErrors == 1)
        #expect(d.apiErrors == 0)
    }

    @Test func unmatchedFailuresAreBusinessFailures() {
        let d = distribution([(.failed, "assertion failed: expected 3 items"), (.failed, nil)], errorTasks: 0)
        #expect(d == ErrorDistribution())
    }

    @Test func apiErrorsAreErrorTasksLessThoseClassified() {
        let d = distribution(
            [(.error, "HTTP 500"), (.error, "quota exceeded"), (.error, nil)], errorTasks: 5, timeouts: 2)
        #expect(d == ErrorDistribution(timeoutErrors: 2, apiErrors: 4, validationErrors: 0, llmErrors: 1))
        #expect(d.totalErrors == 7)
    }

    @Test func apiErrorsNeverBelowZero() {
        let d = distribution([(.error, "429"), (.error, "context length exceeded")], errorTasks: 1)
        #expect(d.apiErrors == 0)
        #expect(d.llmErrors == 2)
    }

    @Test func everyDefaultPatternMatches() {
        let patterns = ErrorPatterns()
        for pattern in ErrorPatterns.defaultLLM { #expect(patterns.classify("x \(pattern.uppercased()) y") == .llm) }
        for pattern in ErrorPatterns.defaultValidation {
            #expect(patterns.classify("x \(pattern.uppercased()) y") == .validation)
        }
        #expect(patterns.classify("connection reset") == nil)
    }

    @Test func nonASCIIMessagesFoldCase() {
        let patterns = ErrorPatterns(llm: ["überlastet"], validation: [])
        #expect(patterns.classify("Modell ÜBERLASTET") == .llm)
    }
}

@Suite("Legacy baseline metrics (contract 2.3)")
struct LegacyConversionTests {
    @Test func halfWithOneTestRoundsToEvenZero() throws {
        let report = try TestExecutionReport.validated(legacy: LegacyBaselineMetrics(successRate: 0.5))
        #expect(report.totalTests == 1)
        #expect(report.successfulTests == 0)
        #expect(report.failedTests == 1)
        #expect(report.successRate == 0)
        #expect(report.workflowID == "unknown")
        #expect(report.runID == "legacy")
    }

    @Test func roundHalfToEven() throws {
        #expect(
            try TestExecutionReport.validated(legacy: LegacyBaselineMetrics(totalTests: 5, successRate: 0.5))
                .successfulTests == 2
        )
        #expect(
            try TestExecutionReport.validated(legacy: LegacyBaselineMetrics(totalTests: 7, successRate: 0.5))
                .successfulTests == 4
        )
        #expect(
            try TestExecutionReport.validated(legacy: LegacyBaselineMetrics(totalTests: 3, successRate: 0.5))
                .successfulTests == 2
        )
        #expect(
            try TestExecutionReport.validated(legacy: LegacyBaselineMetrics(totalTests: 10, successRate: 0.25))
                .successfulTests
                == 2)
        #expect(
            try TestExecutionReport.validated(legacy: LegacyBaselineMetrics(totalTests: 10, successRate: 0.35))
                .successfulTests
                == 4)
        // 3 × 0.7 is 2.0999999999999996 in binary: Python's round gives 2, and so must we.
        #expect(
            try TestExecutionReport.validated(legacy: LegacyBaselineMetrics(totalTests: 3, successRate: 0.7))
                .successfulTests == 2
        )
    }

    @Test func recomputesRateAndMapsFields() throws {
        let report = try TestExecutionReport.validated(
            legacy: LegacyBaselineMetrics(
                workflowID: "wf", runID: "r", totalTests: 3, successRate: 0.7, avgResponseTime: 1.25,
                totalTokens: 300, avgTokens: 100, totalCost: 0.3, avgCost: 0.1))
        #expect(report.successfulTests == 2)
        #expect(report.successRate == 2.0 / 3.0)
        #expect(report.avgResponseTimeMs == 1250)
        #expect(report.totalTokens == 300)
        #expect(report.avgTokensPerRequest == 100)
        #expect(report.totalCost == 0.3)
        #expect(report.costPerRequest == 0.1)
    }

    @Test func rejectsOutOfRange() {
        #expect(
            rejection { _ = try TestExecutionReport.validated(legacy: LegacyBaselineMetrics(successRate: 1.2)) }?.field
                == "success_rate")
        #expect(
            rejection {
                _ = try TestExecutionReport.validated(legacy: LegacyBaselineMetrics(totalTests: 0, successRate: 1))
            }?
            .field == "total_tests")
        #expect(
            rejection {
                _ = try TestExecutionReport.validated(legacy: LegacyBaselineMetrics(successRate: 1, avgCost: -1))
            }?.field
                == "avg_cost")
    }
}

@Suite("Submitted reports (contract 2.2)")
struct SubmittedReportTests {
    @Test func successRate0951Against95Of100IsRejected() {
        // |0.951 − 0.95| is 0.0010000000000000009 in binary floating point: beyond 0.001, as in the seed.
        let error = rejection { try makeReport(total: 100, successful: 95, successRate: 0.951).validateAsSubmitted() }
        #expect(error?.reason == .inconsistent)
        #expect(error?.field == "success_rate")
    }

    @Test func successRateWithinToleranceIsAccepted() throws {
        try makeReport(total: 100, successful: 95, successRate: 0.9505).validateAsSubmitted()
        try makeReport(total: 100, successful: 95, successRate: 0.9495).validateAsSubmitted()
    }

    @Test func denominatorExcludesCancelled() throws {
        try makeReport(total: 10, successful: 8, cancelled: 2, successRate: 1.0).validateAsSubmitted()
        try makeReport(total: 2, successful: 0, cancelled: 2, successRate: 0).validateAsSubmitted()
    }

    @Test func rules() {
        var report = makeReport()
        report.totalTests = 0
        #expect(rejection { try report.validateAsSubmitted() }?.field == "total_tests")
        report = makeReport()
        report.failedTests = 5
        #expect(rejection { try report.validateAsSubmitted() }?.reason == .inconsistent)
        report = makeReport()
        report.p95ResponseTimeMs = -1
        #expect(rejection { try report.validateAsSubmitted() }?.field == "p95_response_time_ms")
        report = makeReport()
        report.errorDistribution.llmErrors = -1
        #expect(rejection { try report.validateAsSubmitted() }?.field == "error_distribution.llm_errors")
        report = makeReport()
        report.workflowID = ""
        #expect(rejection { try report.validateAsSubmitted() }?.field == "workflow_id")
        report = makeReport()
        report.avgResponseTimeMs = .infinity
        #expect(rejection { try report.validateAsSubmitted() }?.reason == .invalidValue)
    }
}
