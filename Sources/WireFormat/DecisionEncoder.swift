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
        w.key(DecisionField.schema)
        w.string(schema)
        w.key(DecisionField.decisionID)
        w.string(decision.decisionID.description)
        w.key(DecisionField.workflowID)
        w.string(report.workflowID)
        w.key(DecisionField.runID)
        w.string(report.runID)
        w.key(DecisionField.shouldOptimize)
        w.bool(decision.verdict.shouldOptimize)
        w.key(DecisionField.strategy)
        w.string(decision.verdict.strategy?.rawValue)
        w.key(DecisionField.reasons)
        writeReasons(decision.verdict.reasons, to: &w)
        w.key(DecisionField.regressions)
        writeRegressions(decision.verdict.regressions, to: &w)
        w.key(DecisionField.report)
        writeReport(report, to: &w)
        w.key(DecisionField.analysis)
        writeAnalysis(decision.analysis, to: &w)
        w.key(DecisionField.inputSchema)
        w.string(decision.submission.schema.rawValue)
        w.key(DecisionField.rulesFingerprint)
        w.string(decision.rulesFingerprint)
        w.key(DecisionField.source)
        writeSource(decision.source, to: &w)
        w.key(DecisionField.decidedAt)
        w.string(RFC3339.format(millisecondsSinceEpoch: decision.decidedAtMs))
        w.key(DecisionField.producer)
        w.beginObject()
        w.key("name")
        w.string(ProducerInfo.name)
        w.key("version")
        w.string(ProducerInfo.version)
        w.endObject()
        // Last, as contract section 4 lists them: a decision without a variant reads as before, plus two nulls.
        w.key(DecisionField.variant)
        w.string(decision.submission.variant)
        w.key(DecisionField.variantComparison)
        writeVariantComparison(decision.variantComparison, to: &w)
        w.endObject()
    }

    private static func writeReasons(_ reasons: [Reason], to w: inout JSONWriter) {
        writeFindings(reasons, reference: DecisionField.Finding.threshold, to: &w) {
            ($0.code.rawValue, $0.observed, $0.threshold, $0.message)
        }
    }

    private static func writeRegressions(_ regressions: [Regression], to w: inout JSONWriter) {
        writeFindings(regressions, reference: DecisionField.Finding.baseline, to: &w) {
            ($0.code.rawValue, $0.observed, $0.baseline, $0.message)
        }
    }

    /// Reasons and regressions share a shape: a code, the value observed, what it was held against (the
    /// `reference` member: a threshold or a baseline mean) and a sentence.
    private static func writeFindings<Finding>(
        _ findings: [Finding], reference: String, to w: inout JSONWriter,
        _ fields: (Finding) -> (code: String, observed: Double, reference: Double, message: String)
    ) {
        w.beginArray()
        for finding in findings {
            let (code, observed, value, message) = fields(finding)
            w.beginObject()
            w.key(DecisionField.Finding.code)
            w.string(code)
            w.key(DecisionField.Finding.observed)
            w.number(observed)
            w.key(reference)
            w.number(value)
            w.key(DecisionField.Finding.message)
            w.string(message)
            w.endObject()
        }
        w.endArray()
    }

    /// The analysis summary, or null for a run without a prompt analysis.
    private static func writeAnalysis(_ analysis: PromptAnalysis?, to w: inout JSONWriter) {
        guard let analysis else { return w.null() }
        w.beginObject()
        w.key("prompt_id")
        w.string(analysis.promptID)
        w.key("overall_score")
        w.number(analysis.overallScore)
        w.key("clarity_score")
        w.number(analysis.clarityScore)
        w.key("efficiency_score")
        w.number(analysis.efficiencyScore)
        w.key("critical_issues")
        w.integer(analysis.criticalIssueCount)
        w.key("issue_count")
        w.integer(analysis.issues.count)
        w.endObject()
    }

    private static func writeSource(_ source: MessageSource, to w: inout JSONWriter) {
        w.beginObject()
        w.key("topic")
        w.string(source.topic)
        w.key("partition")
        w.integer(source.partition)
        w.key("offset")
        w.integer(source.offset)
        w.key("timestamp_ms")
        w.integer(source.timestampMs)
        w.endObject()
    }

    /// The comparison of contract section 3.3, or null for a run without a variant.
    public static func writeVariantComparison(_ comparison: VariantComparison?, to w: inout JSONWriter) {
        guard let c = comparison else { return w.null() }
        w.beginObject()
        w.key(DecisionField.Comparison.variant)
        w.string(c.variant)
        w.key(DecisionField.Comparison.baselineVariant)
        w.string(c.baselineVariant)
        w.key("runs")
        w.integer(c.runs)
        w.key("baseline_runs")
        w.integer(c.baselineRuns)
        w.key(DecisionField.Comparison.successRate)
        w.beginObject()
        w.key("variant")
        w.number(c.successRate.variant)
        w.key("baseline")
        w.number(c.successRate.baseline)
        w.key("difference")
        w.number(c.successRate.difference)
        w.key(DecisionField.Comparison.pValue)
        w.number(c.successRate.pValue)
        w.endObject()
        w.key(DecisionField.Comparison.avgResponseTimeMs)
        writeMean(c.avgResponseTimeMs, to: &w)
        w.key("cost_per_request")
        writeMean(c.costPerRequest, to: &w)
        w.key(DecisionField.Comparison.verdict)
        w.string(c.verdict.rawValue)
        w.endObject()
    }

    private static func writeMean(_ mean: VariantComparison.Mean, to w: inout JSONWriter) {
        w.beginObject()
        w.key("variant")
        w.number(mean.variant)
        w.key("baseline")
        w.number(mean.baseline)
        w.key(DecisionField.Comparison.ratio)
        w.number(mean.ratio)
        w.endObject()
    }

    /// The report with every field of contract section 2, `error_distribution` included.
    public static func writeReport(_ report: TestExecutionReport, to w: inout JSONWriter) {
        w.beginObject()
        w.key(InputField.workflowID)
        w.string(report.workflowID)
        w.key(InputField.runID)
        w.string(report.runID)
        w.key(InputField.Report.totalTests)
        w.integer(report.totalTests)
        w.key(InputField.Report.successfulTests)
        w.integer(report.successfulTests)
        w.key(InputField.Report.failedTests)
        w.integer(report.failedTests)
        w.key(InputField.Report.cancelledTests)
        w.integer(report.cancelledTests)
        w.key(InputField.Report.successRate)
        w.number(report.successRate)
        w.key(InputField.Report.avgResponseTimeMs)
        w.number(report.avgResponseTimeMs)
        w.key(InputField.Report.p95ResponseTimeMs)
        w.number(report.p95ResponseTimeMs)
        w.key(InputField.Report.p99ResponseTimeMs)
        w.number(report.p99ResponseTimeMs)
        w.key(InputField.Report.totalTokens)
        w.integer(report.totalTokens)
        w.key(InputField.Report.avgTokensPerRequest)
        w.number(report.avgTokensPerRequest)
        w.key(InputField.Report.totalCost)
        w.number(report.totalCost)
        w.key(InputField.Report.costPerRequest)
        w.number(report.costPerRequest)
        let d = report.errorDistribution
        w.key(InputField.Report.errorDistribution)
        w.beginObject()
        w.key(InputField.ErrorDistribution.timeoutErrors)
        w.integer(d.timeoutErrors)
        w.key(InputField.ErrorDistribution.apiErrors)
        w.integer(d.apiErrors)
        w.key(InputField.ErrorDistribution.validationErrors)
        w.integer(d.validationErrors)
        w.key(InputField.ErrorDistribution.llmErrors)
        w.integer(d.llmErrors)
        w.key(InputField.ErrorDistribution.totalErrors)
        w.integer(d.totalErrors)
        w.endObject()
        w.key(InputField.Report.executedAt)
        w.string(report.executedAt)
        w.key(InputField.metadata)
        if let metadata = report.metadata { w.object(metadata) } else { w.null() }
        w.endObject()
    }
}
