"""Checkpoints (`run --state-dir`): a restart reads only the decisions written after its checkpoints, exactly
once holds whichever instance wrote decisions in between, and a `kill -9` in the middle of a checkpoint write
costs nothing but a longer restore."""
import os
import re
import time

from conftest import MockBroker, Service, producer, read_all, send, wait_for
from test_service import Stream, assert_exactly_once, lag_is_zero, run_result

PARTITIONS = 3


def restored_lines(service):
    """Each `state restored` line's (decisions read, partitions from a checkpoint)."""
    lines = [line for line in service.output().splitlines() if "state restored" in line]
    return [(int(re.search(r"decisions_read=(\d+)", line).group(1)),
             re.search(r"from_checkpoint=\[([\d, ]*)\]", line).group(1)) for line in lines]


def send_runs(bootstrap, first, count):
    prod = producer(bootstrap)
    runs = set()
    for i in range(first, first + count):
        workflow = f"wf-{i % 11}"
        send(prod, [(workflow.encode(), run_result(workflow, f"run-{i}"))])
        runs.add((workflow, f"run-{i}"))
    prod.close()
    return runs


def decisions_on_topic(bootstrap):
    return len(read_all(bootstrap, "optimizer-decisions", PARTITIONS))


def test_a_restart_with_its_checkpoints_reads_only_the_tail(tmp_path):
    broker = MockBroker(partitions=PARTITIONS)
    state = tmp_path / "state"
    try:
        first = Service(broker.bootstrap, tmp_path, name="first", extra=["--state-dir", str(state)])
        valid = send_runs(broker.bootstrap, 0, 300)
        wait_for(lambda: decisions_on_topic(broker.bootstrap) == 300, 60, first.output)
        assert first.terminate() == 0, first.output()
        assert "checkpoints written" in first.output() and "reason=stop" in first.output(), first.output()
        assert sorted(os.listdir(state)) == [f"executor-results-{p}.checkpoint" for p in range(PARTITIONS)]

        # After a clean stop: no decision is read back, every partition starts from its checkpoint.
        second = Service(broker.bootstrap, tmp_path, name="second", extra=["--state-dir", str(state)])
        lines = restored_lines(second)
        assert sum(read for read, _ in lines) == 0, second.output()
        assert sorted(int(p) for _, parts in lines for p in parts.split(",") if p.strip()) == list(range(PARTITIONS))
        assert second.metric("optimizer_decider_restored_decisions_total") == 0
        assert second.terminate() == 0

        # Another instance, without the directory, decides 200 more runs meanwhile.
        other = Service(broker.bootstrap, tmp_path, name="other")
        valid |= send_runs(broker.bootstrap, 300, 200)
        wait_for(lambda: decisions_on_topic(broker.bootstrap) == 500, 60, other.output)
        assert other.terminate() == 0

        # The restart reads exactly those 200 (the tail after its checkpoints), and exactly once holds:
        # every run sent again is a duplicate, whoever decided it.
        third = Service(broker.bootstrap, tmp_path, name="third", extra=["--state-dir", str(state)])
        assert sum(read for read, _ in restored_lines(third)) == 200, third.output()
        assert third.metric("optimizer_decider_restored_decisions_total") == 200
        send_runs(broker.bootstrap, 0, 500)
        wait_for(lambda: third.metric("optimizer_decider_duplicates_total") == 500, 60, third.output)
        assert decisions_on_topic(broker.bootstrap) == 500
        assert_exactly_once(broker.bootstrap, valid, 0)
        assert third.terminate() == 0
    finally:
        broker.stop()


def test_kill_minus_nine_during_a_checkpoint_write_costs_only_a_longer_restore(tmp_path):
    broker = MockBroker(partitions=PARTITIONS)
    state = tmp_path / "state"
    extra = ["--state-dir", str(state), "--checkpoint-interval", "0.05"]
    try:
        stream = Stream(broker.bootstrap, 20000)
        victim = Service(broker.bootstrap, tmp_path, name="victim", extra=extra)
        wait_for(lambda: victim.metric("optimizer_decider_decisions_total") > 200, 60, victim.output)
        # The moment: a checkpoint's temporary file exists, so a write is under way when the kill lands.
        deadline = time.monotonic() + 60
        caught = None
        while caught is None and time.monotonic() < deadline:
            caught = next((name for name in os.listdir(state) if ".checkpoint.tmp-" in name), None)
        assert caught, f"no checkpoint write seen in 60 s:\n{victim.output()}"
        victim.kill()
        assert caught in os.listdir(state), "the write was cut off by the kill"
        survivor = Service(broker.bootstrap, tmp_path, name="survivor", extra=extra, wait_ready=False)
        survivor.wait_ready(timeout=120)
        assert caught not in os.listdir(state), "the cut-off write's temporary file is removed at startup"
        stream.halt()
        valid, bad = stream.join()
        wait_for(lambda: lag_is_zero(broker.bootstrap), 90, survivor.output)
        # The checkpoint the cut-off write would have replaced is still whole: loaded, not ignored.
        assert "checkpoint of partition" not in survivor.output(), survivor.output()
        assert restored_lines(survivor) and all(parts for _, parts in restored_lines(survivor)), survivor.output()
        assert_exactly_once(broker.bootstrap, valid, bad)
        assert survivor.terminate() == 0
    finally:
        broker.stop()


