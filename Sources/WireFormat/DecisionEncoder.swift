import DecisionCore

/// Who wrote a decision: the `producer` field of every decision.
public enum ProducerInfo {
    public static let name = "optimizer-decider"
    public static let version = "0.1.0"
}

/// Writes decisions as the contract's JSON (section 4), reusing one buffer.
public struct DecisionEncoder {
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
        w.key("schema")
        w.string(schema)
        w.key("decision_id")
        w.string(decision.decisionID.description)
        w.key("workflow_id")
        w.string(report.workflowID)
        w.key("run_id")
        w.string(report.runID)
        w.key("should_optimize")
        w.bool(decision.verdict.shouldOptimize)
        w.key("strategy")
        w.string(decision.verdict.strategy?.rawValue)
        w.key("reasons")
        w.beginArray()
        for reason in decision.verdict.reasons {
            w.beginObject()
            w.key("code")
            w.string(reason.code.rawValue)
            w.key("observed")
            w.number(reason.observed)
            w.key("threshold")
            w.number(reason.threshold)
            w.key("message")
            w.string(reason.message)
            w.endObject()
        }
        w.endArray()
        w.key("regressions")
        w.beginArray()
        for regression in decision.verdict.regressions {
            w.beginObject()
            w.key("code")
            w.string(regression.code.rawValue)
            w.key("observed")
            w.number(regression.observed)
            w.key("baseline")
            w.number(regression.baseline)
            w.key("message")
            w.string(regression.message)
            w.endObject()
        }
        w.endArray()
        w.key("report")
        writeReport(report, to: &w)
        w.key("analysis")
        if let analysis = decision.analysis {
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
        } else {
            w.null()
        }
        w.key("input_schema")
        w.string(decision.submission.schema.rawValue)
        w.key("rules_fingerprint")
        w.string(decision.rulesFingerprint)
        w.key("source")
        w.beginObject()
        w.key("topic")
        w.string(decision.source.topic)
        w.key("partition")
        w.integer(decision.source.partition)
        w.key("offset")
        w.integer(decision.source.offset)
        w.key("timestamp_ms")
        w.integer(decision.source.timestampMs)
        w.endObject()
        w.key("decided_at")
        w.string(RFC3339.format(millisecondsSinceEpoch: decision.decidedAtMs))
        w.key("producer")
        w.beginObject()
        w.key("name")
        w.string(ProducerInfo.name)
        w.key("version")
        w.string(ProducerInfo.version)
        w.endObject()
        // Last, as contract section 4 lists them: a decision without a variant reads as before, plus two nulls.
        w.key("variant")
        w.string(decision.submission.variant)
        w.key("variant_comparison")
        writeVariantComparison(decision.variantComparison, to: &w)
        w.endObject()
    }

    /// The comparison of contract section 3.3, or null for a run without a variant.
    public static func writeVariantComparison(_ comparison: VariantComparison?, to w: inout JSONWriter) {
        guard let c = comparison else { return w.null() }
        w.beginObject()
        w.key("variant")
        w.string(c.variant)
        w.key("baseline_variant")
        w.string(c.baselineVariant)
        w.key("runs")
        w.integer(c.runs)
        w.key("baseline_runs")
        w.integer(c.baselineRuns)
        w.key("success_rate")
        w.beginObject()
        w.key("variant")
        w.number(c.successRate.variant)
        w.key("baseline")
        w.number(c.successRate.baseline)
        w.key("difference")
        w.number(c.successRate.difference)
        w.key("p_value")
        w.number(c.successRate.pValue)
        w.endObject()
        w.key("avg_response_time_ms")
        writeMean(c.avgResponseTimeMs, to: &w)
        w.key("cost_per_request")
        writeMean(c.costPerRequest, to: &w)
        w.key("verdict")
        w.string(c.verdict.rawValue)
        w.endObject()
    }

    private static func writeMean(_ mean: VariantComparison.Mean, to w: inout JSONWriter) {
        w.beginObject()
        w.key("variant")
        w.number(mean.variant)
        w.key("baseline")
        w.number(mean.baseline)
        w.key("ratio")
        w.number(mean.ratio)
        w.endObject()
    }

    /// The report with every field of contract section 2, `error_distribution` included.
    public static func writeReport(_ report: TestExecutionReport, to w: inout JSONWriter) {
        w.beginObject()
        w.key("workflow_id")
        w.string(report.workflowID)
        w.key("run_id")
        w.string(report.runID)
        w.key("total_tests")
        w.integer(report.totalTests)
        w.key("successful_tests")
        w.integer(report.successfulTests)
        w.key("failed_tests")
        w.integer(report.failedTests)
        w.key("cancelled_tests")
        w.integer(report.cancelledTests)
        w.key("success_rate")
        w.number(report.successRate)
        w.key("avg_response_time_ms")
        w.number(report.avgResponseTimeMs)
        w.key("p95_response_time_ms")
        w.number(report.p95ResponseTimeMs)
        w.key("p99_response_time_ms")
        w.number(report.p99ResponseTimeMs)
        w.key("total_tokens")
        w.integer(report.totalTokens)
        w.key("avg_tokens_per_request")
        w.number(report.avgTokensPerRequest)
        w.key("total_cost")
        w.number(report.totalCost)
        w.key("cost_per_request")
        w.number(report.costPerRequest)
        let d = report.errorDistribution
        w.key("error_distribution")
        w.beginObject()
        w.key("timeout_errors")
        w.integer(d.timeoutErrors)
        w.key("api_errors")
        w.integer(d.apiErrors)
        w.key("validation_errors")
        w.integer(d.validationErrors)
        w.key("llm_errors")
        w.integer(d.llmErrors)
        w.key("total_errors")
        w.integer(d.totalErrors)
        w.endObject()
        w.key("executed_at")
        w.string(report.executedAt)
        w.key("metadata")
        if let metadata = report.metadata { w.object(metadata) } else { w.null() }
        w.endObject()
    }
}
