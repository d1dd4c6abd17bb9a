/// The member names of the contract's input shapes (section 2), named once: the decoder reads by them, the
/// validation names them in its rejections, and a decision's `report` (the report shape) is written with
/// them, so a field is spelled in one place.
enum InputField {
    static let schema = "schema"
    static let workflowID = "workflow_id"
    static let runID = "run_id"
    static let metadata = "metadata"
    static let variant = "variant"
    static let promptAnalysis = "prompt_analysis"

    /// `executor.run_result/v1` (section 2.1).
    enum Run {
        static let startedAt = "started_at"
        static let finishedAt = "finished_at"
        static let totalDuration = "total_duration"
        static let statistics = "statistics"
        static let taskResults = "task_results"
    }

    /// A run's `statistics`.
    enum Statistics {
        static let totalTasks = "total_tasks"
        static let completedTasks = "completed_tasks"
        static let succeededTasks = "succeeded_tasks"
        static let failedTasks = "failed_tasks"
        static let timeoutTasks = "timeout_tasks"
        static let cancelledTasks = "cancelled_tasks"
        static let errorTasks = "error_tasks"
        static let totalTokens = "total_tokens"
        static let totalRetries = "total_retries"
        static let successRate = "success_rate"
        static let totalExecutionTime = "total_execution_time"
        static let avgExecutionTime = "avg_execution_time"
        static let totalCost = "total_cost"
    }

    /// One of a run's `task_results`.
    enum Task {
        static let taskID = "task_id"
        static let taskStatus = "task_status"
        static let executionTime = "execution_time"
        static let errorMessage = "error_message"
        static let attemptCount = "attempt_count"
        static let testResult = "test_result"
    }

    /// `optimizer.test_execution_report/v1` (section 2.2).
    enum Report {
        static let totalTests = "total_tests"
        static let successfulTests = "successful_tests"
        static let failedTests = "failed_tests"
        static let cancelledTests = "cancelled_tests"
        static let successRate = "success_rate"
        static let avgResponseTimeMs = "avg_response_time_ms"
        static let p95ResponseTimeMs = "p95_response_time_ms"
        static let p99ResponseTimeMs = "p99_response_time_ms"
        static let totalTokens = "total_tokens"
        static let avgTokensPerRequest = "avg_tokens_per_request"
        static let totalCost = "total_cost"
        static let costPerRequest = "cost_per_request"
        static let errorDistribution = "error_distribution"
        static let executedAt = "executed_at"
    }

    /// A report's `error_distribution`.
    enum ErrorDistribution {
        static let timeoutErrors = "timeout_errors"
        static let apiErrors = "api_errors"
        static let validationErrors = "validation_errors"
        static let llmErrors = "llm_errors"
        static let totalErrors = "total_errors"
    }

    /// `optimizer.baseline_metrics/legacy` (section 2.3).
    enum Legacy {
        static let totalTests = "total_tests"
        static let successRate = "success_rate"
        static let avgResponseTime = "avg_response_time"
        static let totalTokens = "total_tokens"
        static let avgTokens = "avg_tokens"
        static let totalCost = "total_cost"
        static let avgCost = "avg_cost"
    }

    /// `prompt_analysis` (section 2.4).
    enum Analysis {
        static let promptID = "prompt_id"
        static let overallScore = "overall_score"
        static let clarityScore = "clarity_score"
        static let efficiencyScore = "efficiency_score"
        static let issues = "issues"
        static let severity = "severity"
        static let type = "type"
        static let description = "description"
    }

    /// The path of `member` inside the object at `parent` (`statistics.total_tasks`).
    static func path(_ parent: String, _ member: String) -> String { "\(parent).\(member)" }
}

/// The members of a decision (contract section 4) that are written by ``DecisionEncoder`` and read back by
/// ``DecisionRecord``; its `report` has the report shape's members (``InputField/Report``).
enum DecisionField {
    static let schema = "schema"
    static let decisionID = "decision_id"
    static let workflowID = "workflow_id"
    static let runID = "run_id"
    static let shouldOptimize = "should_optimize"
    static let strategy = "strategy"
    static let reasons = "reasons"
    static let regressions = "regressions"
    static let report = "report"
    static let analysis = "analysis"
    static let inputSchema = "input_schema"
    static let rulesFingerprint = "rules_fingerprint"
    static let source = "source"
    static let decidedAt = "decided_at"
    static let producer = "producer"
    static let variant = "variant"
    static let variantComparison = "variant_comparison"

    /// A reason's or a regression's members.
    enum Finding {
        static let code = "code"
        static let observed = "observed"
        static let threshold = "threshold"
        static let baseline = "baseline"
        static let message = "message"
    }

    /// A `variant_comparison`'s members.
    enum Comparison {
        static let variant = "variant"
        static let baselineVariant = "baseline_variant"
        static let successRate = "success_rate"
        static let pValue = "p_value"
        static let avgResponseTimeMs = "avg_response_time_ms"
        static let ratio = "ratio"
        static let verdict = "verdict"
    }
}