def test_each_bad_checkpoint_is_named_in_one_line_and_read_in_full(tmp_path):
    """Missing, truncated and corrupted (one partition each), then foreign rules, then out of range (a new
    cluster whose topics are empty): each is named in one log line, never trusted, and the partition is read
    in full; exactly once holds throughout."""
    broker = MockBroker(partitions=PARTITIONS)
    state = tmp_path / "state"
    extra = ["--state-dir", str(state)]
    try:
        first = Service(broker.bootstrap, tmp_path, name="first", extra=extra)
        valid = send_runs(broker.bootstrap, 0, 90)
        wait_for(lambda: decisions_on_topic(broker.bootstrap) == 90, 60, first.output)
        assert first.terminate() == 0
        on_partition = {p: len([r for r in read_all(broker.bootstrap, "optimizer-decisions", PARTITIONS) if r.partition == p])
                        for p in range(PARTITIONS)}
        files = {p: state / f"executor-results-{p}.checkpoint" for p in range(PARTITIONS)}
        files[0].unlink()
        whole = files[1].read_bytes()
        files[1].write_bytes(whole[: len(whole) // 2])
        flipped = bytearray(files[2].read_bytes())
        flipped[len(flipped) // 2] ^= 0xFF
        files[2].write_bytes(bytes(flipped))

        second = Service(broker.bootstrap, tmp_path, name="second", extra=extra)
        log = second.output()
        assert log.count("no checkpoint for partitions [0]") == 1, log
        assert len(re.findall(r"checkpoint of partition 1 ignored, restoring it in full: truncated: \d+ of its \d+ bytes", log)) == 1, log
        assert len(re.findall(r"checkpoint of partition 2 ignored, restoring it in full: corrupted: its checksum does not match", log)) == 1, log
        assert sum(read for read, _ in restored_lines(second)) == 90, "every partition read in full"
        send_runs(broker.bootstrap, 0, 90)
        wait_for(lambda: second.metric("optimizer_decider_duplicates_total") == 90, 60, second.output)
        assert second.terminate() == 0  # writes whole checkpoints again

        rules = tmp_path / "rules.yaml"
        rules.write_text("optimization_threshold: 75\n")
        third = Service(broker.bootstrap, tmp_path, name="third", extra=extra + ["--rules", str(rules)])
        log = third.output()
        for p in range(PARTITIONS):
            assert len(re.findall(rf"checkpoint of partition {p} ignored, restoring it in full: foreign: written for rules sha256:a68eeab32a5ca2e4, not sha256:", log)) == 1, log
        assert third.terminate() == 0
        assert decisions_on_topic(broker.bootstrap) == 90
        assert_exactly_once(broker.bootstrap, valid, 0)
    finally:
        broker.stop()

    # The same directory and rules on a new cluster: the checkpoints (the third instance's, of the same rules)
    # cover offsets its empty topics do not have.
    broker = MockBroker(partitions=PARTITIONS)
    try:
        fourth = Service(broker.bootstrap, tmp_path, name="fourth", extra=extra + ["--rules", str(rules)])
        log = fourth.output()
        for p in range(PARTITIONS):
            pattern = (rf"checkpoint of partition {p} ignored, restoring it in full: out of range: it covers optimizer-decisions "
                       rf"up to offset {on_partition[p]}, beyond its end 0")
            assert len(re.findall(pattern, log)) == 1, log
        assert "state restored" in log and all(parts == "" for _, parts in restored_lines(fourth)), log
        valid = send_runs(broker.bootstrap, 0, 30)
        wait_for(lambda: decisions_on_topic(broker.bootstrap) == 30, 60, fourth.output)
        assert fourth.terminate() == 0
        assert_exactly_once(broker.bootstrap, valid, 0)
    finally:
        broker.stop()
