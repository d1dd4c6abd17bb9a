import DecisionCore

/// Who wrote a decision: the `producer` field of every decision.
public enum ProducerInfo {
    public static let name = "optimizer-decider"
    public static let version = "0.1.0"
}

/// Writes decisions as the contract's JSON (section 4), reusing one buffer.
public struct DecisionEncoder: ~Copyable {
    public static let schema = "optimizer.decision/v1"
    /// The headers every decision carries.
    public static let headers: [(String, String)] = [
        (HeaderName.contentType, "application/json"), (HeaderName.schema, schema),
    ]

    private var writer = JSONWriter()

    public init() {}

    /// The decision's JSON; the returned bytes are valid until the next call.
    public mutating func encode(_ decision: Decision) -> [UInt8] {
        writer.reset()
        Self.write(decision, to: &writer)
        return writer.bytes
    }

    public static func write(_ decision: Decision, to w: inout JSONWriter) {
        let report = decision.report
        w.beginObject()
        w.member(Constant.schema)
        w.key(Key.decisionID)
        decision.decisionID.withHexDigits { w.string(utf8: $0) }
        w.key(Key.workflowID)
        w.string(report.workflowID)
        w.key(Key.runID)
        w.string(report.runID)
        w.key(Key.shouldOptimize)
        w.bool(decision.verdict.shouldOptimize)
        w.member(Constant.strategy(decision.verdict.strategy))
        w.key(Key.reasons)
        writeReasons(decision.verdict.reasons, to: &w)
        w.key(Key.regressions)
        writeRegressions(decision.verdict.regressions, to: &w)
        w.key(Key.report)
        writeReport(report, to: &w)
        w.key(Key.analysis)
        writeAnalysis(decision.analysis, to: &w)
        w.member(Constant.inputSchema(decision.submission.schema))
        w.key(Key.rulesFingerprint)
        w.string(decision.rulesFingerprint)
        w.key(Key.source)
        writeSource(decision.source, to: &w)
        w.key(Key.decidedAt)
        RFC3339.withText(millisecondsSinceEpoch: decision.decidedAtMs) { w.string(utf8: $0) }
        w.member(Constant.producer)
        // Last, as contract section 4 lists them: a decision without a variant reads as before, plus two nulls.
        w.key(Key.variant)
        w.string(decision.submission.variant)
        w.key(Key.variantComparison)
        writeVariantComparison(decision.variantComparison, to: &w)
        w.endObject()
    }

    private static func writeReasons(_ reasons: [Reason], to w: inout JSONWriter) {
        writeFindings(reasons, reference: Key.threshold, to: &w) {
            ($0.code.rawValue, $0.observed, $0.threshold)
        } message: {
            $0.withMessage($1)
        }
    }

    private static func writeRegressions(_ regressions: [Regression], to w: inout JSONWriter) {
        writeFindings(regressions, reference: Key.baseline, to: &w) {
            ($0.code.rawValue, $0.observed, $0.baseline)
        } message: {
            $0.withMessage($1)
        }
    }

    /// Reasons and regressions share a shape: a code, the value observed, what it was held against (the
    /// `reference` member: a threshold or a baseline mean) and a sentence, lent from the stack.
    private static func writeFindings<Finding>(
        _ findings: [Finding], reference: JSONKey, to w: inout JSONWriter,
        _ fields: (Finding) -> (code: String, observed: Double, reference: Double),
        message: (Finding, (UnsafeBufferPointer<UInt8>) -> Void) -> Void
    ) {
        w.beginArray()
        for finding in findings {
            let (code, observed, value) = fields(finding)
            w.beginObject()
            w.key(Key.code)
            w.string(code)
            w.key(Key.observed)
            w.number(observed)
            w.key(reference)
            w.number(value)
            w.key(Key.message)
            message(finding) { w.string(utf8: $0) }
            w.endObject()
        }
        w.endArray()
    }

    /// The analysis summary, or null for a run without a prompt analysis.
    private static func writeAnalysis(_ analysis: PromptAnalysis?, to w: inout JSONWriter) {
        guard let analysis else { return w.null() }
        w.beginObject()
        w.key(Key.promptID)
        w.string(analysis.promptID)
        w.key(Key.overallScore)
        w.number(analysis.overallScore)
        w.key(Key.clarityScore)
        w.number(analysis.clarityScore)
        w.key(Key.efficiencyScore)
        w.number(analysis.efficiencyScore)
        w.key(Key.criticalIssues)
        w.integer(analysis.criticalIssueCount)
        w.key(Key.issueCount)
        w.integer(analysis.issues.count)
        w.endObject()
    }

