"""`optimizer-decider replay`: backfills on a mock-broker process, beside a live `run`."""
import collections
import json

from conftest import broker, Service, json_lines, producer, read_all, run_cli, send, wait_for
from test_service import SAMPLE, Stream, lag_is_zero, workflow_key

NEW_RULES = "max_acceptable_latency_ms: 7000\n"


def by_fingerprint(bootstrap):
    counts = collections.defaultdict(collections.Counter)
    for record in read_all(bootstrap, "optimizer-decisions"):
        decision = json.loads(record.value)
        assert record.partition == decision["source"]["partition"]
        counts[decision["rules_fingerprint"]][(decision["workflow_id"], decision["run_id"])] += 1
    return counts


def replay(bootstrap, *args, timeout=120):
    return run_cli("replay", "--bootstrap-servers", bootstrap, "--log-level", "notice", *args, timeout=timeout)


def decide_sample_live(bootstrap, tmp_path):
    service = Service(bootstrap, tmp_path)
    send(producer(bootstrap), [(workflow_key(line), line.encode()) for line in SAMPLE])
    wait_for(lambda: service.metric("optimizer_decider_messages_consumed_total") >= len(SAMPLE), 60, service.output)
    assert service.terminate() == 0
    return by_fingerprint(bootstrap)


def test_full_replay_with_unchanged_rules_writes_nothing_and_new_rules_one_per_run(broker, tmp_path):
    before = decide_sample_live(broker.bootstrap, tmp_path)
    [original] = before.values()
    assert len(original) == 5
    result = replay(broker.bootstrap, "--from", "beginning")
    assert result.returncode == 0, result.stderr
    assert b"replay finished: 12 of 12 records" in result.stderr
    assert b"wrote 0 decisions, skipped 6 duplicates, 6 dead letters" in result.stderr
    assert by_fingerprint(broker.bootstrap) == before
    rules = tmp_path / "rules.yaml"
    rules.write_text(NEW_RULES)
    result = replay(broker.bootstrap, "--from", "beginning", "--rules", str(rules))
    assert b"wrote 5 decisions, skipped 1 duplicates, 6 dead letters" in result.stderr, result.stderr
    after = by_fingerprint(broker.bootstrap)
    assert len(after) == 2 and all(set(c) == set(original) and set(c.values()) == {1} for c in after.values())
    # Again with the new rules: their decisions are restored too, so nothing doubles.
    result = replay(broker.bootstrap, "--from", "beginning", "--rules", str(rules))
    assert b"wrote 0 decisions" in result.stderr
    assert by_fingerprint(broker.bootstrap) == after
    # Dead letters are counted, not copied again, unless asked.
    assert len(read_all(broker.bootstrap, "executor-results.dlq")) == 6


def test_offset_ranges_dry_run_and_progress_lines(broker, tmp_path):
    decide_sample_live(broker.bootstrap, tmp_path)
    rules = tmp_path / "rules.yaml"
    rules.write_text(NEW_RULES)
    # A range around decided runs of one partition: exactly their decisions are printed, nothing else.
    decided = [json.loads(r.value)["source"] for r in read_all(broker.bootstrap, "optimizer-decisions")]
    partition = collections.Counter(s["partition"] for s in decided).most_common(1)[0][0]
    offsets = sorted(s["offset"] for s in decided if s["partition"] == partition)
    first, last = offsets[0], offsets[-1]
    result = replay(broker.bootstrap, "--from", f"{partition}:{first}", "--until", f"{partition}:{last + 1}", "--rules", str(rules),
                    "--dry-run", "--progress-interval", "0.05")
    assert result.returncode == 0, result.stderr
    printed = json_lines(result.stdout)
    assert sorted(d["source"]["offset"] for d in printed) == offsets
    assert all(d["source"]["partition"] == partition for d in printed)
    assert b"replay: " in result.stderr and b"records" in result.stderr, "plain progress lines off a terminal"
    assert b"would write" in result.stderr
    assert len(by_fingerprint(broker.bootstrap)) == 1, "a dry run writes nothing"
    bad = replay(broker.bootstrap, "--from", "7:0")
    assert bad.returncode != 0 and b"partition 7 does not exist" in bad.stderr
    bad = replay(broker.bootstrap, "--from", "yesterday")
    assert bad.returncode != 0 and b"is not beginning, end, an RFC 3339 time" in bad.stderr


