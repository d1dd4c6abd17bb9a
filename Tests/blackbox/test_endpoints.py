"""The endpoints of a running service, black box: no client can make a probe wait, and `/metrics` passes
`promtool check metrics` (Debian's prometheus package)."""
import shutil
import socket
import subprocess
import threading
import time
import urllib.request

from conftest import Service, broker, producer, send, wait_for
from test_service import run_result


def raw(port, payload, read=True):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(payload)
        return s.recv(65536) if read else b""


def test_no_client_can_block_a_probe(broker, tmp_path):
    service = Service(broker.bootstrap, tmp_path)
    port = service.port
    # Malformed, oversized and non-GET requests first: each is refused, and the server goes on.
    assert not raw(port, b"\x01\x02 NOT HTTP\r\n\r\n").startswith(b"HTTP/1.1 200")
    assert not raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n").startswith(b"HTTP/1.1 200")
    assert raw(port, b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").startswith(b"HTTP/1.1 405")
    assert raw(port, b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 404")
    # Twenty idle connections and one client dripping a request a byte every 200 ms, all held open.
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
    drip = socket.create_connection(("127.0.0.1", port))
    stop = threading.Event()

    def dripping():
        for byte in b"GET /metrics HTTP/1.1\r\nHost: slow\r\n":
            if stop.is_set():
                return
            try:
                drip.send(bytes([byte]))
            except OSError:
                return  # closed by the server's idle timeout, as it should
            time.sleep(0.2)

    thread = threading.Thread(target=dripping)
    thread.start()
    try:
        worst = 0.0
        for _ in range(10):
            started = time.monotonic()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                assert response.status == 200
            worst = max(worst, time.monotonic() - started)
            time.sleep(0.1)
        # Kubernetes' default probe timeout is 1 s.
        print(f"\nslowest of 10 probes beside 20 idle and 1 slow client: {worst * 1000:.1f} ms")
        assert worst < 1.0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1) as response:
            assert response.status == 200
    finally:
        stop.set()
        thread.join()
        for connection in idle + [drip]:
            connection.close()
    assert service.terminate() == 0


def test_metrics_pass_promtool(broker, tmp_path):
    promtool = shutil.which("promtool")
    assert promtool, "promtool comes with Debian's prometheus package (.ci/run installs it)"
    service = Service(broker.bootstrap, tmp_path)
    send(producer(broker.bootstrap), [(b"wf", run_result("wf", f"run-{i}")) for i in range(20)] + [(b"wf", b"{broken")])
    wait_for(lambda: service.metric("optimizer_decider_decisions_total") >= 20, 60, service.output)
    _, text = service.get("/metrics")
    for name in ("optimizer_decider_decisions_total", "optimizer_decider_dead_letters_total", "optimizer_decider_consumer_lag",
                 "optimizer_decider_processing_seconds_bucket", "optimizer_decider_variant_verdicts_total",
                 "optimizer_decider_restore_seconds_count", "optimizer_decider_ready"):
        assert name in text, name
    result = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert service.terminate() == 0
