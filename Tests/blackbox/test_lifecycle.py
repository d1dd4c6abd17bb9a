"""Stops that always end (the service on swift-service-lifecycle): SIGTERM in every phase of an instance's
life, each trial proving it reached its moment (from the service's own log) before the signal, each stop
asserted to exit 0 within the budget (10 s, plus the half second the process allows past it), and exactly one
decision per valid run once a survivor has finished. Trials per phase: LIFECYCLE_TRIALS (default 2, random
timing, seeded by LIFECYCLE_SEED); worst stop times are printed for RELIABILITY.md."""
import os
import random
import signal
import subprocess
import time

from conftest import FAST_GROUP, MockBroker, Service, binary, broker, free_port, producer, send, wait_for
from test_service import Stream, assert_exactly_once, finish_and_check_exactly_once, lag_is_zero, run_result, two_instances_deciding

TRIALS = int(os.environ.get("LIFECYCLE_TRIALS", "2"))
RNG = random.Random(int(os.environ.get("LIFECYCLE_SEED", str(time.time_ns()))))
BUDGET = 10.0
# The process ends itself (exit 124) half a second past the budget; a clean stop ends before that.
LIMIT = BUDGET + 0.5
WORST = {}


def stop(service, phase, sig=signal.SIGTERM):
    """Signals the service and waits for it; returns (exit code, seconds), recording the worst per phase."""
    started = time.monotonic()
    service.process.send_signal(sig)
    try:
        code = service.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        service.kill()
        raise AssertionError(f"{phase}: still running 30 s after the signal\n{service.output()[-3000:]}")
    took = time.monotonic() - started
    WORST[phase] = max(WORST.get(phase, 0.0), took)
    print(f"\nstop [{phase}]: exit {code} in {took:.2f} s")
    return code, took


def assert_clean_stop(service, phase):
    code, took = stop(service, phase)
    assert code == 0, f"{phase}: exit {code}\n{service.output()[-3000:]}"
    assert took < LIMIT, f"{phase}: the stop took {took:.2f} s\n{service.output()[-3000:]}"


def wait_for_log(service, text, timeout=60):
    wait_for(lambda: text in service.output(), timeout, lambda: f"never logged {text!r}:\n{service.output()[-3000:]}")


def deciding_with_the_brokers_gone(tmp_path, name, extra):
    """A service that decided 50 runs, whose brokers are then killed: its stop's commit and group leave
    can only wait out their deadlines (the slowest stop there is)."""
    broker = MockBroker()
    service = Service(broker.bootstrap, tmp_path, name=name, extra=extra)
    send(producer(broker.bootstrap), [(b"wf", run_result("wf", f"run-{i}")) for i in range(50)])
    wait_for(lambda: service.metric("optimizer_decider_decisions_total") >= 50, 60, service.output)
    broker.process.kill()
    broker.process.wait()
    return service


def test_sigterm_while_the_brokers_are_unreachable(tmp_path):
    closed = free_port()
    for trial in range(TRIALS):
        service = Service(f"127.0.0.1:{closed}", tmp_path, name=f"unreachable{trial}", wait_ready=False)
        wait_for_log(service, "serving /metrics")
        time.sleep(RNG.uniform(0.2, 2.5))
        assert "starting" not in service.output(), "the moment: no broker has answered yet"
        assert_clean_stop(service, "brokers unreachable at startup")
        assert "stopped before the brokers answered" in service.output()


def test_sigterm_during_the_group_join_before_the_first_assignment(broker, tmp_path):
    # librdkafka 2.0.2 aborts when a cooperative-sticky member is destroyed between its JoinGroup and its
    # first assignment (#4312). The mock holds an empty group's join about 3 s: every trial lands in it.
    # With debug=cgrp the log shows when the JoinGroup response arrived, so trials that hit the narrowest
    # window (response in, assignment not yet applied) are counted.
    before_assignment = after_join_response = 0
    for trial in range(max(3, TRIALS * 2)):
        service = Service(broker.bootstrap, tmp_path, name=f"join{trial}", wait_ready=False,
                          extra=["--kafka-option", "debug=cgrp", "--log-level", "debug", "--group-id", f"join-{trial}"])
        wait_for_log(service, "Joining group")
        if trial % 2 == 0:
            # The mock holds an empty group's join about 3 s; measured: every such trial landed before it.
            time.sleep(RNG.uniform(0.0, 1.5))
        else:
            # As soon as the JoinGroup response is logged: the assignment follows within milliseconds,
            # so this trial may land on either side of it.
            wait_for(lambda: "JoinGroup response" in service.output(), 60, service.output)
        assert_clean_stop(service, "group join, before the first assignment")
        log = service.output()
        assert "Assertion" not in log
        signalled = log.index("received SIGTERM")
        if "partitions assigned" not in log[:signalled]:
            before_assignment += 1
            after_join_response += "JoinGroup response" in log[:signalled]
    print(f"\n{before_assignment} trials stopped before the first assignment, {after_join_response} of them after the JoinGroup response")
    assert before_assignment >= 1, "the moment: at least one stop before the first assignment"


