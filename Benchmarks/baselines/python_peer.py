"""The benchmark's peer in another stack: the same job as `optimizer-decider run` for executor run results,
written the way the seed's Python module is (pydantic v2 models, confluent-kafka), sharing no code with the
Swift service. It consumes in a consumer group, validates each run result with pydantic, builds the
report (contract 2.1), applies the rules of contract 3.1, deduplicates per partition, produces one decision
JSON to the same partition number (dead letters to the DLQ), and stores each input offset after its output
is delivered. It keeps no history and no variants, so it does less than the service. Exits after `count`
inputs are handled and their outputs delivered.

usage: python_peer.py <bootstrap> <input> <output> <dlq> <group> <count>
"""
import hashlib
import json
import signal
import sys
import time
from typing import List, Literal, Optional

from confluent_kafka import Consumer, Producer, TopicPartition
from pydantic import BaseModel, Field, ValidationError, model_validator

LLM = ("rate limit", "rate_limit", "too many requests", "429", "content filter", "content_filter", "content policy",
       "context length", "context_length", "maximum context", "token limit", "quota", "overloaded")
VALIDATION = ("validation", "schema", "invalid json", "jsondecodeerror", "parse error", "output format",
              "missing required", "expected format")


class Statistics(BaseModel):
    total_tasks: int = Field(ge=0)
    completed_tasks: Optional[int] = Field(default=None, ge=0)
    succeeded_tasks: int = Field(ge=0)
    failed_tasks: int = Field(ge=0)
    timeout_tasks: int = Field(ge=0)
    cancelled_tasks: int = Field(ge=0)
    error_tasks: int = Field(ge=0)
    total_tokens: int = Field(ge=0)
    total_retries: int = Field(ge=0)
    success_rate: float = Field(ge=0, le=1)
    total_execution_time: float = Field(ge=0)
    avg_execution_time: float = Field(ge=0)
    total_cost: float = Field(ge=0)


class TaskResult(BaseModel):
    task_id: str
    task_status: Literal["pending", "queued", "running", "succeeded", "failed", "timeout", "cancelled", "error"]
    execution_time: float = Field(ge=0)
    error_message: Optional[str] = None
    attempt_count: Optional[int] = None
    test_result: Optional[dict] = None


class RunResult(BaseModel):
    run_id: str = Field(min_length=1)
    workflow_id: str = Field(min_length=1)
    started_at: str
    finished_at: str
    statistics: Statistics
    task_results: List[TaskResult] = Field(min_length=1)

    @model_validator(mode="after")
    def rate_agrees(self):
        s = self.statistics
        completed = s.completed_tasks if s.completed_tasks is not None else s.succeeded_tasks + s.failed_tasks + s.timeout_tasks + s.error_tasks
        counted = s.succeeded_tasks / completed if completed else 0.0
        if abs(counted - s.success_rate) > 0.001:
            raise ValueError("success_rate disagrees with succeeded / completed")
        return self


def report(run: RunResult) -> dict:
    s = run.statistics
    completed = s.completed_tasks if s.completed_tasks is not None else s.succeeded_tasks + s.failed_tasks + s.timeout_tasks + s.error_tasks
    times = sorted(t.execution_time * 1000 for t in run.task_results if t.execution_time > 0)
    llm = validation = error_counted = 0
    for task in run.task_results:
        if task.task_status in ("error", "failed") and task.error_message:
            text = task.error_message.lower()
            if any(p in text for p in LLM):
                llm += 1
                error_counted += task.task_status == "error"
            elif any(p in text for p in VALIDATION):
                validation += 1
                error_counted += task.task_status == "error"
    api = max(0, s.error_tasks - error_counted)
    distribution = {"timeout_errors": s.timeout_tasks, "api_errors": api, "validation_errors": validation, "llm_errors": llm,
                    "total_errors": s.timeout_tasks + api + validation + llm}
    return {
        "workflow_id": run.workflow_id, "run_id": run.run_id, "total_tests": s.total_tasks, "successful_tests": s.succeeded_tasks,
        "failed_tests": s.failed_tasks + s.timeout_tasks + s.error_tasks, "cancelled_tests": s.cancelled_tasks,
        "success_rate": s.success_rate, "avg_response_time_ms": s.avg_execution_time * 1000,
        "p95_response_time_ms": times[int(len(times) * 0.95)] if times else None,
        "p99_response_time_ms": times[int(len(times) * 0.99)] if times else None,
        "total_tokens": s.total_tokens, "avg_tokens_per_request": s.total_tokens / completed if completed else 0.0,
        "total_cost": s.total_cost, "cost_per_request": s.total_cost / completed if completed else 0.0,
        "error_distribution": distribution, "executed_at": run.finished_at,
        "metadata": {"total_retries": s.total_retries, "cancelled_tasks": s.cancelled_tasks},
    }


