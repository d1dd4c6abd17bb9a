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
            if let read = fastParser.readRunResult(root, patterns: patterns) {
                let report = try read.report(metadata: Self.runMetadata(read.statistics))
                try read.analysis?.validate()
                // The identity first, so that the report moves into the submission, not copied.
                let identity = RunIdentity.runID(workflowID: report.workflowID, runID: report.runID)
                return RunSubmission(
                    report: consume report, analysis: read.analysis, schema: .runResult, identity: identity,
                    variant: read.variant)
            }
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
            submission = try runSubmission(try Self.runResult(message))
        case .testExecutionReport:
            let report = try Self.report(message)
            try report.validateAsSubmitted()
            submission = RunSubmission(
                report: report, analysis: nil, schema: schema,
                identity: .runID(workflowID: report.workflowID, runID: report.runID))
        case .legacyBaselineMetrics:
            let legacy = try Self.legacy(message)
            let report = try TestExecutionReport.validated(legacy: legacy)
            let identity: RunIdentity =
                legacy.runID.map { .runID(workflowID: report.workflowID, runID: $0) }
                ?? .contentHash(workflowID: report.workflowID, sha256Hex: hexString(Hashing.sha256(bytes)))
            submission = RunSubmission(report: report, analysis: nil, schema: schema, identity: identity)
        }
        var result = submission
        result.analysis = try Self.analysis(message)
        result.variant = Self.variant(message)
        return result
    }

    /// A run result's submission, before its analysis and variant are read (in this order on every path, so
    /// that both paths reject a message for the same first fault).
    private func runSubmission(_ run: ExecutorRunResult) throws(InputRejection) -> RunSubmission {
        let report = try TestExecutionReport.validated(
            from: run, patterns: patterns, metadata: Self.runMetadata(run.statistics))
        return RunSubmission(
            report: report, analysis: nil, schema: .runResult,
            identity: .runID(workflowID: report.workflowID, runID: report.runID))
    }

    /// `metadata.variant` when it is a string of 1 to 200 characters; anything else there means the run
    /// has no variant, never a dead letter (contract section 3.3).
    static func variant<Node: JSONNode>(_ message: FieldReader<Node>) -> String? {
        guard let metadata = message.object.member(InputField.metadata), metadata.kind == .object,
            let variant = metadata.member(InputField.variant), variant.kind == .string
        else { return nil }
        return VariantRules.variantName(variant.stringValue)
    }

    /// The shape named by `schema`, or recognised from the fields present (contract section 2).
    static func schema<Node: JSONNode>(of message: FieldReader<Node>) throws(InputRejection) -> InputSchema {
        if let named = try message.optionalString(InputField.schema) {
            guard let schema = InputSchema(rawValue: named) else {
                let known = InputSchema.allCases.map(\.rawValue).joined(separator: ", ")
                throw InputRejection(
                    .unsupportedSchema, field: InputField.schema,
                    "schema \"\(named.prefix(100))\" is not supported; known schemas: \(known)")
            }
            return schema
        }
        if message.has(InputField.Run.statistics) && message.has(InputField.Run.taskResults) { return .runResult }
        if message.has(InputField.Report.totalTests) && message.has(InputField.Report.successfulTests) {
            return .testExecutionReport
        }
        if message.has(InputField.Report.successRate) { return .legacyBaselineMetrics }
        throw InputRejection(
            .unsupportedSchema, field: InputField.schema,
            "the message names no schema and matches no input shape (statistics and task_results; total_tests and successful_tests; or success_rate)"
        )
    }

    static func runResult<Node: JSONNode>(_ message: FieldReader<Node>) throws(InputRejection) -> ExecutorRunResult {
        let runID = try message.string(InputField.runID)
        let workflowID = try message.string(InputField.workflowID)
        let startedAt = try message.timestamp(InputField.Run.startedAt, required: true)!
        let finishedAt = try message.timestamp(InputField.Run.finishedAt, required: true)!
        _ = try message.optionalNumber(InputField.Run.totalDuration)
        try message.requireObjectIfPresent(InputField.metadata)
        let s = try message.object(InputField.Run.statistics)
        let statistics = RunStatistics(
            totalTasks: try s.int(InputField.Statistics.totalTasks),
            completedTasks: try s.optionalInt(InputField.Statistics.completedTasks),
            succeededTasks: try s.int(InputField.Statistics.succeededTasks),
            failedTasks: try s.int(InputField.Statistics.failedTasks),
            timeoutTasks: try s.int(InputField.Statistics.timeoutTasks),
            cancelledTasks: try s.int(InputField.Statistics.cancelledTasks),
            errorTasks: try s.int(InputField.Statistics.errorTasks),
            totalTokens: try s.int(InputField.Statistics.totalTokens),
            totalRetries: try s.int(InputField.Statistics.totalRetries),
            successRate: try s.number(InputField.Statistics.successRate),
            totalExecutionTime: try s.number(InputField.Statistics.totalExecutionTime),
            avgExecutionTime: try s.number(InputField.Statistics.avgExecutionTime),
            totalCost: try s.number(InputField.Statistics.totalCost))
        let taskReaders = try message.objects(InputField.Run.taskResults, required: true)!
        var tasks: [TaskResult] = []
        tasks.reserveCapacity(taskReaders.count)
        for task in taskReaders {
            try task.requireObjectIfPresent(InputField.Task.testResult)
            tasks.append(
                TaskResult(
                    taskID: try task.string(InputField.Task.taskID),
                    status: try task.oneOf(InputField.Task.taskStatus, TaskStatus.self),
                    executionTime: try task.number(InputField.Task.executionTime),
                    errorMessage: try task.optionalString(InputField.Task.errorMessage),
                    attemptCount: try task.optionalInt(InputField.Task.attemptCount)))
        }
        return ExecutorRunResult(
            runID: runID, workflowID: workflowID, startedAt: startedAt, finishedAt: finishedAt, statistics: statistics,
            tasks: tasks)
    }

    /// The report's `metadata` for a run result: the retries and cancellations from its statistics.
    static func runMetadata(_ statistics: RunStatistics) -> JSONObject {
        JSONObject([
            (InputField.Statistics.totalRetries, .integer(Int64(statistics.totalRetries))),
            (InputField.Statistics.cancelledTasks, .integer(Int64(statistics.cancelledTasks))),
        ])
    }

    static func report<Node: JSONNode>(_ message: FieldReader<Node>) throws(InputRejection) -> TestExecutionReport {
        var distribution = ErrorDistribution()
        if let d = try message.optionalObject(InputField.Report.errorDistribution) {
            distribution = ErrorDistribution(
                timeoutErrors: try d.optionalInt(InputField.ErrorDistribution.timeoutErrors) ?? 0,
                apiErrors: try d.optionalInt(InputField.ErrorDistribution.apiErrors) ?? 0,
                validationErrors: try d.optionalInt(InputField.ErrorDistribution.validationErrors) ?? 0,
                llmErrors: try d.optionalInt(InputField.ErrorDistribution.llmErrors) ?? 0)
            try distribution.validate(field: InputField.Report.errorDistribution)
            if let stated = try d.optionalInt(InputField.ErrorDistribution.totalErrors),
                stated != distribution.totalErrors
            {
                throw InputRejection(
                    .inconsistent, field: d.fieldPath(InputField.ErrorDistribution.totalErrors),
                    "\(d.fieldPath(InputField.ErrorDistribution.totalErrors)) \(stated) is not the sum of the four error counts (\(distribution.totalErrors))"
                )
            }
        }
        var metadata: JSONObject?
        if let m = try message.optionalObject(InputField.metadata) {
            // Echoed as written: only the reference tree keeps every number as it was spelled.
            guard case let .object(object)? = (m.object as? JSONValue) else {
                preconditionFailure("reports are decoded from the reference tree")
            }
            try Self.requireFiniteNumbers(.object(object), path: InputField.metadata)
            metadata = object
        }
        return TestExecutionReport(
            workflowID: try message.string(InputField.workflowID),
            runID: try message.string(InputField.runID),
            totalTests: try message.int(InputField.Report.totalTests),
            successfulTests: try message.int(InputField.Report.successfulTests),
            failedTests: try message.int(InputField.Report.failedTests),
            cancelledTests: try message.optionalInt(InputField.Report.cancelledTests) ?? 0,
            successRate: try message.number(InputField.Report.successRate),
            avgResponseTimeMs: try message.number(InputField.Report.avgResponseTimeMs),
            p95ResponseTimeMs: try message.optionalNumber(InputField.Report.p95ResponseTimeMs),
            p99ResponseTimeMs: try message.optionalNumber(InputField.Report.p99ResponseTimeMs),
            totalTokens: try message.int(InputField.Report.totalTokens),
            avgTokensPerRequest: try message.number(InputField.Report.avgTokensPerRequest),
            totalCost: try message.number(InputField.Report.totalCost),
            costPerRequest: try message.number(InputField.Report.costPerRequest),
            errorDistribution: distribution,
            executedAt: try message.timestamp(InputField.Report.executedAt, required: false),
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
            workflowID: try message.optionalString(InputField.workflowID),
            runID: try message.optionalString(InputField.runID),
            totalTests: try message.optionalInt(InputField.Legacy.totalTests),
            successRate: try message.number(InputField.Legacy.successRate),
            avgResponseTime: try message.optionalNumber(InputField.Legacy.avgResponseTime),
            totalTokens: try message.optionalInt(InputField.Legacy.totalTokens),
            avgTokens: try message.optionalNumber(InputField.Legacy.avgTokens),
            totalCost: try message.optionalNumber(InputField.Legacy.totalCost),
            avgCost: try message.optionalNumber(InputField.Legacy.avgCost))
    }

    static func analysis<Node: JSONNode>(_ message: FieldReader<Node>) throws(InputRejection) -> PromptAnalysis? {
        guard let a = try message.optionalObject(InputField.promptAnalysis) else { return nil }
        var issues: [PromptIssue] = []
        for issue in try a.objects(InputField.Analysis.issues, required: false) ?? [] {
            issues.append(
                PromptIssue(
                    severity: try issue.oneOf(InputField.Analysis.severity, IssueSeverity.self),
                    type: try issue.string(InputField.Analysis.type),
                    description: try issue.string(InputField.Analysis.description)))
        }
        let analysis = PromptAnalysis(
            promptID: try a.optionalString(InputField.Analysis.promptID),
            overallScore: try a.number(InputField.Analysis.overallScore),
            clarityScore: try a.number(InputField.Analysis.clarityScore),
            efficiencyScore: try a.number(InputField.Analysis.efficiencyScore),
            issues: issues)
        try analysis.validate()
        return analysis
    }
}