def fill_one_record_per_batch(bootstrap, topic, key, value, count=12000):
    """`count` records over 3 partitions, one per record batch: with SLOW_RESTORE a reader fetches them
    one at a time, so reading them all takes seconds (a moment a signal can land in)."""
    from kafka import KafkaProducer
    prod = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0, batch_size=1)
    for i in range(count):
        prod.send(topic, key=key, value=value, partition=i % 3)
    prod.flush()


def fill_decisions_topic(bootstrap):
    """Records on the decisions topic (of another schema, skipped), for a restore that takes seconds."""
    fill_one_record_per_batch(bootstrap, "optimizer-decisions", b"k", b'{"schema":"other","pad":"' + b"x" * 900 + b'"}')


# Fetches of one record batch each make the restore of 12,000 records take about 2 s on the mock.
SLOW_RESTORE = ["--kafka-option", "fetch.message.max.bytes=1000", "--kafka-option", "fetch.max.bytes=1000",
                "--kafka-option", "message.max.bytes=1000", "--kafka-option", "receive.message.max.bytes=2000"]


def test_sigterm_during_state_restore(broker, tmp_path):
    fill_decisions_topic(broker.bootstrap)
    for trial in range(TRIALS):
        service = Service(broker.bootstrap, tmp_path, name=f"restore{trial}", wait_ready=False,
                          extra=SLOW_RESTORE + ["--group-id", f"restore-{trial}"])
        wait_for_log(service, "partitions assigned")
        time.sleep(RNG.uniform(0.0, 0.5))
        assert "state restored" not in service.output(), "the moment: the restore is under way"
        assert_clean_stop(service, "state restore")
        assert "abandoned: stopping" in service.output()


# librdkafka's group debug log: the instance's own record of where it is in a rebalance.
CGRP_DEBUG = ["--kafka-option", "debug=cgrp", "--log-level", "debug"]


def wait_until_rejoin_pending(service, since):
    """Waits until the instance's own log, after offset `since`, shows it sent a JoinGroup (the rebalance
    has reached it), and returns the log offset to check from."""
    wait_for(lambda: "-> wait-join" in service.output()[since:], 30, lambda: service.output()[-3000:])
    return since


def assert_rejoin_still_pending(service, since):
    """The moment: the last JoinGroup the instance sent after `since` has no answer yet."""
    log = service.output()[since:]
    assert "JoinGroup response" not in log[log.rindex("-> wait-join"):], "the moment: the rejoin is still pending"


def test_sigterm_during_the_rebalance_a_scale_in_started(tmp_path):
    """Two instances; one stops; while the group rebalances after its departure, the other is stopped."""
    for trial in range(TRIALS):
        broker = MockBroker()
        try:
            first, second, stream = two_instances_deciding(broker.bootstrap, tmp_path, survivor_extra=CGRP_DEBUG)
            left_at = len(second.output())
            assert_clean_stop(first, "scale-in: the instance leaving")
            # The survivor rejoins; the mock holds the rejoin up to session.timeout.ms − 1 s (5 s here).
            wait_until_rejoin_pending(second, left_at)
            time.sleep(RNG.uniform(0.2, 2.0))
            assert_rejoin_still_pending(second, left_at)
            assert_clean_stop(second, "rebalance after a scale-in")
            assert_clean_stop(finish_and_check_exactly_once(broker.bootstrap, tmp_path, stream), "steady state")
        finally:
            broker.stop()


DEFAULT_TRIALS = int(os.environ.get("LIFECYCLE_DEFAULT_TRIALS", str(TRIALS)))


