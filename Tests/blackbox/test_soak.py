"""Long runs: RSS stays flat under a steady stream (SOAK_SECONDS, 45 by default; raise it for a real
soak), and stays bounded under a flood."""
import os
import threading
import time

from conftest import Service, broker, producer, send, wait_for
from test_service import run_result

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "45"))


def rss_mb(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def test_rss_stays_flat_under_a_steady_stream(broker, tmp_path):
    service = Service(broker.bootstrap, tmp_path)
    prod = producer(broker.bootstrap)
    stop = threading.Event()
    sent = [0]

    def stream():
        i = 0
        while not stop.is_set():
            batch = [(f"wf-{(i + k) % 13}".encode(), run_result(f"wf-{(i + k) % 13}", f"soak-{i + k}")) for k in range(20)]
            send(prod, batch)
            sent[0] += len(batch)
            i += 20
            time.sleep(0.1)  # ~200 runs/s: the mock keeps ~5 MiB per partition, so keep the volume modest

    thread = threading.Thread(target=stream)
    thread.start()
    samples = []
    started = time.monotonic()
    while time.monotonic() - started < SOAK_SECONDS:
        time.sleep(SOAK_SECONDS / 15)
        samples.append((round(time.monotonic() - started), rss_mb(service.process.pid)))
    stop.set()
    thread.join()
    wait_for(lambda: service.metric("optimizer_decider_messages_consumed_total") >= sent[0], 60, service.output)
    print("\nRSS over time (s, MB): " + ", ".join(f"{t}:{m:.1f}" for t, m in samples))
    print(f"runs decided: {sent[0]}")
    warm = [m for t, m in samples[len(samples) // 3:]]
    # Flat: after warm-up, at most 10 MB of growth (the dedup state for these runs is well under 1 MB).
    assert max(warm) - min(warm) < 10, samples
    assert service.terminate() == 0


def test_memory_is_bounded_under_a_flood(broker, tmp_path):
    prod = producer(broker.bootstrap)
    # A backlog first (3 × 1,000 run results of ~3 KB: under the mock's per-partition limit), then the service.
    send(prod, [(f"wf-{i % 3}".encode(), run_result(f"wf-{i % 3}", f"flood-{i}", succeeded=8)) for i in range(3000)])
    service = Service(broker.bootstrap, tmp_path)
    wait_for(lambda: service.metric("optimizer_decider_messages_consumed_total") >= 3000, 90, service.output)
    peak = rss_mb(service.process.pid, "VmHWM")
    print(f"\npeak RSS draining a 3,000-message flood: {peak:.1f} MB")
    assert peak < 150, peak
    assert service.terminate() == 0
