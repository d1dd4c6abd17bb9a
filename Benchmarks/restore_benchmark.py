"""End-to-end restore: a restart of `optimizer-decider run` over DECISIONS decisions on a fresh `mock-broker`
of PARTITIONS partitions, measured from the service's own `state restored` line (seconds from the
assignment to the state installed, the partitions then ready), three ways: without a state directory (a
full read), with a new state directory (a full read, then the checkpoints written on stop), and with that
directory (the checkpoints loaded, no decision read back).

usage: restore_benchmark.py BINARY [DECISIONS [PARTITIONS [KEYS [ROUNDS]]]]   (defaults 200000 64 5000 3)

Each way runs ROUNDS times (the checkpoints written by the previous round stay); the lines give the median
and the range. The baseline is kcat (librdkafka's C client, no code of ours) reading the same records from
the same broker with the same fetch setting as the restore's consumer, ROUNDS times.
"""
import statistics
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FAST_GROUP = ["--kafka-option", "session.timeout.ms=6000", "--kafka-option", "heartbeat.interval.ms=500"]


def run_result(workflow, run, succeeded):
    tasks = [{"task_id": f"t{i}", "task_status": "succeeded" if i < succeeded else "failed", "execution_time": 0.5 + i / 10,
              "error_message": None if i < succeeded else "quota exceeded", "attempt_count": 1, "test_result": None}
             for i in range(5)]
    return json.dumps({
        "run_id": run, "workflow_id": workflow, "started_at": "2026-12-03T10:00:00Z", "finished_at": "2026-12-03T10:00:30Z",
        "statistics": {"total_tasks": 5, "completed_tasks": 5, "succeeded_tasks": succeeded, "failed_tasks": 5 - succeeded,
                       "timeout_tasks": 0, "cancelled_tasks": 0, "error_tasks": 0, "total_tokens": 1000, "total_retries": 0,
                       "success_rate": succeeded / 5, "total_execution_time": 10.0, "avg_execution_time": 2.0, "total_cost": 0.05},
        "task_results": tasks})


def fill(binary, bootstrap, decisions, partitions, keys, work):
    """DECISIONS decisions of the default rules (made by `score`) on the decisions topic, each workflow's on
    one partition."""
    runs = "\n".join(run_result(f"wf-{i % keys}", f"run-{i}", 3 + i % 3) for i in range(decisions)) + "\n"
    scored = subprocess.run([binary, "score"], input=runs.encode(), capture_output=True, check=True).stdout.splitlines()
    assert len(scored) == decisions, f"score made {len(scored)} decisions of {decisions}"
    per_partition = [[] for _ in range(partitions)]
    for line in scored:
        workflow = int(json.loads(line)["workflow_id"][3:])
        per_partition[workflow % partitions].append(line)
    for partition, lines in enumerate(per_partition):
        path = work / f"decisions-{partition}.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", "optimizer-decisions", "-p", str(partition), "-l", str(path)],
                       check=True, timeout=300)
    return sum(len(line) for line in scored)


def restart(binary, bootstrap, work, name, extra):
    """Runs the service until its state is restored, stops it; the restore's and the stop's log figures."""
    log_path = work / f"{name}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([binary, "run", "--bootstrap-servers", bootstrap, "--metrics-address", "off",
                                    *FAST_GROUP, *extra], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 600
        while "state restored" not in log_path.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()
            time.sleep(0.1)
        process.terminate()
        process.wait(timeout=60)
    text = log_path.read_text()
    restored = next(line for line in text.splitlines() if "state restored" in line)
    written = [line for line in text.splitlines() if "checkpoints written" in line]
    figure = lambda pattern, line: re.search(pattern, line).group(1)
    return {
        "decisions_read": int(figure(r"decisions_read=(\d+)", restored)),
        "seconds": float(figure(r"seconds=([\d.]+)", restored)),
        "checkpoint_bytes": sum(int(figure(r"bytes=(\d+)", line)) for line in written),
        "checkpoint_seconds": sum(float(figure(r"seconds=([\d.]+)", line)) for line in written),
    }


def summary(seconds, records):
    median = statistics.median(seconds)
    rate = f", {records / median:,.0f}/s" if records else ""
    return f"median {median:.3f} s{rate} (range {min(seconds):.3f}–{max(seconds):.3f} s, {len(seconds)} rounds)"


def main():
    binary = sys.argv[1]
    decisions, partitions, keys, rounds = (
        int(v) for v in (sys.argv[2:6] + ["200000", "64", "5000", "3"][len(sys.argv) - 2:]))
    broker = subprocess.Popen([binary, "mock-broker", "--partitions", str(partitions)], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
    bootstrap = broker.stdout.readline().decode().strip()
    try:
        with tempfile.TemporaryDirectory() as directory:
            work = Path(directory)
            started = time.monotonic()
            total_bytes = fill(binary, bootstrap, decisions, partitions, keys, work)
            print(f"{decisions} decisions ({total_bytes / decisions:.0f} bytes each) on {partitions} partitions "
                  f"in {time.monotonic() - started:.1f} s")
            times = []
            for _ in range(rounds):
                started = time.monotonic()
                read = subprocess.run(
                    ["kcat", "-C", "-b", bootstrap, "-t", "optimizer-decisions", "-o", "beginning", "-e", "-q",
                     "-X", "fetch.wait.max.ms=10", "-f", "%o\\n"], capture_output=True, check=True,
                    timeout=300).stdout.count(b"\n")
                assert read == decisions, read
                times.append(time.monotonic() - started)
            print(f"kcat reading them (no decoding): {summary(times, decisions)}", flush=True)
            for name, extra in (("no state directory", []), ("from checkpoints", ["--state-dir", str(work / "state")])):
                results = [restart(binary, bootstrap, work, f"{name.replace(' ', '-')}-{n}", extra)
                           for n in range(rounds + (1 if extra else 0))]
                if extra:
                    # The first start had no checkpoint yet: a full read, then the checkpoints written on stop.
                    first, results = results[0], results[1:]
                    print(f"first start with the state directory: {first['decisions_read']} decisions read in "
                          f"{first['seconds']:.3f} s; checkpoints written on stop: {first['checkpoint_bytes']:,} "
                          f"bytes in {first['checkpoint_seconds']:.3f} s", flush=True)
                read = sorted({r["decisions_read"] for r in results})
                print(f"{name}: {read} decisions read; {summary([r['seconds'] for r in results], max(read))}",
                      flush=True)
    finally:
        broker.terminate()
        broker.wait(timeout=10)


if __name__ == "__main__":
    main()
