"""A restore in progress shows: per partition records read and records left in /metrics, and /readyz's body
names the partitions restoring and the records left to read, while a restore of 300,000 records runs."""
import re
import subprocess
import time

from conftest import MockBroker, Service

PARTITIONS = 6
PER_PARTITION = 50_000


def fill_decisions_topic(bootstrap, tmp_path):
    """50,000 small records on each partition of the decisions topic (not decisions: the restore reads every
    record back and passes over what is not a decision of its rules, so each counts as read)."""
    lines = tmp_path / "records.txt"
    lines.write_text("".join(f"not-a-decision-{n}\n" for n in range(PER_PARTITION)))
    for partition in range(PARTITIONS):
        subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", "optimizer-decisions", "-p", str(partition), "-l", str(lines)],
                       check=True, timeout=120)


def restore_metrics(text):
    read = {int(p): float(v) for p, v in re.findall(r'^optimizer_decider_restore_records_total\{partition="(\d+)"\} (\S+)$', text, re.M)}
    left = {int(p): float(v) for p, v in re.findall(r'^optimizer_decider_restore_remaining_records\{partition="(\d+)"\} (\S+)$', text, re.M)}
    return read, left


def test_a_restore_in_progress_shows_in_metrics_and_readyz(tmp_path):
    broker = MockBroker(partitions=PARTITIONS)
    try:
        fill_decisions_topic(broker.bootstrap, tmp_path)
        service = Service(broker.bootstrap, tmp_path, wait_ready=False)
        seen_body, seen_left = None, None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert service.process.poll() is None, service.output()
            try:
                status, body = service.get("/readyz")
                _, text = service.get("/metrics")
            except OSError:
                time.sleep(0.05)
                continue
            if status == 200:
                break
            if "records left to read" in body and seen_body is None:
                seen_body = body.strip()
            _, left = restore_metrics(text)
            if sum(left.values()) > 0 and seen_left is None:
                seen_left = left
            time.sleep(0.05)
        assert service.get("/readyz")[0] == 200, f"never ready:\n{service.output()}"
        # The moment was met: a restore was seen under way, in both places.
        assert seen_body, "/readyz never named the records left while restoring"
        match = re.fullmatch(r"not ready: restoring partitions \[([\d, ]+)\], (\d+) records left to read", seen_body)
        assert match, seen_body
        assert 0 < int(match.group(2)) <= PARTITIONS * PER_PARTITION
        assert seen_left and all(0 <= v <= PER_PARTITION for v in seen_left.values()), seen_left
        # Once ready: every record read back, none left.
        read, left = restore_metrics(service.get("/metrics")[1])
        assert read == {p: PER_PARTITION for p in range(PARTITIONS)}, read
        assert left == {p: 0 for p in range(PARTITIONS)}, left
        assert service.metric("optimizer_decider_restored_decisions_total") == PARTITIONS * PER_PARTITION
        assert service.terminate() == 0
    finally:
        broker.stop()
