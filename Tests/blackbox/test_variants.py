"""Variants and their outcomes (contract 3.3): `score`'s verdicts on workflows whose second variant improves,
regresses or stays inconclusive; decisions of runs without a variant unchanged but for two nulls; and the live
service across SIGKILLs giving exactly the comparisons `score` gives."""
import json
import re

import jsonschema
from conftest import FORMAT, ROOT, Service, broker, json_lines, producer, read_all, run_cli, schema, send, wait_for
from test_history import degrading

GOLDEN = ROOT / "Tests" / "blackbox" / "golden"
SAMPLE = ROOT / "examples" / "executor-results.jsonl"


def without_time(line):
    return re.sub(r'"decided_at":"[^"]*"', '"decided_at":"-"', line)


def test_decisions_without_a_variant_are_byte_identical_to_before_but_for_two_nulls():
    # The golden files are `score` output (standard input in, decided_at blanked) of the release before
    # variants existed.
    sample = SAMPLE.read_bytes()
    cases = [
        ("sample-decisions-before-variants.jsonl", [], sample),
        ("sample-decisions-example-rules-before-variants.jsonl", ["--rules", str(ROOT / "examples" / "rules.yaml")], sample),
        ("degrading-decisions-before-variants.jsonl", [], ("\n".join(degrading()) + "\n").encode()),
    ]
    for golden, args, stdin in cases:
        expected = [line[:-1] + ',"variant":null,"variant_comparison":null}' for line in (GOLDEN / golden).read_text().splitlines()]
        result = run_cli("score", *args, input_bytes=stdin)
        assert result.returncode == 0, result.stderr
        actual = [without_time(line) for line in result.stdout.decode().splitlines()]
        assert len(actual) == len(expected) > 0, golden
        assert actual == expected, golden


def run_line(workflow, n, variant, successful, latency_ms=1000.0, cost=0.01, total=100):
    message = {
        "workflow_id": workflow, "run_id": f"{workflow}-run-{n:03d}", "total_tests": total,
        "successful_tests": successful, "failed_tests": total - successful, "success_rate": successful / total,
        "avg_response_time_ms": latency_ms, "total_tokens": 1000, "avg_tokens_per_request": 10,
        "total_cost": cost * total, "cost_per_request": cost,
    }
    if variant is not None:
        message["metadata"] = {"variant": variant}
    return json.dumps(message)


def ab_stream():
    """Three workflows, interleaved: ten runs of variant A, then ten of B that improves (success 80 % → 95 %),
    regresses (latency ×1.6) or changes nothing measurable (90 % → 91 %); a run without a variant between."""
    shapes = {
        "wf-improves": (lambda n: (80, 1000.0), lambda n: (95, 1000.0)),
        "wf-regresses": (lambda n: (92, 1000.0), lambda n: (92, 1600.0)),
        "wf-inconclusive": (lambda n: (90, 1000.0), lambda n: (91, 1010.0)),
    }
    lines = []
    for n in range(21):
        for workflow, (a, b) in shapes.items():
            if n < 10:
                successful, latency = a(n)
                lines.append(run_line(workflow, n, "prompt-v1", successful, latency))
            elif n == 10:
                lines.append(run_line(workflow, n, None, 90))
            else:
                successful, latency = b(n)
                lines.append(run_line(workflow, n, "prompt-v2", successful, latency))
    return lines


def score(lines, *args):
    result = run_cli("score", *args, input_bytes=("\n".join(lines) + "\n").encode())
    assert result.returncode == 0, result.stderr
    return json_lines(result.stdout)