def two_default_instances_ready(tmp_path, trial, attempts=3):
    """Two instances with the default settings, both in the empty group's first generation (the mock holds it
    ~3 s), both ready. The survivor is started first and the leaver once the survivor has sent its JoinGroup,
    so that the survivor is the first member and so the leader (the mock elects the first). Why: the mock
    (librdkafka 2.0.2) completes a generation as soon as the leader's SyncGroup brings every assignment, and
    answers a follower's SyncGroup that comes later "Invalid request"; the follower then rejoins and waits out
    a 44 s hold, again and again (three attempts of 100 s in a row on CI, 2026-12-07). The survivor logs the
    group's debug lines on librdkafka's main thread between its JoinGroup answer and its SyncGroup, so as a
    follower it was the slower one; as the leader, its slowness only gives the follower more time. Should it
    still happen, the attempt is abandoned after 100 s and made again on a fresh broker."""
    for attempt in range(attempts):
        broker = MockBroker()
        survivor = Service(broker.bootstrap, tmp_path, name=f"survivor{trial}-{attempt}", group=(), wait_ready=False,
                           extra=CGRP_DEBUG)
        wait_for(lambda: "-> wait-join" in survivor.output(), 10, lambda: "no JoinGroup from the survivor in 10 s")
        leaver = Service(broker.bootstrap, tmp_path, name=f"leaver{trial}-{attempt}", group=(), wait_ready=False)
        try:
            survivor.wait_ready(timeout=100)
            leaver.wait_ready(timeout=100)
            return broker, survivor, leaver
        except AssertionError:
            syncs_refused = survivor.output().count("SyncGroup response: Broker: Invalid request")
            print(f"\nattempt {attempt}: not ready after 100 s, {syncs_refused} SyncGroup answers 'Invalid request'; again")
            survivor.kill()
            leaver.kill()
            broker.stop()
            if attempt == attempts - 1:
                raise


def test_a_scale_in_then_a_stop_with_the_default_settings(tmp_path):
    """What a new user meets (the default 45 s session): two instances decide, one stops, and while the
    survivor's rejoin is held by the coordinator (the mock holds it about the session timeout; a real
    broker until every member rejoins) the survivor is stopped. Its commit cannot land (a pending JoinGroup
    holds every later request to the coordinator), yet it must exit 0 within the budget, and a finisher
    must then find exactly one decision per run. Trials: LIFECYCLE_DEFAULT_TRIALS (default LIFECYCLE_TRIALS)."""
    for trial in range(DEFAULT_TRIALS):
        broker, survivor, leaver = two_default_instances_ready(tmp_path, trial)
        try:
            stream = Stream(broker.bootstrap, 200)
            wait_for(lambda: all(s.metric("optimizer_decider_messages_consumed_total") > 0 for s in (survivor, leaver)), 60,
                     survivor.output)
            left_at = len(survivor.output())
            assert_clean_stop(leaver, "default settings: the instance leaving")
            # The moment: the survivor has sent its JoinGroup for the rebalance the departure started, and
            # the coordinator has not answered it.
            wait_until_rejoin_pending(survivor, left_at)
            time.sleep(RNG.uniform(0.5, 3.0))
            assert_rejoin_still_pending(survivor, left_at)
            signalled_at = len(survivor.output())
            assert survivor.metric("optimizer_decider_assigned_partitions") < 3, "the departed partitions are not yet taken over"
            assert_clean_stop(survivor, "default settings: rebalance after a scale-in")
            assert "stopped cleanly" in survivor.output()[signalled_at:]
            # The survivor's member stays in the group until its 45 s session expires (its pending JoinGroup
            # could not be left), and the mock then gave a new member of that group no assignment within
            # 180 s. So the finisher reads in a group of its own, from the beginning: every run already
            # decided must come back a duplicate, and the rest be decided once.
            finisher = finish_and_check_exactly_once(broker.bootstrap, tmp_path, stream, name=f"finisher{trial}",
                                                     group=f"finisher-{trial}")
            assert_clean_stop(finisher, "default settings: steady state")
        finally:
            broker.stop()


def test_sigterm_during_the_rebalance_a_scale_out_started(tmp_path):
    """One instance decides; a second one joins; while the rebalance its arrival started is under way (the
    first's own log shows its rejoin unanswered, the newcomer has no partitions), the first is stopped."""
    for trial in range(TRIALS):
        broker = MockBroker()
        try:
            stream = Stream(broker.bootstrap, 300)
            first = Service(broker.bootstrap, tmp_path, name="first", extra=CGRP_DEBUG)
            wait_for(lambda: first.metric("optimizer_decider_decisions_total") > 0, 60, first.output)
            joined_at = len(first.output())
            second = Service(broker.bootstrap, tmp_path, name="second", wait_ready=False)
            wait_for_log(second, "starting")
            wait_until_rejoin_pending(first, joined_at)
            time.sleep(RNG.uniform(0.0, 1.5))
            assert_rejoin_still_pending(first, joined_at)
            assert "partitions assigned" not in second.output(), "the moment: the newcomer's join is under way"
            assert_clean_stop(first, "rebalance after a scale-out")
            # The newcomer, now alone, finishes the stream.
            valid, bad = stream.join()
            second.wait_ready(timeout=90)
            wait_for(lambda: lag_is_zero(broker.bootstrap), 90, second.output)
            assert_exactly_once(broker.bootstrap, valid, bad)
            assert_clean_stop(second, "steady state")
        finally:
            broker.stop()