def decide(r: dict, source: dict) -> dict:
    reasons = []
    timeout_rate = r["error_distribution"]["timeout_errors"] / r["total_tests"]
    for code, observed, threshold, holds in (
            ("low_success_rate", r["success_rate"], 0.8, r["success_rate"] < 0.8),
            ("high_latency", r["avg_response_time_ms"], 5000.0, r["avg_response_time_ms"] > 5000.0),
            ("high_cost", r["cost_per_request"], 0.1, r["cost_per_request"] > 0.1),
            ("excessive_timeouts", timeout_rate, 0.05, timeout_rate > 0.05)):
        if holds:
            reasons.append({"code": code, "observed": observed, "threshold": threshold, "message": f"{code}: {observed} vs {threshold}"})
    strategy = None
    if reasons:
        if timeout_rate > 0.1:
            strategy = "clarity_focus"
        elif any(x["code"] in ("high_latency", "high_cost") for x in reasons):
            strategy = "efficiency_focus"
        else:
            strategy = "clarity_focus"
    key = hashlib.sha256(f"optimizer.decision/v1\0peer\0run\0{r['workflow_id']}\0{r['run_id']}".encode()).hexdigest()[:32]
    return {"schema": "optimizer.decision/v1", "decision_id": key, "workflow_id": r["workflow_id"], "run_id": r["run_id"],
            "should_optimize": bool(reasons), "strategy": strategy, "reasons": reasons, "regressions": [], "report": r,
            "analysis": None, "input_schema": "executor.run_result/v1", "rules_fingerprint": "peer", "source": source,
            "decided_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "producer": {"name": "python-peer", "version": "1"}}


def main():
    bootstrap, input_topic, output_topic, dlq, group, count = sys.argv[1:7]
    count = int(count)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.offset.store": False,
                         "auto.offset.reset": "earliest", "auto.commit.interval.ms": 1000,
                         "partition.assignment.strategy": "cooperative-sticky"})
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5})
    seen = {}
    handled = [0]
    stopping = [False]
    signal.signal(signal.SIGTERM, lambda *_: stopping.__setitem__(0, True))

    def delivered(error, message, offset):
        if error is not None:
            raise SystemExit(f"delivery failed: {error}")
        consumer.store_offsets(offsets=[TopicPartition(input_topic, message.partition(), offset + 1)])
        handled[0] += 1

    consumer.subscribe([input_topic])
    while not stopping[0] and handled[0] < count:
        for message in consumer.consume(num_messages=1000, timeout=0.05):
            if message.error():
                continue
            partition, offset = message.partition(), message.offset()
            callback = lambda error, out, offset=offset: delivered(error, out, offset)
            try:
                run = RunResult.model_validate_json(message.value())
            except ValidationError as error:
                producer.produce(dlq, message.value(), message.key(), headers={"dlq-error": str(error)[:200]}, on_delivery=callback)
                continue
            dedup = seen.setdefault(partition, set())
            if (run.workflow_id, run.run_id) in dedup:
                consumer.store_offsets(offsets=[TopicPartition(input_topic, partition, offset + 1)])
                handled[0] += 1
                continue
            dedup.add((run.workflow_id, run.run_id))
            source = {"topic": input_topic, "partition": partition, "offset": offset, "timestamp_ms": message.timestamp()[1]}
            value = json.dumps(decide(report(run), source), separators=(",", ":")).encode()
            while True:
                try:
                    producer.produce(output_topic, value, message.key(), partition=partition, on_delivery=callback,
                                     headers={"content-type": "application/json", "schema": "optimizer.decision/v1"})
                    break
                except BufferError:
                    producer.poll(0.01)
            producer.poll(0)
        producer.poll(0)
    producer.flush(10)
    consumer.commit(asynchronous=False)
    consumer.close()


if __name__ == "__main__":
    main()
