"""Per-workflow history and regressions (contract 3.2): `score` over a degrading sequence, and the same
decisions from `run` across a kill -9 as from `score` without one."""
import json

from conftest import broker, Service, json_lines, producer, read_all, run_cli, send, wait_for


def report(run, success, latency_ms, cost, workflow="wf-degrading"):
    total = 100
    successful = round(success * total)
    return json.dumps({
        "workflow_id": workflow, "run_id": f"run-{run:03d}", "total_tests": total, "successful_tests": successful,
        "failed_tests": total - successful, "success_rate": successful / total, "avg_response_time_ms": latency_ms,
        "total_tokens": 1000, "avg_tokens_per_request": 10, "total_cost": cost * total, "cost_per_request": cost})


def degrading(runs=40):
    """Ten steady runs, then each run a little worse than the last."""
    lines = []
    for n in range(runs):
        step = max(0, n - 9)
        lines.append(report(n, success=max(0.0, 0.97 - 0.02 * step), latency_ms=1000 + 200 * step, cost=0.010 + 0.0008 * step))
    return lines


def test_score_finds_regressions_as_a_workflow_degrades(tmp_path):
    lines = degrading()
    result = run_cli("score", input_bytes=("\n".join(lines) + "\n").encode())
    decisions = json_lines(result.stdout)
    assert len(decisions) == 40
    codes = [[r["code"] for r in d["regressions"]] for d in decisions]
    # Fewer than baseline_min_runs (5) earlier runs: nothing to compare with.
    assert all(c == [] for c in codes[:5])
    # The steady stretch raises nothing.
    assert all(c == [] for c in codes[5:12])
    first = {code: next(i for i, c in enumerate(codes) if code in c) for code in
             ("success_rate_regression", "latency_regression", "cost_regression")}
    # Pinned from the arithmetic of 3.2 (means of the last 20 runs, drop 0.10, factors 1.5): latency
    # (+200 ms a run) crosses first, then the success rate (−0.02 a run), then the cost (+8 % a run).
    assert first == {"latency_regression": 12, "success_rate_regression": 16, "cost_regression": 19}
    # The success rate keeps falling faster than its moving mean: once regressed, always regressed.
    assert all("success_rate_regression" in c for c in codes[16:])
    # Regressions are listed but do not trigger on their own by default.
    sample = decisions[first["cost_regression"]]
    regression = next(r for r in sample["regressions"] if r["code"] == "cost_regression")
    assert regression["observed"] > regression["baseline"] * 1.5 and "cost per request" in regression["message"]
    assert sample["should_optimize"] == any(sample["reasons"])
    rules = tmp_path / "rules.yaml"
    rules.write_text("trigger_on_regression: true\n")
    triggered = json_lines(run_cli("score", "--rules", str(rules), input_bytes=("\n".join(lines) + "\n").encode()).stdout)
    assert triggered[first["cost_regression"]]["should_optimize"] is True


def summary(decisions):
    return [(d["run_id"], d["should_optimize"], d["strategy"], [(r["code"], r["observed"], r["baseline"]) for r in d["regressions"]])
            for d in decisions]


def test_history_across_kill_minus_nine_matches_score(broker, tmp_path):
    lines = degrading(30)
    expected = summary(json_lines(run_cli("score", input_bytes=("\n".join(lines) + "\n").encode()).stdout))
    service = Service(broker.bootstrap, tmp_path)
    prod = producer(broker.bootstrap)
    send(prod, [(b"wf-degrading", line.encode()) for line in lines[:15]])
    # The moment: the victim's decisions are on the topic, so its successor must restore them to
    # recognise the redelivered runs 10-14 (consumption alone would prove nothing: outputs are pipelined).
    wait_for(lambda: len(read_all(broker.bootstrap, "optimizer-decisions")) >= 15, 60, service.output)
    service.kill()
    send(prod, [(b"wf-degrading", line.encode()) for line in lines[10:]])  # overlapping redelivery
    restarted = Service(broker.bootstrap, tmp_path, name="restarted")
    wait_for(lambda: len(read_all(broker.bootstrap, "optimizer-decisions")) >= 30, 60, restarted.output)
    records = sorted(read_all(broker.bootstrap, "optimizer-decisions"), key=lambda r: (r.partition, r.offset))
    decisions = [json.loads(r.value) for r in records]
    assert summary(decisions) == expected
    assert restarted.terminate() == 0
