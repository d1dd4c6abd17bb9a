import DecisionCore
import Testing

@testable import WireFormat

/// Builds message JSON from a Swift dictionary literal-ish description, via the project's own writer.
func json(_ members: [(String, JSONValue)]) -> [UInt8] {
    var writer = JSONWriter()
    writer.value(.object(JSONObject(members.map { (key: $0.0, value: $0.1) })))
    return writer.bytes
}

func task(_ id: String, _ status: String, _ time: Double, _ message: String? = nil) -> JSONValue {
    .object(
        JSONObject([
            ("task_id", .string(id)), ("task_status", .string(status)), ("execution_time", .double(time)),
            ("error_message", message.map(JSONValue.string) ?? .null), ("attempt_count", .integer(1)),
            ("test_result", .object(JSONObject([("tokens_used", .integer(10)), ("cost", .double(0.001))]))),
        ]))
}

func runResultMembers(
    statistics: [(String, JSONValue)]? = nil, tasks: [JSONValue]? = nil, extra: [(String, JSONValue)] = []
) -> [(String, JSONValue)] {
    let defaultStatistics: [(String, JSONValue)] = [
        ("total_tasks", .integer(4)), ("completed_tasks", .integer(3)), ("succeeded_tasks", .integer(2)),
        ("failed_tasks", .integer(1)), ("timeout_tasks", .integer(0)), ("cancelled_tasks", .integer(1)),
        ("error_tasks", .integer(0)), ("total_tokens", .integer(300)), ("total_retries", .integer(1)),
        ("success_rate", .double(0.667)), ("total_execution_time", .double(6)), ("avg_execution_time", .double(2)),
        ("total_cost", .double(0.03)),
    ]
    return [
        ("run_id", .string("run-1")), ("workflow_id", .string("wf-1")),
        ("started_at", .string("2025-11-19T10:00:00Z")), ("finished_at", .string("2025-11-19T10:00:06Z")),
        ("statistics", .object(JSONObject((statistics ?? defaultStatistics).map { (key: $0.0, value: $0.1) }))),
        (
            "task_results",
            .array(
                tasks ?? [
                    task("a", "succeeded", 1), task("b", "succeeded", 2), task("c", "failed", 3, "Schema mismatch"),
                    task("d", "cancelled", 0),
                ])
        ),
    ] + extra
}

func reportMembers(_ changes: [(String, JSONValue)] = [], removing: [String] = []) -> [(String, JSONValue)] {
    var members: [(String, JSONValue)] = [
        ("workflow_id", .string("wf-1")), ("run_id", .string("run-9")), ("total_tests", .integer(10)),
        ("successful_tests", .integer(9)), ("failed_tests", .integer(1)), ("success_rate", .double(0.9)),
        ("avg_response_time_ms", .integer(1200)), ("total_tokens", .integer(1000)),
        ("avg_tokens_per_request", .integer(100)), ("total_cost", .double(0.1)), ("cost_per_request", .double(0.01)),
    ]
    members.removeAll { removing.contains($0.0) }
    for (key, value) in changes {
        if let index = members.firstIndex(where: { $0.0 == key }) {
            members[index].1 = value
        } else {
            members.append((key, value))
        }
    }
    return members
}

func decodeError(_ bytes: [UInt8], maximum: Int = InputDecoder.defaultMaximumMessageBytes) -> InputRejection? {
    do {
        _ = try InputDecoder(maximumMessageBytes: maximum).decode(bytes)
        return nil
    } catch {
        return error
    }
}

@Suite("Input decoding: shapes (contract 2)")
struct InputShapeTests {
    let decoder = InputDecoder()

    @Test func runResultRecognisedByItsFields() throws {
        let submission = try decoder.decode(json(runResultMembers()))
        #expect(submission.schema == .runResult)
        #expect(submission.identity == .runID(workflowID: "wf-1", runID: "run-1"))
        let report = submission.report
        #expect(report.totalTests == 4)
        #expect(report.cancelledTests == 1)
        #expect(report.failedTests == 1)
        #expect(report.p95ResponseTimeMs == 3000)
        #expect(report.errorDistribution.validationErrors == 1)
        #expect(report.metadata == JSONObject([("total_retries", .integer(1)), ("cancelled_tasks", .integer(1))]))
        #expect(report.executedAt == "2025-11-19T10:00:06Z")
    }

    @Test func reportRecognisedByItsFields() throws {
        let submission = try decoder.decode(
            json(reportMembers([("metadata", .object(JSONObject([("model", .string("m"))])))])))
        #expect(submission.schema == .testExecutionReport)
        #expect(submission.report.metadata?["model"] == .string("m"))
        #expect(submission.report.errorDistribution == ErrorDistribution())
    }

    @Test func legacyRecognisedBySuccessRateAlone() throws {
        let bytes = json([("success_rate", .double(0.75)), ("total_tests", .integer(4))])
        let submission = try decoder.decode(bytes)
        #expect(submission.schema == .legacyBaselineMetrics)
        #expect(submission.report.successfulTests == 3)
        #expect(submission.identity == .contentHash(workflowID: "unknown", sha256Hex: hexString(Hashing.sha256(bytes))))
        let withRunID = try decoder.decode(
            json([("success_rate", .double(0.75)), ("run_id", .string("r7")), ("workflow_id", .string("wf"))]))
        #expect(withRunID.identity == .runID(workflowID: "wf", runID: "r7"))
    }

