"""Claims of the README that had no test: a standby beyond the partition count is unready; undeliverable
output stops the service non-zero with nothing committed; a dead letter larger than the DLQ accepts goes
without its value; an interrupted replay prints its summary and exits 0; environment over defaults and
flags over the environment; JSON logs; `demo` end to end; the 2^53 count cap and the crash it fixed."""
import hashlib
import json
import os
import re
import signal
import subprocess
import time

from conftest import (MockBroker, Service, binary, broker, free_port, json_lines, producer, read_all, run_cli, send,
                      wait_for)
from test_lifecycle import SLOW_RESTORE, fill_one_record_per_batch
from test_service import committed_offsets, lag_is_zero, run_result


def test_a_standby_beyond_the_partition_count_is_unready(tmp_path):
    broker = MockBroker(partitions=1)
    try:
        active = Service(broker.bootstrap, tmp_path, name="active")
        standby = Service(broker.bootstrap, tmp_path, name="standby", wait_ready=False)
        # The moment: the group has settled with both members and given the standby its empty assignment
        # (its own log says so), not merely "no partitions yet" before its first assignment.
        wait_for(lambda: re.search(r"partitions assigned: *$", standby.output(), re.MULTILINE), 90, standby.output)
        # The standby owns nothing and says so.
        wait_for(lambda: standby.get("/readyz") == (503, "not ready: no partitions assigned\n")
                 and active.get("/readyz")[0] == 200, 60, standby.output)
        time.sleep(2)
        assert standby.get("/readyz") == (503, "not ready: no partitions assigned\n")
        assert standby.metric("optimizer_decider_assigned_partitions") == 0
        assert active.metric("optimizer_decider_assigned_partitions") == 1
        assert standby.terminate() == 0 and active.terminate() == 0
    finally:
        broker.stop()


def test_undeliverable_output_stops_the_service_with_nothing_committed(broker, tmp_path):
    # Decisions (about 2 KB) exceed the producer's message.max.bytes: every delivery fails.
    service = Service(broker.bootstrap, tmp_path, extra=["--kafka-option", "message.max.bytes=1000"])
    send(producer(broker.bootstrap), [(b"wf", run_result("wf", f"run-{i}")) for i in range(10)])
    code = service.process.wait(timeout=60)
    assert code != 0
    assert "output could not be delivered" in service.output()
    committed, ends = committed_offsets(broker.bootstrap)
    assert sum(ends.values()) == 10 and committed == {0: 0, 1: 0, 2: 0}, "no delivery succeeded, so no offset was committed"
    assert read_all(broker.bootstrap, "optimizer-decisions") == []


def test_a_dead_letter_larger_than_the_dlq_accepts_goes_without_its_value(broker, tmp_path):
    # The producer accepts 20,000 bytes a message: a decision (about 2 KB) passes, the copy of a 50 KB bad
    # message does not (the mock broker itself accepts any size, so the limit is the client's).
    service = Service(broker.bootstrap, tmp_path, extra=["--kafka-option", "message.max.bytes=20000"])
    big = b'{"broken": "' + b"x" * 50_000
    send(producer(broker.bootstrap), [(b"wf", big), (b"wf", run_result("wf", "run-1"))])
    wait_for(lambda: len(read_all(broker.bootstrap, "executor-results.dlq")) == 1, 60, service.output)
    [letter] = read_all(broker.bootstrap, "executor-results.dlq")
    headers = {name: value for name, value in letter.headers}
    assert not letter.value, "sent without its value"
    assert headers["dlq-value-omitted"] == f"{len(big)} bytes: larger than the dead-letter topic accepts".encode()
    assert headers["dlq-value-sha256"] == hashlib.sha256(big).hexdigest().encode()
    assert headers["dlq-reason"] == b"invalid_json" and letter.key == b"wf"
    assert [json.loads(d.value)["run_id"] for d in read_all(broker.bootstrap, "optimizer-decisions")] == ["run-1"]
    assert "dead letter too large for executor-results.dlq; sent without its value" in service.output()
    wait_for(lambda: lag_is_zero(broker.bootstrap), 30, service.output)
    assert service.terminate() == 0


