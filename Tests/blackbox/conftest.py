"""Shared helpers for the black-box tests: they drive the built executable as a user would."""
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"


def binary() -> str:
    path = os.environ.get("OPTIMIZER_DECIDER_BIN", str(ROOT / ".build" / "debug" / "optimizer-decider"))
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: run `swift build` first (scripts/test does)")
    return path


def run_cli(*args, input_bytes=None, timeout=60):
    return subprocess.run([binary(), *args], input=input_bytes, capture_output=True, timeout=timeout)


def json_lines(data: bytes):
    return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


def schema(name: str):
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text())


# jsonschema checks `date-time` only with the rfc3339-validator package, which Debian 12 does not ship; without
# it every date-time passes unchecked. This checker implements RFC 3339's date-time (section 5.6) instead.
import datetime
import re

import jsonschema

FORMAT = jsonschema.FormatChecker()
RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@FORMAT.checks("date-time", raises=ValueError)
def rfc3339_date_time(value):
    if not isinstance(value, str):
        return True
    match = RFC3339.match(value)
    if not match:
        raise ValueError(f"{value!r} is not an RFC 3339 date-time")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    datetime.date(year, month, day)  # raises for a day the month does not have
    if hour > 23 or minute > 59 or second > 60:
        raise ValueError(f"{value!r} has a time out of range")
    return True


# --- Service end-to-end helpers: a mock-broker process, service child processes, kafka-python clients ---

import signal
import socket
import time
import urllib.request

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

TOPICS = ("executor-results", "optimizer-decisions", "executor-results.dlq")
# Short group timings: a killed member is noticed within seconds, not the default 45 s.
FAST_GROUP = ["--kafka-option", "session.timeout.ms=6000", "--kafka-option", "heartbeat.interval.ms=500"]


class MockBroker:
    def __init__(self, partitions=3, topics=None):
        args = [binary(), "mock-broker", "--partitions", str(partitions)]
        for topic in topics or []:
            args += ["--topic", topic]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.bootstrap = self.process.stdout.readline().decode().strip()
        assert self.bootstrap, "mock-broker printed no bootstrap servers"
        self.partitions = partitions

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def broker():
    b = MockBroker()
    yield b
    b.stop()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """`optimizer-decider run` as a child process, its log in a file."""

    def __init__(self, bootstrap, tmp_path, name="svc", extra=(), wait_ready=True, group=FAST_GROUP):
        """`group`: the group timing options (FAST_GROUP by default; `()` runs with the service's defaults)."""
        self.port = free_port()
        self.log_path = tmp_path / f"{name}-{time.monotonic_ns()}.log"
        self.log = open(self.log_path, "wb")
        args = [binary(), "run", "--bootstrap-servers", bootstrap, "--metrics-address", f"127.0.0.1:{self.port}",
                *group, *extra]
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        if wait_ready:
            self.wait_ready()

    def get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"service exited early:\n{self.output()}"
            try:
                if self.get("/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"service not ready after {timeout}s:\n{self.output()}")

    def metric(self, name):
        _, text = self.get("/metrics")
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith(name) and not line.startswith("#"))

    def output(self):
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self, timeout=15):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


def producer(bootstrap):
    return KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)


def send(prod, messages, topic="executor-results"):
    """messages: (key bytes or None, value bytes); returns the partition each landed on."""
    futures = [prod.send(topic, key=key, value=value) for key, value in messages]
    prod.flush()
    return [f.get(timeout=30).partition for f in futures]


def read_all(bootstrap, topic, partitions=3, timeout=30.0):
    """Every record of a topic, read to the high watermarks with a group-less consumer."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
    parts = [TopicPartition(topic, p) for p in range(partitions)]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    ends = consumer.end_offsets(parts)
    records = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(consumer.position(p) < ends[p] for p in parts):
        for batch in consumer.poll(timeout_ms=200).values():
            records.extend(batch)
    consumer.close()
    return records


def wait_for(predicate, timeout, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(message())
