"""`optimizer-decider score`: the shipped sample, the JSON Schemas, and dead letters of every reason."""
import json

import jsonschema
import pytest
from conftest import FORMAT, ROOT, json_lines, run_cli, schema

SAMPLE = ROOT / "examples" / "executor-results.jsonl"


def test_the_date_time_format_is_really_checked():
    # Without a date-time checker jsonschema passes every string: this test fails if the check is off.
    decision_schema = schema("optimizer.decision.v1")
    decision = json_lines(run_cli("score", str(SAMPLE)).stdout)[0]
    jsonschema.validate(decision, decision_schema, format_checker=FORMAT)
    for bad in ("yesterday", "2025-13-01T00:00:00Z", "2025-02-30T10:00:00Z", "2025-11-19 10:00:00Z", "2025-11-19T10:00:00"):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**decision, "decided_at": bad}, decision_schema, format_checker=FORMAT)


def test_sample_decisions_match_the_contract():
    result = run_cli("score", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    decisions = json_lines(result.stdout)
    by_run = {(d["workflow_id"], d["run_id"]): d for d in decisions}
    assert len(decisions) == 5, "six valid lines, one a duplicate delivery"
    triage = by_run[("wf-support-triage", "run-2025-11-19-001")]
    assert triage["should_optimize"] is False and triage["strategy"] is None
    assert triage["report"]["error_distribution"] == {
        "timeout_errors": 1, "api_errors": 0, "validation_errors": 0, "llm_errors": 1, "total_errors": 2}
    invoice = by_run[("wf-invoice-extract", "run-2025-11-19-002")]
    assert [r["code"] for r in invoice["reasons"]] == ["low_overall_score", "critical_issues", "high_cost"]
    assert invoice["strategy"] == "efficiency_focus"
    assert invoice["report"]["cancelled_tests"] == 2 and invoice["report"]["success_rate"] == 0.875
    search = by_run[("wf-search-summarize", "run-77")]
    assert [r["code"] for r in search["reasons"]] == ["high_latency"] and search["strategy"] == "efficiency_focus"
    assert by_run[("wf-healthy", "run-1")]["should_optimize"] is False
    legacy = by_run[("wf-legacy", "legacy")]
    assert legacy["input_schema"] == "optimizer.baseline_metrics/legacy"
    assert legacy["report"]["successful_tests"] == 3 and legacy["strategy"] == "clarity_focus"


def test_decisions_validate_against_the_schema():
    result = run_cli("score", str(SAMPLE))
    decision_schema = schema("optimizer.decision.v1")
    for decision in json_lines(result.stdout):
        jsonschema.validate(decision, decision_schema, format_checker=FORMAT)


def test_valid_sample_inputs_validate_against_their_input_schemas():
    names = {
        "executor.run_result/v1": "executor.run_result.v1",
        "optimizer.test_execution_report/v1": "optimizer.test_execution_report.v1",
        "optimizer.baseline_metrics/legacy": "optimizer.baseline_metrics.legacy",
    }
    decided = json_lines(run_cli("score", str(SAMPLE)).stdout)
    lines = SAMPLE.read_text().splitlines()
    for decision in decided:
        message = json.loads(lines[decision["source"]["offset"] - 1])
        jsonschema.validate(message, schema(names[decision["input_schema"]]), format_checker=FORMAT)


def test_dead_letters_carry_code_sentence_and_original_line():
    result = run_cli("score", str(SAMPLE))
    letters = json_lines(result.stderr)
    assert [l["dlq_reason"] for l in letters] == [
        "invalid_json", "unsupported_schema", "inconsistent", "wrong_type", "invalid_value", "missing_field"]
    lines = SAMPLE.read_text().splitlines()
    for letter in letters:
        assert letter["value"] == lines[letter["source"]["line"] - 1]
        assert letter["dlq_error"]


def test_every_reason_code_including_too_large_and_invalid_utf8():
    report = {"workflow_id": "w", "run_id": "r", "total_tests": 1, "successful_tests": 1, "failed_tests": 0,
              "success_rate": 1, "avg_response_time_ms": 1, "total_tokens": 1, "avg_tokens_per_request": 1,
              "total_cost": 0, "cost_per_request": 0}
    big = dict(report, run_id="big", metadata={"pad": "x" * 300})
    lines = [
        b'{"broken": ',
        b'{"workflow_id": "\xff\xfe", "success_rate": 1}',
        json.dumps(big).encode(),
        b'{"schema": "nope"}',
        json.dumps({k: v for k, v in report.items() if k != "total_cost"}).encode(),
        json.dumps(dict(report, total_cost="free")).encode(),
        json.dumps(dict(report, total_cost=-1)).encode(),
        json.dumps(dict(report, success_rate=0.5)).encode(),
        json.dumps(report).encode(),
    ]
    result = run_cli("score", "--max-message-bytes", "300", input_bytes=b"\n".join(lines) + b"\n")
    assert result.returncode == 0
    letters = json_lines(result.stderr)
    assert [l["dlq_reason"] for l in letters] == [
        "invalid_json", "invalid_json", "too_large", "unsupported_schema", "missing_field", "wrong_type",
        "invalid_value", "inconsistent"]
    assert "value_base64" in letters[1]
    assert len(json_lines(result.stdout)) == 1


def test_duplicates_within_one_invocation_produce_one_decision():
    line = SAMPLE.read_text().splitlines()[0]
    result = run_cli("score", "--summary", input_bytes=((line + "\n") * 3).encode())
    assert len(json_lines(result.stdout)) == 1
    assert b"1 decided, 2 duplicates, 0 dead letters" in result.stderr


def test_bad_rules_file_and_unreadable_input_fail_with_one_line(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("min_success_rate: 2\n")
    result = run_cli("score", "--rules", str(rules), str(SAMPLE))
    assert result.returncode != 0
    assert b"min_success_rate must be between 0 and 1" in result.stderr
    result = run_cli("score", str(tmp_path / "missing.jsonl"))
    assert result.returncode != 0
    assert b"cannot read" in result.stderr


def test_an_unreadable_rules_file_is_named_with_the_systems_reason(tmp_path):
    binary_rules = tmp_path / "rules.bin"
    binary_rules.write_bytes(b"\xff\xfe")
    for path, reason in [(tmp_path / "absent.yaml", b"No such file or directory"), (tmp_path, b"it is a directory"),
                         (binary_rules, b"is not UTF-8 text")]:
        result = run_cli("score", "--rules", str(path), str(SAMPLE))
        assert result.returncode == 1 and result.stderr.strip().splitlines() == [result.stderr.strip()], result.stderr
        assert reason in result.stderr and str(path).encode() in result.stderr, result.stderr
    # An empty file (here a device that reads as empty) is a rules file with every key at its default.
    empty = run_cli("score", "--rules", "/dev/null", str(SAMPLE))
    assert empty.returncode == 0, empty.stderr
    assert {d["rules_fingerprint"] for d in json_lines(empty.stdout)} == {"sha256:a68eeab32a5ca2e4"}


def test_rules_file_changes_decisions_and_fingerprint(tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text('{"max_acceptable_latency_ms": 7000}')
    default = {d["run_id"]: d for d in json_lines(run_cli("score", str(SAMPLE)).stdout)}
    relaxed = {d["run_id"]: d for d in json_lines(run_cli("score", "--rules", str(rules), str(SAMPLE)).stdout)}
    assert default["run-77"]["should_optimize"] is True and relaxed["run-77"]["should_optimize"] is False
    assert default["run-77"]["rules_fingerprint"] != relaxed["run-77"]["rules_fingerprint"]
    assert default["run-77"]["decision_id"] != relaxed["run-77"]["decision_id"]