    private static func writeSource(_ source: MessageSource, to w: inout JSONWriter) {
        w.beginObject()
        w.key(Key.topic)
        w.string(source.topic)
        w.key(Key.partition)
        w.integer(source.partition)
        w.key(Key.offset)
        w.integer(source.offset)
        w.key(Key.timestampMs)
        w.integer(source.timestampMs)
        w.endObject()
    }

    /// The comparison of contract section 3.3, or null for a run without a variant.
    public static func writeVariantComparison(_ comparison: VariantComparison?, to w: inout JSONWriter) {
        guard let c = comparison else { return w.null() }
        w.beginObject()
        w.key(Key.variant)
        w.string(c.variant)
        w.key(Key.baselineVariant)
        w.string(c.baselineVariant)
        w.key(Key.runs)
        w.integer(c.runs)
        w.key(Key.baselineRuns)
        w.integer(c.baselineRuns)
        w.key(Key.successRate)
        w.beginObject()
        w.key(Key.variant)
        w.number(c.successRate.variant)
        w.key(Key.baseline)
        w.number(c.successRate.baseline)
        w.key(Key.difference)
        w.number(c.successRate.difference)
        w.key(Key.pValue)
        w.number(c.successRate.pValue)
        w.endObject()
        w.key(Key.avgResponseTimeMs)
        writeMean(c.avgResponseTimeMs, to: &w)
        w.key(Key.costPerRequest)
        writeMean(c.costPerRequest, to: &w)
        w.key(Key.verdict)
        w.string(c.verdict.rawValue)
        w.endObject()
    }

    private static func writeMean(_ mean: VariantComparison.Mean, to w: inout JSONWriter) {
        w.beginObject()
        w.key(Key.variant)
        w.number(mean.variant)
        w.key(Key.baseline)
        w.number(mean.baseline)
        w.key(Key.ratio)
        w.number(mean.ratio)
        w.endObject()
    }

    /// The report with every field of contract section 2, `error_distribution` included.
    public static func writeReport(_ report: TestExecutionReport, to w: inout JSONWriter) {
        w.beginObject()
        w.key(Key.workflowID)
        w.string(report.workflowID)
        w.key(Key.runID)
        w.string(report.runID)
        w.key(Key.totalTests)
        w.integer(report.totalTests)
        w.key(Key.successfulTests)
        w.integer(report.successfulTests)
        w.key(Key.failedTests)
        w.integer(report.failedTests)
        w.key(Key.cancelledTests)
        w.integer(report.cancelledTests)
        w.key(Key.successRate)
        w.number(report.successRate)
        w.key(Key.avgResponseTimeMs)
        w.number(report.avgResponseTimeMs)
        w.key(Key.p95ResponseTimeMs)
        w.number(report.p95ResponseTimeMs)
        w.key(Key.p99ResponseTimeMs)
        w.number(report.p99ResponseTimeMs)
        w.key(Key.totalTokens)
        w.integer(report.totalTokens)
        w.key(Key.avgTokensPerRequest)
        w.number(report.avgTokensPerRequest)
        w.key(Key.totalCost)
        w.number(report.totalCost)
        w.key(Key.costPerRequest)
        w.number(report.costPerRequest)
        let d = report.errorDistribution
        w.key(Key.errorDistribution)
        w.beginObject()
        w.key(Key.timeoutErrors)
        w.integer(d.timeoutErrors)
        w.key(Key.apiErrors)
        w.integer(d.apiErrors)
        w.key(Key.validationErrors)
        w.integer(d.validationErrors)
        w.key(Key.llmErrors)
        w.integer(d.llmErrors)
        w.key(Key.totalErrors)
        w.integer(d.totalErrors)
        w.endObject()
        w.key(Key.executedAt)
        w.string(report.executedAt)
        w.key(Key.metadata)
        if let metadata = report.metadata { w.object(metadata) } else { w.null() }
        w.endObject()
    }
}

/// The members whose values are constants, or one of a few, written whole.
private enum Constant {
    static let schema = JSONConstantMember(DecisionField.schema, string: DecisionEncoder.schema)
    static let producer = JSONConstantMember(DecisionField.producer) { w in
        w.beginObject()
        w.key(Key.name)
        w.string(ProducerInfo.name)
        w.key(Key.version)
        w.string(ProducerInfo.version)
        w.endObject()
    }
    static let strategies = Strategy.allCases.map {
        (strategy: $0, member: JSONConstantMember(DecisionField.strategy, string: $0.rawValue))
    }
    static let noStrategy = JSONConstantMember(DecisionField.strategy) { $0.null() }
    static let inputSchemas = InputSchema.allCases.map {
        (schema: $0, member: JSONConstantMember(DecisionField.inputSchema, string: $0.rawValue))
    }