    @Test func explicitSchemaWinsOverFields() throws {
        // Fields of a run result but named as a report: decoded as a report, so report fields are required.
        let error = decodeError(
            json(runResultMembers(extra: [("schema", .string("optimizer.test_execution_report/v1"))])))
        #expect(error == InputRejection(.missingField, field: "total_tests", "total_tests is required"))
        let legacy = try decoder.decode(
            json([
                ("schema", .string("optimizer.baseline_metrics/legacy")), ("success_rate", .integer(1)),
                ("total_tests", .integer(2)), ("successful_tests", .integer(2)),
            ]))
        #expect(legacy.schema == .legacyBaselineMetrics)
    }

    @Test func promptAnalysisOnAnyShape() throws {
        let a: JSONValue = .object(
            JSONObject([
                ("prompt_id", .string("p1")), ("overall_score", .integer(65)), ("clarity_score", .double(70.5)),
                ("efficiency_score", .integer(60)),
                (
                    "issues",
                    .array([
                        .object(
                            JSONObject([
                                ("severity", .string("critical")), ("type", .string("t")),
                                ("description", .string("d")), ("line", .integer(3)),
                            ])),
                        .object(
                            JSONObject([
                                ("severity", .string("info")), ("type", .string("t")), ("description", .string("d")),
                            ])),
                    ])
                ),
            ]))
        for members in [runResultMembers(extra: [("prompt_analysis", a)]), reportMembers([("prompt_analysis", a)])] {
            let analysis = try #require(try decoder.decode(json(members)).analysis)
            #expect(analysis.promptID == "p1")
            #expect(analysis.clarityScore == 70.5)
            #expect(analysis.criticalIssueCount == 1)
        }
        #expect(try decoder.decode(json(reportMembers([("prompt_analysis", .null)]))).analysis == nil)
    }

    @Test func unknownFieldsAreIgnoredAndNullOptionalsAreAbsent() throws {
        let submission = try decoder.decode(
            json(
                reportMembers([
                    ("p95_response_time_ms", .null), ("future_field", .array([.null])), ("cancelled_tests", .null),
                ])))
        #expect(submission.report.p95ResponseTimeMs == nil)
        #expect(submission.report.cancelledTests == 0)
    }

    @Test func integralNumbersAreIntegers() throws {
        let submission = try decoder.decode(json(reportMembers([("total_tests", .double(10.0))])))
        #expect(submission.report.totalTests == 10)
    }
}

@Suite("Input decoding: every dead-letter reason (contract 5)")
struct DeadLetterReasonTests {
    @Test func invalidJSON() {
        #expect(decodeError(Array("{\"a\":".utf8))?.reason == .invalidJSON)
        #expect(decodeError([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D])?.reason == .invalidJSON)
        #expect(decodeError(Array("{\"success_rate\": NaN}".utf8))?.reason == .invalidJSON)
    }

    @Test func tooLarge() {
        let error = decodeError(json(reportMembers()), maximum: 50)
        #expect(error?.reason == .tooLarge)
        #expect(error?.message.contains("maximum of 50") == true)
    }

    @Test func unsupportedSchema() {
        #expect(decodeError(json([("schema", .string("executor.run_result/v2"))]))?.reason == .unsupportedSchema)
        #expect(decodeError(json([("hello", .string("world"))]))?.reason == .unsupportedSchema)
        #expect(decodeError(json([("statistics", .object(JSONObject()))]))?.reason == .unsupportedSchema)
    }

