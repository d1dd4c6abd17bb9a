import DecisionCore
import Testing

@testable import WireFormat

@Suite("Decision encoding (contract 4)")
struct DecisionEncoderTests {
    func decision(_ members: [(String, JSONValue)]) throws -> Decision {
        let submission = try InputDecoder().decode(json(members))
        let rules = ScoringRules()
        return Decision(
            submission: submission, rules: rules, rulesFingerprint: rules.fingerprint, baseline: [],
            source: MessageSource(topic: "executor-results", partition: 3, offset: 42, timestampMs: 1_763_546_400_000),
            decidedAtMs: 1_763_546_401_000)
    }

    @Test func everyContractFieldInOrder() throws {
        var encoder = DecisionEncoder()
        let bytes = encoder.encode(
            try decision(
                reportMembers([
                    ("avg_response_time_ms", .integer(6000)), ("executed_at", .string("2025-11-19T10:00:00Z")),
                ])))
        guard case let .object(object) = try JSONParser.parse(bytes) else {
            Issue.record("not an object")
            return
        }
        #expect(
            object.members.map(\.key) == [
                "schema", "decision_id", "workflow_id", "run_id", "should_optimize", "strategy", "reasons",
                "regressions",
                "report", "analysis", "input_schema", "rules_fingerprint", "source", "decided_at", "producer",
                "variant", "variant_comparison",
            ])
        #expect(object["schema"] == .string("optimizer.decision/v1"))
        #expect(object["should_optimize"] == .bool(true))
        #expect(object["strategy"] == .string("efficiency_focus"))
        #expect(
            object["reasons"]
                == .array([
                    .object(
                        JSONObject([
                            ("code", .string("high_latency")), ("observed", .double(6000)),
                            ("threshold", .double(5000)),
                            ("message", .string("average response time 6000 ms exceeds the maximum 5000 ms")),
                        ]))
                ]))
        #expect(object["regressions"] == .array([]))
        #expect(object["analysis"] == .null)
        #expect(object["input_schema"] == .string("optimizer.test_execution_report/v1"))
        #expect(object["rules_fingerprint"] == .string(ScoringRules().fingerprint))
        #expect(
            object["source"]
                == .object(
                    JSONObject([
                        ("topic", .string("executor-results")), ("partition", .integer(3)), ("offset", .integer(42)),
                        ("timestamp_ms", .integer(1_763_546_400_000)),
                    ])))
        #expect(object["decided_at"] == .string("2025-11-19T10:00:01.000Z"))
        #expect(
            object["producer"]
                == .object(
                    JSONObject([("name", .string("optimizer-decider")), ("version", .string(ProducerInfo.version))])))
        guard case let .object(report)? = object["report"] else {
            Issue.record("no report")
            return
        }
        #expect(
            report.members.map(\.key) == [
                "workflow_id", "run_id", "total_tests", "successful_tests", "failed_tests", "cancelled_tests",
                "success_rate",
                "avg_response_time_ms", "p95_response_time_ms", "p99_response_time_ms", "total_tokens",
                "avg_tokens_per_request",
                "total_cost", "cost_per_request", "error_distribution", "executed_at", "metadata",
            ])
        #expect(
            report["error_distribution"]
                == .object(
                    JSONObject([
                        ("timeout_errors", .integer(0)), ("api_errors", .integer(0)),
                        ("validation_errors", .integer(0)), ("llm_errors", .integer(0)), ("total_errors", .integer(0)),
                    ])))
    }

    @Test func decisionIDIsStableAcrossDeliveries() throws {
        let first = try decision(reportMembers())
        var second = try decision(reportMembers([("future", .bool(true))]))
        second.source.offset = 99
        #expect(first.decisionID == second.decisionID)
    }

    @Test func analysisSummary() throws {
        let a: JSONValue = .object(
            JSONObject([
                ("overall_score", .integer(65)), ("clarity_score", .integer(60)), ("efficiency_score", .integer(90)),
                (
                    "issues",
                    .array([
                        .object(
                            JSONObject([
                                ("severity", .string("critical")), ("type", .string("t")),
                                ("description", .string("d")),
                            ]))
                    ])
                ),
            ]))
        var encoder = DecisionEncoder()
        guard
            case let .object(object) = try JSONParser.parse(
                encoder.encode(try decision(reportMembers([("prompt_analysis", a)]))))
        else { return }
        #expect(
            object["analysis"]
                == .object(
                    JSONObject([
                        ("prompt_id", .null), ("overall_score", .double(65)), ("clarity_score", .double(60)),
                        ("efficiency_score", .double(90)),
                        ("critical_issues", .integer(1)), ("issue_count", .integer(1)),
                    ])))
        #expect(object["strategy"] == .string("clarity_focus"))
    }
}