    /// A linear search of a few cases: cheaper than hashing the case for a dictionary.
    static func strategy(_ strategy: Strategy?) -> JSONConstantMember {
        guard let strategy else { return noStrategy }
        return strategies.first { $0.strategy == strategy }!.member
    }

    static func inputSchema(_ schema: InputSchema) -> JSONConstantMember {
        inputSchemas.first { $0.schema == schema }!.member
    }
}

/// The member names a decision is written with (``DecisionField``, the report's ``InputField`` names and
/// the few only the encoder writes), each made into its written form once.
private enum Key {
    static let analysis = JSONKey(DecisionField.analysis)
    static let apiErrors = JSONKey(InputField.ErrorDistribution.apiErrors)
    static let avgResponseTimeMs = JSONKey(DecisionField.Comparison.avgResponseTimeMs)
    static let avgTokensPerRequest = JSONKey(InputField.Report.avgTokensPerRequest)
    static let baseline = JSONKey(DecisionField.Finding.baseline)
    static let baselineRuns = JSONKey("baseline_runs")
    static let baselineVariant = JSONKey(DecisionField.Comparison.baselineVariant)
    static let cancelledTests = JSONKey(InputField.Report.cancelledTests)
    static let clarityScore = JSONKey(InputField.Analysis.clarityScore)
    static let code = JSONKey(DecisionField.Finding.code)
    static let costPerRequest = JSONKey(InputField.Report.costPerRequest)
    static let criticalIssues = JSONKey("critical_issues")
    static let decidedAt = JSONKey(DecisionField.decidedAt)
    static let decisionID = JSONKey(DecisionField.decisionID)
    static let difference = JSONKey("difference")
    static let efficiencyScore = JSONKey(InputField.Analysis.efficiencyScore)
    static let errorDistribution = JSONKey(InputField.Report.errorDistribution)
    static let executedAt = JSONKey(InputField.Report.executedAt)
    static let failedTests = JSONKey(InputField.Report.failedTests)
    static let issueCount = JSONKey("issue_count")
    static let llmErrors = JSONKey(InputField.ErrorDistribution.llmErrors)
    static let message = JSONKey(DecisionField.Finding.message)
    static let metadata = JSONKey(InputField.metadata)
    static let name = JSONKey("name")
    static let observed = JSONKey(DecisionField.Finding.observed)
    static let offset = JSONKey("offset")
    static let overallScore = JSONKey(InputField.Analysis.overallScore)
    static let p95ResponseTimeMs = JSONKey(InputField.Report.p95ResponseTimeMs)
    static let p99ResponseTimeMs = JSONKey(InputField.Report.p99ResponseTimeMs)
    static let pValue = JSONKey(DecisionField.Comparison.pValue)
    static let partition = JSONKey("partition")
    static let promptID = JSONKey(InputField.Analysis.promptID)
    static let ratio = JSONKey(DecisionField.Comparison.ratio)
    static let reasons = JSONKey(DecisionField.reasons)
    static let regressions = JSONKey(DecisionField.regressions)
    static let report = JSONKey(DecisionField.report)
    static let rulesFingerprint = JSONKey(DecisionField.rulesFingerprint)
    static let runID = JSONKey(DecisionField.runID)
    static let runs = JSONKey("runs")
    static let shouldOptimize = JSONKey(DecisionField.shouldOptimize)
    static let source = JSONKey(DecisionField.source)
    static let successRate = JSONKey(DecisionField.Comparison.successRate)
    static let successfulTests = JSONKey(InputField.Report.successfulTests)
    static let threshold = JSONKey(DecisionField.Finding.threshold)
    static let timeoutErrors = JSONKey(InputField.ErrorDistribution.timeoutErrors)
    static let timestampMs = JSONKey("timestamp_ms")
    static let topic = JSONKey("topic")
    static let totalCost = JSONKey(InputField.Report.totalCost)
    static let totalErrors = JSONKey(InputField.ErrorDistribution.totalErrors)
    static let totalTests = JSONKey(InputField.Report.totalTests)
    static let totalTokens = JSONKey(InputField.Report.totalTokens)
    static let validationErrors = JSONKey(InputField.ErrorDistribution.validationErrors)
    static let variant = JSONKey(DecisionField.variant)
    static let variantComparison = JSONKey(DecisionField.variantComparison)
    static let verdict = JSONKey(DecisionField.Comparison.verdict)
    static let version = JSONKey("version")
    static let workflowID = JSONKey(DecisionField.workflowID)
}