    @Test func missingField() {
        #expect(
            decodeError(json(reportMembers(removing: ["cost_per_request"])))
                == InputRejection(.missingField, field: "cost_per_request", "cost_per_request is required"))
        var members = runResultMembers()
        members.removeAll { $0.0 == "finished_at" }
        #expect(decodeError(json(members))?.field == "finished_at")
        let statistics = runResultMembers()[4].1
        guard case var .object(s) = statistics else { return }
        s.members.removeAll { $0.key == "total_cost" }
        #expect(
            decodeError(json(runResultMembers(statistics: s.members.map { ($0.key, $0.value) })))?.field
                == "statistics.total_cost")
        let badTask: JSONValue = .object(JSONObject([("task_id", .string("x")), ("execution_time", .integer(1))]))
        #expect(
            decodeError(json(runResultMembers(tasks: [task("a", "succeeded", 1), badTask])))
                == InputRejection(
                    .missingField, field: "task_results[1].task_status", "task_results[1].task_status is required"))
        let noScore: JSONValue = .object(JSONObject([("overall_score", .integer(1)), ("clarity_score", .integer(1))]))
        #expect(
            decodeError(json(reportMembers([("prompt_analysis", noScore)])))?.field
                == "prompt_analysis.efficiency_score")
    }

    @Test func wrongType() {
        #expect(
            decodeError(Array("[1,2]".utf8))
                == InputRejection(.wrongType, field: "", "the message must be a JSON object, got an array"))
        #expect(
            decodeError(json(reportMembers([("total_tests", .string("10"))])))
                == InputRejection(.wrongType, field: "total_tests", "total_tests must be an integer, got a string"))
        #expect(decodeError(json(reportMembers([("total_tests", .double(10.5))])))?.reason == .wrongType)
        #expect(decodeError(json(reportMembers([("success_rate", .bool(true))])))?.field == "success_rate")
        #expect(decodeError(json(reportMembers([("workflow_id", .integer(5))])))?.field == "workflow_id")
        #expect(decodeError(json(reportMembers([("run_id", .null)])))?.reason == .wrongType)
        #expect(decodeError(json(reportMembers([("metadata", .array([]))])))?.field == "metadata")
        #expect(decodeError(json(reportMembers([("schema", .integer(1))])))?.field == "schema")
        #expect(decodeError(json(runResultMembers(tasks: [.string("a")])))?.field == "task_results[0]")
        #expect(
            decodeError(json(runResultMembers(extra: [("task_results", .object(JSONObject()))])))?.field
                == "task_results")
        #expect(
            decodeError(
                json(
                    runResultMembers(tasks: [
                        task("a", "succeeded", 1),
                        .object(
                            JSONObject([
                                ("task_id", .string("b")), ("task_status", .string("failed")),
                                ("execution_time", .integer(1)), ("error_message", .integer(3)),
                            ])),
                    ])))?.field == "task_results[1].error_message")
    }

    @Test func invalidValue() {
        #expect(
            decodeError(json(reportMembers([("avg_response_time_ms", .integer(-1))])))?.field == "avg_response_time_ms")
        #expect(decodeError(json(reportMembers([("success_rate", .double(1.5))])))?.reason == .invalidValue)
        #expect(decodeError(json(reportMembers([("workflow_id", .string(""))])))?.reason == .invalidValue)
        #expect(decodeError(json(reportMembers([("executed_at", .string("yesterday"))])))?.field == "executed_at")
        #expect(
            decodeError(
                Array(
                    #"{"workflow_id":"w","run_id":"r","total_tests":1,"successful_tests":1,"failed_tests":0,"success_rate":1,"avg_response_time_ms":1,"total_tokens":1,"avg_tokens_per_request":1,"total_cost":0,"cost_per_request":0,"metadata":{"a":[1,-1e400]}}"#
                        .utf8))
                == InputRejection(
                    .invalidValue, field: "metadata.a[1]", "metadata.a[1] is too large to be a finite number"))
        #expect(
            decodeError(
                Array(
                    #"{"workflow_id":"w","run_id":"r","total_tests":10,"successful_tests":9,"failed_tests":1,"success_rate":0.9,"avg_response_time_ms":1e999,"total_tokens":1,"avg_tokens_per_request":1,"total_cost":0,"cost_per_request":0}"#
                        .utf8))?.field == "avg_response_time_ms")
        #expect(decodeError(json(reportMembers([("total_tokens", .double(1e30))])))?.reason == .invalidValue)
        #expect(
            decodeError(json(runResultMembers(tasks: [task("a", "done", 1)])))
                == InputRejection(
                    .invalidValue, field: "task_results[0].task_status",
                    "task_results[0].task_status must be one of pending, queued, running, succeeded, failed, timeout, cancelled, error, got \"done\""
                ))
        let badScore: JSONValue = .object(
            JSONObject([
                ("overall_score", .integer(101)), ("clarity_score", .integer(1)), ("efficiency_score", .integer(1)),
            ]))
        #expect(
            decodeError(json(reportMembers([("prompt_analysis", badScore)])))?.field == "prompt_analysis.overall_score")
        let badSeverity: JSONValue = .object(
            JSONObject([
                ("overall_score", .integer(1)), ("clarity_score", .integer(1)), ("efficiency_score", .integer(1)),
                (
                    "issues",
                    .array([
                        .object(
                            JSONObject([
                                ("severity", .string("fatal")), ("type", .string("t")), ("description", .string("d")),
                            ]))
                    ])
                ),
            ]))
        #expect(
            decodeError(json(reportMembers([("prompt_analysis", badSeverity)])))?.field
                == "prompt_analysis.issues[0].severity")
        #expect(decodeError(json(runResultMembers(tasks: [])))?.field == "task_results")
    }

    @Test func inconsistent() {
        #expect(decodeError(json(reportMembers([("success_rate", .double(0.8))])))?.reason == .inconsistent)
        let distribution: JSONValue = .object(
            JSONObject([("timeout_errors", .integer(1)), ("api_errors", .integer(0)), ("total_errors", .integer(2))]))
        #expect(
            decodeError(json(reportMembers([("error_distribution", distribution)])))
                == InputRejection(
                    .inconsistent, field: "error_distribution.total_errors",
                    "error_distribution.total_errors 2 is not the sum of the four error counts (1)"))
        #expect(decodeError(json(reportMembers([("failed_tests", .integer(5))])))?.reason == .inconsistent)
    }
}