@Suite("Rules files (contract 3)")
struct RulesFileTests {
    func failure(_ text: String) -> String? {
        do {
            _ = try RulesFile.parse(text)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func emptyMeansDefaults() throws {
        #expect(try RulesFile.parse("") == ScoringRules())
        #expect(try RulesFile.parse("# nothing\n") == ScoringRules())
        #expect(try RulesFile.parse("{}") == ScoringRules())
    }

    @Test func yamlAndJSONAgree() throws {
        let yaml = """
            optimization_threshold: 75
            critical_issue_threshold: 2
            min_success_rate: 0.9
            max_acceptable_latency_ms: 3000.5
            error_patterns:
              llm: ["rate limit", "Overloaded"]
            trigger_on_regression: true
            baseline_window: 10
            """
        let json =
            #"{"optimization_threshold": 75, "critical_issue_threshold": 2, "min_success_rate": 0.9, "max_acceptable_latency_ms": 3000.5, "error_patterns": {"llm": ["rate limit", "Overloaded"]}, "trigger_on_regression": true, "baseline_window": 10}"#
        let fromYAML = try RulesFile.parse(yaml)
        #expect(fromYAML == (try RulesFile.parse(json)))
        #expect(fromYAML.optimizationThreshold == 75)
        #expect(fromYAML.criticalIssueThreshold == 2)
        #expect(fromYAML.errorPatterns.llm == ["rate limit", "Overloaded"])
        #expect(fromYAML.errorPatterns.validation == ErrorPatterns.defaultValidation)
        #expect(fromYAML.history.triggerOnRegression)
        #expect(fromYAML.history.baselineWindow == 10)
        #expect(fromYAML.fingerprint != ScoringRules().fingerprint)
    }

    @Test func explicitDefaultsKeepTheFingerprint() throws {
        #expect(
            try RulesFile.parse("optimization_threshold: 80.0\nmin_success_rate: 0.8\n").fingerprint
                == ScoringRules().fingerprint)
    }

    @Test func errorsNameTheKey() {
        #expect(failure("optimisation_threshold: 80")?.hasPrefix("unknown rules key optimisation_threshold") == true)
        #expect(failure("min_success_rate: high") == "rules key min_success_rate must be a number, got a string")
        #expect(
            failure("critical_issue_threshold: 1.5")
                == "rules key critical_issue_threshold must be an integer, got a fraction")
        #expect(failure("min_success_rate: 1.5") == "rules key min_success_rate must be between 0 and 1")
        #expect(
            failure("trigger_on_regression: 1") == "rules key trigger_on_regression must be true or false, got a number"
        )
        #expect(failure("error_patterns:\n  sql: [x]")?.hasPrefix("unknown rules key error_patterns.sql") == true)
        #expect(
            failure("error_patterns:\n  llm: [1]")?.contains("error_patterns.llm must be a list of strings") == true)
        #expect(failure("error_patterns: [x]")?.contains("error_patterns must be a mapping") == true)
        #expect(failure("- 1\n- 2")?.contains("must hold a mapping") == true)
        #expect(
            failure("{\"min_success_rate\": 0.5, \"min_success_rate\": 0.6}")
                == "rules key min_success_rate is given twice")
        #expect(failure("{\"a\": ")?.hasPrefix("the rules file is not valid JSON") == true)
        #expect(failure("a: [")?.hasPrefix("the rules file is not valid YAML") == true)
        #expect(
            failure("baseline_min_runs: 30") == "rules key baseline_min_runs must be between 1 and baseline_window (20)"
        )
        #expect(failure("max_cost_per_request: .inf")?.contains("max_cost_per_request") == true)
    }
}
