/// Counts of failed tests by cause (the seed's `ErrorDistribution`).
public struct ErrorDistribution: Sendable, Equatable {
    public var timeoutErrors: Int
    public var apiErrors: Int
    public var validationErrors: Int
    public var llmErrors: Int

    public init(timeoutErrors: Int = 0, apiErrors: Int = 0, validationErrors: Int = 0, llmErrors: Int = 0) {
        self.timeoutErrors = timeoutErrors
        self.apiErrors = apiErrors
        self.validationErrors = validationErrors
        self.llmErrors = llmErrors
    }

    /// Always the sum of the four counts; a stated total that differs is rejected at decoding.
    public var totalErrors: Int { timeoutErrors + apiErrors + validationErrors + llmErrors }

    /// Checks each count's range (≥ 0, at most 2^53); `field` is the distribution's path.
    public func validate(field: String) throws(InputRejection) {
        try Check.nonNegative(timeoutErrors, "\(field).timeout_errors")
        try Check.nonNegative(apiErrors, "\(field).api_errors")
        try Check.nonNegative(validationErrors, "\(field).validation_errors")
        try Check.nonNegative(llmErrors, "\(field).llm_errors")
    }
}

/// The aggregated result of one test run: what every input shape becomes, and what the rules judge.
public struct TestExecutionReport: Sendable, Equatable {
    public var workflowID: String
    public var runID: String
    public var totalTests: Int
    public var successfulTests: Int
    public var failedTests: Int
    public var cancelledTests: Int
    public var successRate: Double
    public var avgResponseTimeMs: Double
    public var p95ResponseTimeMs: Double?
    public var p99ResponseTimeMs: Double?
    public var totalTokens: Int
    public var avgTokensPerRequest: Double
    public var totalCost: Double
    public var costPerRequest: Double
    public var errorDistribution: ErrorDistribution
    /// RFC 3339 text exactly as the message gave it.
    public var executedAt: String?
    public var metadata: JSONObject?

    public init(
        workflowID: String, runID: String,
        totalTests: Int, successfulTests: Int, failedTests: Int, cancelledTests: Int = 0,
        successRate: Double,
        avgResponseTimeMs: Double, p95ResponseTimeMs: Double? = nil, p99ResponseTimeMs: Double? = nil,
        totalTokens: Int = 0, avgTokensPerRequest: Double = 0, totalCost: Double = 0, costPerRequest: Double = 0,
        errorDistribution: ErrorDistribution = ErrorDistribution(),
        executedAt: String? = nil, metadata: JSONObject? = nil
    ) {
        self.workflowID = workflowID
        self.runID = runID
        self.totalTests = totalTests
        self.successfulTests = successfulTests
        self.failedTests = failedTests
        self.cancelledTests = cancelledTests
        self.successRate = successRate
        self.avgResponseTimeMs = avgResponseTimeMs
        self.p95ResponseTimeMs = p95ResponseTimeMs
        self.p99ResponseTimeMs = p99ResponseTimeMs
        self.totalTokens = totalTokens
        self.avgTokensPerRequest = avgTokensPerRequest
        self.totalCost = totalCost
        self.costPerRequest = costPerRequest
        self.errorDistribution = errorDistribution
        self.executedAt = executedAt
        self.metadata = metadata
    }

    /// The share of tests that timed out: the seed's `get_timeout_error_rate`.
    public var timeoutErrorRate: Double { Double(errorDistribution.timeoutErrors) / Double(totalTests) }

    /// The share of tests that failed with any error: the seed's `get_error_rate`.
    public var errorRate: Double { Double(errorDistribution.totalErrors) / Double(totalTests) }

    /// The success rate the counts imply: successful / (total − cancelled), 0 when nothing completed.
    public var countedSuccessRate: Double {
        let completed = totalTests - cancelledTests
        return completed > 0 ? Double(successfulTests) / Double(completed) : 0
    }

    /// Checks every rule the contract sets for a report (section 2.2), naming the first field that breaks one.
    public func validate() throws(InputRejection) {
        try Check.nonEmpty(workflowID, "workflow_id")
        try Check.nonEmpty(runID, "run_id")
        guard totalTests >= 1 else { throw .invalidValue("total_tests", "must be ≥ 1, got \(totalTests)") }
        try Check.nonNegative(totalTests, "total_tests")
        try Check.nonNegative(successfulTests, "successful_tests")
        try Check.nonNegative(failedTests, "failed_tests")
        try Check.nonNegative(cancelledTests, "cancelled_tests")
        try Check.unitInterval(successRate, "success_rate")
        try Check.nonNegative(avgResponseTimeMs, "avg_response_time_ms")
        if let p95ResponseTimeMs { try Check.nonNegative(p95ResponseTimeMs, "p95_response_time_ms") }
        if let p99ResponseTimeMs { try Check.nonNegative(p99ResponseTimeMs, "p99_response_time_ms") }
        try Check.nonNegative(totalTokens, "total_tokens")
        try Check.nonNegative(avgTokensPerRequest, "avg_tokens_per_request")
        try Check.nonNegative(totalCost, "total_cost")
        try Check.nonNegative(costPerRequest, "cost_per_request")
        try errorDistribution.validate(field: "error_distribution")
        let accounted = successfulTests + failedTests + cancelledTests
        guard accounted <= totalTests else {
            throw InputRejection(
                .inconsistent, field: "total_tests",
                "total_tests \(totalTests) is less than successful_tests + failed_tests + cancelled_tests = \(accounted)"
            )
        }
    }
}

extension TestExecutionReport {
    /// Validates a report as it arrives in the `optimizer.test_execution_report/v1` shape: every report rule,
    /// and a stated success rate within 0.001 of successful / (total − cancelled).
    public func validateAsSubmitted() throws(InputRejection) {
        try validate()
        try Check.rateAgrees(
            successRate, counted: countedSuccessRate, "success_rate",
            "successful_tests / (total_tests − cancelled_tests)")
    }
}