def test_time_positions_fall_back_when_the_broker_cannot_look_up_times(broker, tmp_path):
    decide_sample_live(broker.bootstrap, tmp_path)
    rules = tmp_path / "rules.yaml"
    rules.write_text(NEW_RULES)
    result = replay(broker.bootstrap, "--from", "2000-01-01T00:00:00Z", "--rules", str(rules), "--dry-run")
    assert b"cannot look up offsets" in result.stderr
    assert len(json_lines(result.stdout)) == 5
    # An end time before every record: read to the end, everything skipped, nothing decided.
    result = replay(broker.bootstrap, "--from", "beginning", "--until", "2000-01-01T00:00:00Z", "--rules", str(rules), "--dry-run")
    assert json_lines(result.stdout) == []
    assert b"12 records outside the time range" in result.stderr
    # A start time after the last record: the broker's "none" is consistent with the data, nothing to do.
    result = replay(broker.bootstrap, "--from", "2999-01-01T00:00:00Z", "--rules", str(rules), "--dry-run")
    assert json_lines(result.stdout) == [] and b"0 of 0 records" in result.stderr


def test_replay_beside_a_live_run_doubles_nothing(broker, tmp_path):
    live = Service(broker.bootstrap, tmp_path, name="live")
    stream = Stream(broker.bootstrap, 200)
    rules = tmp_path / "rules.yaml"
    rules.write_text(NEW_RULES)
    wait_for(lambda: live.metric("optimizer_decider_messages_consumed_total") > 50, 60, live.output)
    first = replay(broker.bootstrap, "--from", "beginning", "--rules", str(rules))
    assert first.returncode == 0, first.stderr
    valid, _ = stream.join()
    wait_for(lambda: lag_is_zero(broker.bootstrap), 60, live.output)
    second = replay(broker.bootstrap, "--from", "beginning", "--rules", str(rules))
    assert second.returncode == 0, second.stderr
    counts = by_fingerprint(broker.bootstrap)
    assert len(counts) == 2
    for fingerprint, runs in counts.items():
        assert set(runs) == valid, fingerprint
        assert set(runs.values()) == {1}, f"doubled under {fingerprint}"
    assert "partitions revoked" not in live.output(), "the replay never disturbed the live group"
    assert live.terminate() == 0


def test_replay_with_the_live_rules_beside_a_live_run_is_capped_at_its_commits(broker, tmp_path):
    """The same rules as the live service: the replay's end is capped at the live group's committed offsets,
    so the two never decide the same run; every run ends with exactly one decision."""
    live = Service(broker.bootstrap, tmp_path, name="live")
    stream = Stream(broker.bootstrap, 400)
    wait_for(lambda: live.metric("optimizer_decider_messages_consumed_total") > 50 and lag_is_committed(broker.bootstrap), 60, live.output)
    # The moment: the live service has committed some offsets and the stream still flows.
    assert not stream.done.is_set()
    result = replay(broker.bootstrap, "--from", "beginning")
    assert result.returncode == 0, result.stderr
    assert b"capped at the committed offsets of the live group" in result.stderr, result.stderr
    valid, _ = stream.join()
    wait_for(lambda: lag_is_zero(broker.bootstrap), 60, live.output)
    [runs] = by_fingerprint(broker.bootstrap).values()
    assert set(runs) == valid and set(runs.values()) == {1}
    assert live.terminate() == 0


def lag_is_committed(bootstrap):
    """The live group has committed at least one offset."""
    from kafka import KafkaConsumer, TopicPartition
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id="optimizer-decider", enable_auto_commit=False)
    committed = [consumer.committed(TopicPartition("executor-results", p)) for p in range(3)]
    consumer.close(autocommit=False)
    return any(c for c in committed)



def test_replay_writing_dead_letters_writes_none_the_live_run_wrote(broker, tmp_path):
    # With as many DLQ partitions as input partitions (the mock broker's topics), the replay reads the dead
    # letters back like the live service and writes only those not on the DLQ yet: here, none.
    decide_sample_live(broker.bootstrap, tmp_path)
    before = read_all(broker.bootstrap, "executor-results.dlq")
    assert len(before) == 6
    result = replay(broker.bootstrap, "--from", "beginning", "--write-dead-letters")
    assert result.returncode == 0, result.stderr
    assert b"replay finished: 12 of 12 records" in result.stderr and b"6 dead letters" in result.stderr
    after = read_all(broker.bootstrap, "executor-results.dlq")
    assert sorted((r.partition, r.offset) for r in after) == sorted((r.partition, r.offset) for r in before)