def test_sigterm_to_every_instance_at_once_under_load(tmp_path):
    for trial in range(TRIALS):
        broker = MockBroker()
        try:
            *instances, stream = two_instances_deciding(broker.bootstrap, tmp_path, count=400)
            for service in instances:
                service.process.send_signal(signal.SIGTERM)
            started = time.monotonic()
            for service in instances:
                code = service.process.wait(timeout=30)
                took = time.monotonic() - started
                WORST["all instances at once"] = max(WORST.get("all instances at once", 0.0), took)
                assert code == 0 and took < LIMIT, f"exit {code} after {took:.2f} s\n{service.output()[-3000:]}"
            assert_clean_stop(finish_and_check_exactly_once(broker.bootstrap, tmp_path, stream), "steady state")
        finally:
            broker.stop()


def test_a_second_signal_during_a_stop_exits_at_once(tmp_path):
    # With the brokers gone, the stop's commit and group leave wait out their deadlines: a slow stop.
    service = deciding_with_the_brokers_gone(tmp_path, "twice", [])
    service.process.send_signal(signal.SIGTERM)
    wait_for_log(service, "stopping:")
    time.sleep(0.3)
    assert "stopped cleanly" not in service.output(), "the moment: the stop is still under way"
    started = time.monotonic()
    service.process.send_signal(signal.SIGTERM)
    code = service.process.wait(timeout=10)
    assert code == 128 + signal.SIGTERM, service.output()[-2000:]
    took = time.monotonic() - started
    print(f"\nsecond signal: exit {code} in {took:.3f} s")
    # "Exits at once" (README, Stopping): the bound leaves a wide margin over the 8 ms measured here.
    assert took < 1.0, took
    assert "again while stopping" in service.output()


def test_a_stop_with_the_brokers_gone_still_ends_within_the_budget(tmp_path):
    for trial in range(TRIALS):
        assert_clean_stop(deciding_with_the_brokers_gone(tmp_path, f"orphan{trial}", []), "brokers gone")


def test_a_short_stop_timeout_is_kept_with_exit_0(tmp_path):
    service = deciding_with_the_brokers_gone(tmp_path, "short-budget", ["--stop-timeout", "2"])
    code, took = stop(service, "--stop-timeout 2, brokers gone")
    assert code == 0, service.output()[-3000:]
    # The budget is 2 s; the process ends itself 0.5 s past it, so a clean stop is within 2.5 s.
    assert took < 2.5, f"the stop took {took:.2f} s\n{service.output()[-3000:]}"
    assert "stopping within 2.0 seconds" in service.output() and "stopped cleanly" in service.output()


def test_a_stop_that_outlives_its_budget_exits_124_naming_the_step(tmp_path):
    """The process is paused (SIGSTOP, as a starved or frozen pod would be) in the middle of its stop for
    longer than the budget: it must end with 124 and name the step that did not finish in time."""
    service = deciding_with_the_brokers_gone(tmp_path, "overrun", ["--stop-timeout", "2"])
    service.process.send_signal(signal.SIGTERM)
    wait_for_log(service, "stopping:")
    service.process.send_signal(signal.SIGSTOP)
    time.sleep(3.5)
    assert "stopped cleanly" not in service.output(), "the moment: paused before the stop ended"
    service.process.send_signal(signal.SIGCONT)
    code = service.process.wait(timeout=30)
    log = service.output()
    assert code == 124, f"exit {code}\n{log[-3000:]}"
    steps = ("waiting for outputs in flight", "committing delivered offsets", "leaving the group", "closing the producer")
    line = next(line for line in log.splitlines() if "exiting with 124" in line)
    assert "stop budget of 2.0 seconds exceeded" in line and any(step in line for step in steps), line
    assert "stopped cleanly" not in log


def teardown_module(module):
    if WORST:
        print("\nworst stop per phase (s): " + ", ".join(f"{phase}: {seconds:.2f}" for phase, seconds in sorted(WORST.items())))
