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
}