def test_score_gives_each_verdict_of_3_3():
    decisions = score(ab_stream())
    assert len(decisions) == 63
    decision_schema = schema("optimizer.decision.v1")
    for decision in decisions:
        jsonschema.validate(decision, decision_schema, format_checker=FORMAT)
    by_workflow = {}
    for decision in decisions:
        by_workflow.setdefault(decision["workflow_id"], []).append(decision)
    for workflow, final in (("wf-improves", "improved"), ("wf-regresses", "regressed"), ("wf-inconclusive", "inconclusive")):
        runs = by_workflow[workflow]
        verdicts = [d["variant_comparison"]["verdict"] if d["variant_comparison"] else None for d in runs]
        # A has no baseline; the run without a variant has no comparison; B needs five runs (baseline_min_runs).
        assert verdicts == ["no_baseline"] * 10 + [None] + ["insufficient_data"] * 4 + [final] * 6, workflow
        last = runs[-1]["variant_comparison"]
        assert runs[-1]["variant"] == "prompt-v2" and last["baseline_variant"] == "prompt-v1"
        assert last["runs"] == 10 and last["baseline_runs"] == 10
        assert runs[10]["variant"] is None and runs[10]["variant_comparison"] is None
    improved = by_workflow["wf-improves"][-1]["variant_comparison"]["success_rate"]
    assert improved["variant"] == 0.95 and improved["baseline"] == 0.8 and improved["p_value"] < 0.05
    regressed = by_workflow["wf-regresses"][-1]["variant_comparison"]["avg_response_time_ms"]
    assert regressed["ratio"] == 1.6
    inconclusive = by_workflow["wf-inconclusive"][-1]["variant_comparison"]["success_rate"]
    assert inconclusive["p_value"] > 0.05


def test_variant_rules_change_verdicts_and_the_fingerprint(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("variant_alpha: 0.000001\nvariant_window: 3\n")
    default = score(ab_stream())
    strict = score(ab_stream(), "--rules", str(rules))
    assert strict[0]["rules_fingerprint"] != default[0]["rules_fingerprint"]
    improves = [d for d in strict if d["workflow_id"] == "wf-improves"]
    # A window of three runs, so B is compared after three of its runs with A's last three.
    assert improves[-1]["variant_comparison"]["runs"] == 3 and improves[-1]["variant_comparison"]["baseline_runs"] == 3
    rules.write_text("variant_window: 50\nvariant_alpha: 0.05\n")
    assert score(ab_stream(), "--rules", str(rules))[0]["rules_fingerprint"] == default[0]["rules_fingerprint"] == "sha256:a68eeab32a5ca2e4"
    for bad, key in (("variant_window: 0\n", "variant_window"), ("variant_alpha: 1\n", "variant_alpha"), ("variant_window: 2.5\n", "variant_window")):
        rules.write_text(bad)
        result = run_cli("score", "--rules", str(rules), input_bytes=b"")
        assert result.returncode != 0 and key in result.stderr.decode(), bad


def comparisons(decisions):
    """Per workflow, in decision order: each run with its variant and comparison."""
    by_workflow = {}
    for d in decisions:
        by_workflow.setdefault(d["workflow_id"], []).append((d["run_id"], d["variant"], d["variant_comparison"], d["regressions"]))
    return by_workflow


def test_live_service_across_sigkills_gives_the_comparisons_of_score(broker, tmp_path):
    lines = ab_stream()
    expected = comparisons(score(lines))
    prod = producer(broker.bootstrap)
    keyed = [(json.loads(line)["workflow_id"].encode(), line.encode()) for line in lines]
    cuts = [0, 24, 45, len(keyed)]
    for index in range(3):
        service = Service(broker.bootstrap, tmp_path, name=f"svc{index}")
        before = len(read_all(broker.bootstrap, "optimizer-decisions"))
        # Each piece overlaps the previous one by five messages: redeliveries are deduplicated.
        send(prod, keyed[max(0, cuts[index] - 5):cuts[index + 1]])
        wait_for(lambda: len(read_all(broker.bootstrap, "optimizer-decisions")) > before, 60, service.output)
        if index < 2:
            # The victim was ready and its decisions since its start are on the topic: the kill lands on a
            # working instance, and its successor has state to restore.
            service.kill()
        else:
            wait_for(lambda: len(read_all(broker.bootstrap, "optimizer-decisions")) >= len(lines), 60, service.output)
            assert service.terminate() == 0
    records = sorted(read_all(broker.bootstrap, "optimizer-decisions"), key=lambda r: (r.partition, r.offset))
    decisions = [json.loads(r.value) for r in records]
    assert len(decisions) == len(lines), "exactly one decision per run"
    assert comparisons(decisions) == expected
