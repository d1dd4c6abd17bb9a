import DecisionCore

/// Turns an input message's bytes into a validated ``RunSubmission``, or says exactly why it cannot
/// (contract sections 2 and 5). Pure and thread-safe: one decoder serves every partition.
public struct InputDecoder: Sendable {
    /// The contract's default bound on a message's size.
    public static let defaultMaximumMessageBytes = 1 << 20

    public var maximumMessageBytes: Int
    public var patterns: ErrorPatterns

    public init(
        patterns: ErrorPatterns = ErrorPatterns(), maximumMessageBytes: Int = InputDecoder.defaultMaximumMessageBytes
    ) {
        self.patterns = patterns
        self.maximumMessageBytes = maximumMessageBytes
    }

    public func decode(_ bytes: [UInt8], fastParser: SimdJSONParser? = nil) throws(InputRejection) -> RunSubmission {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(InputRejection) in try decode(raw, fastParser: fastParser) }
        }.get()
    }

    /// Decodes a message. With `fastParser`, executor run results (the bulk of the traffic) are read
    /// through simdjson; anything simdjson rejects, and every other shape, goes through the reference
    /// parser, so both paths give the same result and the same error for the same bytes.
    public func decode(_ bytes: UnsafeRawBufferPointer, fastParser: SimdJSONParser? = nil) throws(InputRejection)
        -> RunSubmission
    {
        guard bytes.count <= maximumMessageBytes else {
            throw InputRejection(
                .tooLarge, field: "",
                "the message has \(bytes.count) bytes, more than the maximum of \(maximumMessageBytes)")
        }
        if let fastParser, let root = fastParser.parse(bytes), root.kind == .object {
            let message = FieldReader(root)
            if case .runResult? = try? Self.schema(of: message) {
                return try decode(message, schema: .runResult, bytes: bytes)
            }
        }
        let value = try JSONParser.parse(bytes)
        guard value.kind == .object else {
            throw InputRejection(.wrongType, field: "", "the message must be a JSON object, got \(value.typeName)")
        }
        let message = FieldReader(value)
        return try decode(message, schema: try Self.schema(of: message), bytes: bytes)
    }

    private func decode<Node: JSONNode>(
        _ message: FieldReader<Node>, schema: InputSchema, bytes: UnsafeRawBufferPointer
    ) throws(InputRejection) -> RunSubmission {
        let submission: RunSubmission
        switch schema {
        case .runResult:
            let run = try Self.runResult(message)
            let report = try TestExecutionReport(
                from: run, patterns: patterns, metadata: Self.runMetadata(run.statistics))
            submission = RunSubmission(
                report: report, analysis: nil, schema: schema,
                identity: .runID(workflowID: report.workflowID, runID: report.runID))
        case .testExecutionReport:
            let report = try Self.report(message)
            try report.validateAsSubmitted()
            submission = RunSubmission(
                report: report, analysis: nil, schema: schema,
                identity: .runID(workflowID: report.workflowID, runID: report.runID))
        case .legacyBaselineMetrics:
            let legacy = try Self.legacy(message)
            let report = try TestExecutionReport(legacy: legacy)
            let identity: RunIdentity =
                legacy.runID.map { .runID(workflowID: report.workflowID, runID: $0) }
                ?? .contentHash(workflowID: report.workflowID, sha256Hex: hexString(SHA256.hash(bytes)))
            submission = RunSubmission(report: report, analysis: nil, schema: schema, identity: identity)
        }
        var result = submission
        result.analysis = try Self.analysis(message)
        result.variant = Self.variant(message)
        return result
    }

    /// `metadata.variant` when it is a string of 1 to 200 characters; anything else there means the run
    /// has no variant, never a dead letter (contract section 3.3).
    static func variant<Node: JSONNode>(_ message: FieldReader<Node>) -> String? {
        guard let metadata = message.object.member("metadata"), metadata.kind == .object,
            let variant = metadata.member("variant"), variant.kind == .string
        else { return nil }
        return VariantRules.variantName(variant.stringValue)
    }

    /// The shape named by `schema`, or recognised from the fields present (contract section 2).
    static func schema<Node: JSONNode>(of message: FieldReader<Node>) throws(InputRejection) -> InputSchema {
        if let named = try message.optionalString("schema") {
            guard let schema = InputSchema(rawValue: named) else {
                let known = InputSchema.allCases.map(\.rawValue).joined(separator: ", ")
                throw InputRejection(
                    .unsupportedSchema, field: "schema",
                    "schema \"\(named.prefix(100))\" is not supported; known schemas: \(known)")
            }
            return schema
        }
        if message.has("statistics") && message.has("task_results") { return .runResult }
        if message.has("total_tests") && message.has("successful_tests") { return .testExecutionReport }
        if message.has("success_rate") { return .legacyBaselineMetrics }
        throw InputRejection(
            .unsupportedSchema, field: "schema",
            "the message names no schema and matches no input shape (statistics and task_results; total_tests and successful_tests; or success_rate)"
        )
    }

    static func runResult<Node: JSONNode>(_ message: FieldReader<Node>) throws(InputRejection) -> ExecutorRunResult {
        let runID = try message.string("run_id")
        let workflowID = try message.string("workflow_id")
        let startedAt = try message.timestamp("started_at", required: true)!
        let finishedAt = try message.timestamp("finished_at", required: true)!
        _ = try message.optionalNumber("total_duration")
        try message.requireObjectIfPresent("metadata")
        let s = try message.object("statistics")
        let statistics = RunStatistics(
            totalTasks: try s.int("total_tasks"),
            completedTasks: try s.optionalInt("completed_tasks"),
            succeededTasks: try s.int("succeeded_tasks"),
            failedTasks: try s.int("failed_tasks"),
            timeoutTasks: try s.int("timeout_tasks"),
            cancelledTasks: try s.int("cancelled_tasks"),
            errorTasks: try s.int("error_tasks"),
            totalTokens: try s.int("total_tokens"),
            totalRetries: try s.int("total_retries"),
            successRate: try s.number("success_rate"),
            totalExecutionTime: try s.number("total_execution_time"),
            avgExecutionTime: try s.number("avg_execution_time"),
            totalCost: try s.number("total_cost"))
        let taskReaders = try message.objects("task_results", required: true)!
        var tasks: [TaskResult] = []
        tasks.reserveCapacity(taskReaders.count)
        for task in taskReaders {
            try task.requireObjectIfPresent("test_result")
            tasks.append(
                TaskResult(
                    taskID: try task.string("task_id"),
                    status: try task.oneOf("task_status", TaskStatus.self),
                    executionTime: try task.number("execution_time"),
                    errorMessage: try task.optionalString("error_message"),
                    attemptCount: try task.optionalInt("attempt_count")))
        }
        return ExecutorRunResult(
            runID: runID, workflowID: workflowID, startedAt: startedAt, finishedAt: finishedAt, statistics: statistics,
            tasks: tasks)
    }

    /// The report's `metadata` for a run result: the retries and cancellations from its statistics.
    static func runMetadata(_ statistics: RunStatistics) -> JSONObject {
        JSONObject([
            ("total_retries", .integer(Int64(statistics.totalRetries))),
            ("cancelled_tasks", .integer(Int64(statistics.cancelledTasks))),
        ])
    }

    static func report<Node: JSONNode>(_ message: FieldReader<Node>) throws(InputRejection) -> TestExecutionReport {
        var distribution = ErrorDistribution()
        if let d = try message.optionalObject("error_distribution") {
            distribution = ErrorDistribution(
                timeoutErrors: try d.optionalInt("timeout_errors") ?? 0,
                apiErrors: try d.optionalInt("api_errors") ?? 0,
                validationErrors: try d.optionalInt("validation_errors") ?? 0,
                llmErrors: try d.optionalInt("llm_errors") ?? 0)
            try distribution.validate(field: "error_distribution")
            if let stated = try d.optionalInt("total_errors"), stated != distribution.totalErrors {
                throw InputRejection(
                    .inconsistent, field: d.fieldPath("total_errors"),
                    "\(d.fieldPath("total_errors")) \(stated) is not the sum of the four error counts (\(distribution.totalErrors))"
                )
            }
        }
        var metadata: JSONObject?
        if let m = try message.optionalObject("metadata") {
            // Echoed as written: only the reference tree keeps every number as it was spelled.
            guard case let .object(object)? = (m.object as? JSONValue) else {
                preconditionFailure("reports are decoded from the reference tree")
            }
            try Self.requireFiniteNumbers(.object(object), path: "metadata")
            metadata = object
        }
        return TestExecutionReport(
            workflowID: try message.string("workflow_id"),
            runID: try message.string("run_id"),
            totalTests: try message.int("total_tests"),
            successfulTests: try message.int("successful_tests"),
            failedTests: try message.int("failed_tests"),
            cancelledTests: try message.optionalInt("cancelled_tests") ?? 0,
            successRate: try message.number("success_rate"),
            avgResponseTimeMs: try message.number("avg_response_time_ms"),
            p95ResponseTimeMs: try message.optionalNumber("p95_response_time_ms"),
            p99ResponseTimeMs: try message.optionalNumber("p99_response_time_ms"),
            totalTokens: try message.int("total_tokens"),
            avgTokensPerRequest: try message.number("avg_tokens_per_request"),
            totalCost: try message.number("total_cost"),
            costPerRequest: try message.number("cost_per_request"),
            errorDistribution: distribution,
            executedAt: try message.timestamp("executed_at", required: false),
            metadata: metadata)
    }

    /// Free-form values are echoed in the decision, and JSON cannot spell a number that overflowed.
    static func requireFiniteNumbers(_ value: JSONValue, path: String) throws(InputRejection) {
        switch value {
        case let .double(number) where !number.isFinite:
            throw InputRejection(.invalidValue, field: path, "\(path) is too large to be a finite number")
        case let .array(elements):
            for (index, element) in elements.enumerated() {
                try requireFiniteNumbers(element, path: "\(path)[\(index)]")
            }
        case let .object(object):
            for member in object.members { try requireFiniteNumbers(member.value, path: "\(path).\(member.key)") }
        default:
            break
        }
    }

    static func legacy<Node: JSONNode>(_ message: FieldReader<Node>) throws(InputRejection) -> LegacyBaselineMetrics {
        LegacyBaselineMetrics(
            workflowID: try message.optionalString("workflow_id"),
            runID: try message.optionalString("run_id"),
            totalTests: try message.optionalInt("total_tests"),
            successRate: try message.number("success_rate"),
            avgResponseTime: try message.optionalNumber("avg_response_time"),
            totalTokens: try message.optionalInt("total_tokens"),
            avgTokens: try message.optionalNumber("avg_tokens"),
            totalCost: try message.optionalNumber("total_cost"),
            avgCost: try message.optionalNumber("avg_cost"))
    }

    static func analysis<Node: JSONNode>(_ message: FieldReader<Node>) throws(InputRejection) -> PromptAnalysis? {
        guard let a = try message.optionalObject("prompt_analysis") else { return nil }
        var issues: [PromptIssue] = []
        for issue in try a.objects("issues", required: false) ?? [] {
            issues.append(
                PromptIssue(
                    severity: try issue.oneOf("severity", IssueSeverity.self),
                    type: try issue.string("type"),
                    description: try issue.string("description")))
        }
        let analysis = PromptAnalysis(
            promptID: try a.optionalString("prompt_id"),
            overallScore: try a.number("overall_score"),
            clarityScore: try a.number("clarity_score"),
            efficiencyScore: try a.number("efficiency_score"),
            issues: issues)
        try analysis.validate()
        return analysis
    }
}