def test_an_interrupted_replay_prints_its_summary_and_exits_0(broker, tmp_path):
    # Input records one per record batch, read one fetch each: a replay of 12,000 takes seconds.
    fill_one_record_per_batch(broker.bootstrap, "executor-results", b"wf",
                              b'{"workflow_id":"wf","success_rate":1,"total_tests":1,"pad":"' + b"x" * 600 + b'"}')
    replay = subprocess.Popen([binary(), "replay", "--bootstrap-servers", broker.bootstrap, "--from", "beginning", "--dry-run",
                               "--progress-interval", "0.2", "--log-level", "warning", *SLOW_RESTORE],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # The moment: a progress line shows records read, and not all of them.
    seen = b""
    while not re.search(rb"replay: [1-9]\d*/12000 records", seen):
        line = replay.stderr.readline()
        assert line, f"replay ended before reporting progress: {seen}"
        seen += line
    replay.send_signal(signal.SIGTERM)
    started = time.monotonic()
    rest = replay.stderr.read()
    assert replay.wait(timeout=30) == 0, seen + rest
    took = time.monotonic() - started
    print(f"\ninterrupted replay: exit 0 in {took:.2f} s")
    # The bound is the stop budget (10 s) plus the half second the process allows past it (then it exits
    # 124); measured here: 0.01 to 0.34 s.
    assert took < 10.5, took
    summary = re.search(rb"replay interrupted: (\d+) of 12000 records", rest)
    assert summary and 0 < int(summary.group(1)) < 12000, rest


def serving_port(args, env):
    """Starts `run` against an unreachable broker and returns the port its endpoints bound."""
    process = subprocess.Popen([binary(), "run", *args], env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(50):
            line = process.stderr.readline().decode()
            match = re.search(r"serving /metrics, /healthz and /readyz on http://127\.0\.0\.1:(\d+)", line)
            if match:
                return int(match.group(1))
        raise AssertionError("the endpoints were never served")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def test_environment_over_defaults_and_flags_over_the_environment():
    closed, from_env, from_flag = free_port(), free_port(), free_port()
    base = ["--startup-timeout", "30"]
    env = {"DECIDER_BOOTSTRAP_SERVERS": f"127.0.0.1:{closed}", "DECIDER_METRICS_ADDRESS": f"127.0.0.1:{from_env}"}
    assert serving_port(base, env) == from_env, "the environment over the default 9464"
    assert serving_port(base + ["--metrics-address", f"127.0.0.1:{from_flag}"], env) == from_flag, "the flag over the environment"
    bad = subprocess.run([binary(), "run"], env={**os.environ, **env, "DECIDER_BATCH_SIZE": "lots"}, capture_output=True, timeout=30)
    assert bad.returncode != 0 and b"DECIDER_BATCH_SIZE=lots" in bad.stderr


def test_json_logs_are_one_object_per_line(tmp_path):
    closed = free_port()
    process = subprocess.run([binary(), "run", "--bootstrap-servers", f"127.0.0.1:{closed}", "--metrics-address", "off",
                              "--startup-timeout", "1", "--log-format", "json"], capture_output=True, timeout=30)
    assert process.returncode == 1, process.stderr
    *lines, reason = process.stderr.decode().splitlines()
    assert lines, process.stderr
    # Every log line is a JSON object; the last line is the command's one-line reason, as in text mode.
    for line in lines:
        entry = json.loads(line)
        assert {"ts", "level", "msg"} <= set(entry), entry
    assert {json.loads(line)["level"] for line in lines} <= {"trace", "debug", "info", "notice", "warning", "error", "critical"}
    assert reason.startswith("Error: cannot reach Kafka at 127.0.0.1:"), reason


def test_demo_end_to_end():
    result = run_cli("demo", "--runs", "60", timeout=180)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    decided = int(re.search(r"decisions on optimizer-decisions: (\d+)", out).group(1))
    distinct = int(re.search(r"(\d+) distinct runs", out).group(1))
    assert decided == distinct > 0
    assert "dead letters on executor-results.dlq: 7" in out
    for workflow, verdict in (("wf-ab-improves", "improved"), ("wf-ab-regresses", "regressed"), ("wf-ab-inconclusive", "inconclusive")):
        assert re.search(rf"^{workflow} .* {verdict} ", out, flags=re.M), f"{workflow}: {verdict}\n{out}"


def test_counts_are_capped_at_2_to_the_53():
    def report(total):
        return json.dumps({"workflow_id": "wf", "run_id": f"r{total}", "total_tests": total, "successful_tests": 0,
                           "failed_tests": 0, "success_rate": 0, "avg_response_time_ms": 1, "total_tokens": 0,
                           "avg_tokens_per_request": 0, "total_cost": 0, "cost_per_request": 0})
    result = run_cli("score", input_bytes=(report(2 ** 53) + "\n" + report(2 ** 53 + 1) + "\n").encode())
    assert [d["run_id"] for d in json_lines(result.stdout)] == [f"r{2 ** 53}"]
    [letter] = json_lines(result.stderr)
    assert letter["dlq_reason"] == "invalid_value" and "total_tests" in letter["dlq_error"]
    # The crash the cap fixed: counts near 2^63 overflowed a sum of counts.
    near = 2 ** 63 - 10
    huge = json.dumps({"run_id": "r", "workflow_id": "wf", "started_at": "2025-11-19T10:00:00Z", "finished_at": "2025-11-19T10:01:00Z",
                       "statistics": {"total_tasks": near, "succeeded_tasks": near, "failed_tasks": near, "timeout_tasks": near,
                                      "cancelled_tasks": 0, "error_tasks": near, "total_tokens": 0, "total_retries": 0,
                                      "success_rate": 0.25, "total_execution_time": 1, "avg_execution_time": 1, "total_cost": 0},
                       "task_results": [{"task_id": "t", "task_status": "succeeded", "execution_time": 1}]})
    result = run_cli("score", input_bytes=(huge + "\n").encode())
    assert result.returncode == 0 and json_lines(result.stdout) == []
    assert json_lines(result.stderr)[0]["dlq_reason"] == "invalid_value"


def test_a_dlq_with_fewer_partitions_than_the_input_is_at_least_once_said_at_startup(tmp_path):
    broker = MockBroker(topics=["executor-results:3", "optimizer-decisions:3", "executor-results.dlq:1"])
    try:
        service = Service(broker.bootstrap, tmp_path)
        warnings = [line for line in service.output().splitlines() if "dead-letter topic executor-results.dlq has 1 partitions" in line]
        assert len(warnings) == 1, service.output()
        assert "at-least-once" in warnings[0] and "at least as many partitions for exactly once" in warnings[0]
        # Dead letters still flow, by key, to the one DLQ partition.
        send(producer(broker.bootstrap), [(b"wf", b"{not json")])
        wait_for(lambda: len(read_all(broker.bootstrap, "executor-results.dlq", partitions=1)) == 1, 30, service.output)
        assert service.terminate() == 0
        equal = MockBroker()
        try:
            quiet = Service(equal.bootstrap, tmp_path, name="equal")
            assert "dead-letter topic" not in quiet.output(), "no warning when the DLQ has as many partitions"
            assert quiet.terminate() == 0
        finally:
            equal.stop()
    finally:
        broker.stop()
