"""Secrets stay secret; the metrics endpoint binds loopback by default."""
import socket
import subprocess
import time
import urllib.request

from conftest import FAST_GROUP, Service, binary, broker, producer, send, wait_for

SECRET = "hunter2-xq9-topsecret"


def test_kafka_secrets_never_reach_logs_errors_or_metrics(broker, tmp_path):
    service = Service(broker.bootstrap, tmp_path, extra=[
        "--kafka-option", f"sasl.password={SECRET}", "--kafka-option", "sasl.username=decider",
        "--kafka-option", "debug=conf,security,generic", "--log-level", "debug"])
    send(producer(broker.bootstrap), [(b"wf", b'{"success_rate": 1, "workflow_id": "wf"}')])
    wait_for(lambda: service.metric("optimizer_decider_messages_consumed_total") >= 1, 60, service.output)
    _, metrics = service.get("/metrics")
    assert service.terminate() == 0
    log = service.output()
    assert "sasl" in log.lower() or "librdkafka" in log, "the debug log was captured"
    assert SECRET not in log and SECRET not in metrics
    # A value librdkafka rejects, for a secret key: the error names the key, never the value.
    result = subprocess.run([binary(), "run", "--bootstrap-servers", broker.bootstrap, "--metrics-address", "off",
                             "--kafka-option", f"ssl.key.password={SECRET}", "--kafka-option", f"sasl.oauthbearer.config={SECRET}",
                             "--kafka-option", "security.protocol=NOPE", "--startup-timeout", "3"], capture_output=True, timeout=60)
    assert result.returncode != 0
    assert SECRET.encode() not in result.stderr + result.stdout
    assert b"security.protocol" in result.stderr


def non_loopback_address():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def listeners(port):
    """The local addresses with a socket listening on `port`, from /proc/net/tcp and tcp6."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:
                    if len(address) == 8:
                        found.append(socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1]))
                    else:
                        words = b"".join(bytes.fromhex(address[i:i + 8])[::-1] for i in range(0, 32, 8))
                        found.append(socket.inet_ntop(socket.AF_INET6, words))
    return found


def test_metrics_bind_loopback_by_default(broker, tmp_path):
    log = open(tmp_path / "default.log", "wb")
    process = subprocess.Popen([binary(), "run", "--bootstrap-servers", broker.bootstrap, *FAST_GROUP], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen("http://127.0.0.1:9464/healthz", timeout=1) as response:
                    assert response.status == 200
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("no /healthz on 127.0.0.1:9464")
        # The listening socket itself, whatever addresses this machine has: 127.0.0.1 only.
        listening = listeners(9464)
        assert listening == ["127.0.0.1"], f"port 9464 listens on {listening}"
        other = non_loopback_address()
        if other:  # and, where the machine has another address, a connection to it is refused
            with socket.socket() as s:
                s.settimeout(1)
                assert s.connect_ex((other, 9464)) != 0, f"metrics reachable on {other}"
    finally:
        process.terminate()
        process.wait(timeout=15)
