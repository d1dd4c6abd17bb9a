"""W3C trace context through the pipeline: an input's valid `traceparent`/`tracestate` reach its decision
and its dead letter; every decision names its id in a `decision-id` header; invalid trace context and any
other input header are not copied."""
import json

from conftest import Service, broker, producer, read_all, wait_for
from test_service import run_result

PARENT = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
STATE = b"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"


def test_trace_context_reaches_decisions_and_dead_letters(broker, tmp_path):
    service = Service(broker.bootstrap, tmp_path, extra=["--log-level", "debug"])
    prod = producer(broker.bootstrap)
    cases = [
        (run_result("wf-trace", "traced"), [("traceparent", PARENT), ("tracestate", STATE), ("x-tenant", b"acme")]),
        (run_result("wf-trace", "bad-parent"), [("traceparent", b"00-0000-not-a-trace-01"), ("tracestate", STATE)]),
        (run_result("wf-trace", "bad-state"), [("traceparent", PARENT), ("tracestate", b"\x01 not a state")]),
        (run_result("wf-trace", "plain"), []),
        (b'{"workflow_id": "wf-trace", "success_rate": "oops"}', [("traceparent", PARENT)]),
    ]
    for value, headers in cases:
        prod.send("executor-results", key=b"wf-trace", value=value, headers=headers)
    prod.flush()
    wait_for(lambda: len(read_all(broker.bootstrap, "optimizer-decisions")) >= 4 and read_all(broker.bootstrap, "executor-results.dlq"),
             60, service.output)
    decisions = {json.loads(r.value)["run_id"]: (json.loads(r.value), dict(r.headers), [h for h, _ in r.headers])
                 for r in read_all(broker.bootstrap, "optimizer-decisions")}
    traced, headers, names = decisions["traced"]
    assert headers["decision-id"].decode() == traced["decision_id"]
    assert headers["traceparent"] == PARENT and headers["tracestate"] == STATE
    assert "x-tenant" not in headers, "only trace context is copied"
    assert names == ["content-type", "schema", "decision-id", "traceparent", "tracestate"]
    _, headers, _ = decisions["bad-parent"]
    assert "traceparent" not in headers and "tracestate" not in headers, "an invalid traceparent is dropped with its state"
    _, headers, _ = decisions["bad-state"]
    assert headers["traceparent"] == PARENT and "tracestate" not in headers
    _, headers, _ = decisions["plain"]
    assert set(headers) == {"content-type", "schema", "decision-id"}
    [letter] = read_all(broker.bootstrap, "executor-results.dlq")
    assert dict(letter.headers)["traceparent"] == PARENT
    assert "trace_id=4bf92f3577b34da6a3ce929d0e0e4736" in service.output(), "the dead letter's log line names the trace"
    assert service.terminate() == 0
