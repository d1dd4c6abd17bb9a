"""The operator's kit against a real Prometheus (Debian's `prometheus`, on loopback): it scrapes a running
service, answers for the service's decisions and lag through its HTTP query API, loads the alert rules,
and evaluates every expression of the Grafana dashboard; every metric the dashboard names is one the
service exports. The rules are also checked and unit-tested with promtool."""
import json
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

from conftest import ROOT, Service, broker, free_port, producer, send, wait_for
from test_service import run_result

PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "optimizer-decider.json"


def dashboard_expressions():
    return [target["expr"] for panel in json.loads(DASHBOARD.read_text())["panels"] for target in panel["targets"]]


def test_alert_rules_check_and_pass_their_unit_tests():
    promtool = shutil.which("promtool")
    assert promtool, "promtool comes with Debian's prometheus package (.ci/run installs it)"
    checked = subprocess.run([promtool, "check", "rules", str(PROMETHEUS_DIR / "alerts.yml")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run([promtool, "test", "rules", str(PROMETHEUS_DIR / "alerts.test.yml")], capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def query(port, expression):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_a_real_prometheus_scrapes_the_service_loads_the_rules_and_evaluates_the_dashboard(broker, tmp_path):
    binary = shutil.which("prometheus")
    assert binary, "Debian's prometheus package (.ci/run installs it)"
    service = Service(broker.bootstrap, tmp_path)
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(f"""
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {PROMETHEUS_DIR / 'alerts.yml'}
scrape_configs:
  - job_name: optimizer-decider
    static_configs:
      - targets: ["127.0.0.1:{service.port}"]
""")
    log = open(tmp_path / "prometheus.log", "wb")
    prometheus = subprocess.Popen([binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                                   f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
    try:
        send(producer(broker.bootstrap), [(f"wf-{i % 5}".encode(), run_result(f"wf-{i % 5}", f"run-{i}")) for i in range(200)])
        wait_for(lambda: service.metric("optimizer_decider_decisions_total") >= 200, 60, service.output)

        def scraped_all():
            try:
                result = query(port, "sum(optimizer_decider_decisions_total)")["data"]["result"]
                return result and float(result[0]["value"][1]) >= 200
            except OSError:
                return False
        wait_for(scraped_all, 60, lambda: (tmp_path / "prometheus.log").read_text(errors="replace")[-3000:])
        lag = query(port, "optimizer_decider_consumer_lag")["data"]["result"]
        assert lag and {sample["metric"]["partition"] for sample in lag} <= {"0", "1", "2"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/rules", timeout=5) as response:
            groups = json.loads(response.read())["data"]["groups"]
        names = {rule["name"] for group in groups for rule in group["rules"]}
        assert names == {"OptimizerDeciderLagGrowing", "OptimizerDeciderStalled", "OptimizerDeciderDeadLettersHigh",
                         "OptimizerDeciderUnready", "OptimizerDeciderRestoreSlow", "OptimizerDeciderRestoreNotFinishing"}
        assert all(rule.get("health") != "err" for group in groups for rule in group["rules"])
        for expression in dashboard_expressions():
            assert query(port, expression)["status"] == "success", expression
        # Every metric the dashboard and the rules name is exported by the live service.
        _, text = service.get("/metrics")
        exported = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
        named = set(re.findall(r"optimizer_decider_[a-z_]+", " ".join(dashboard_expressions()) + (PROMETHEUS_DIR / "alerts.yml").read_text()))
        assert named and named <= exported, f"not exported: {sorted(named - exported)}"
        # The restore histogram's largest bucket, which the RestoreSlow rule reads, is spelled as the rule spells it.
        assert 'optimizer_decider_restore_seconds_bucket{le="10.0"}' in text
    finally:
        prometheus.terminate()
        prometheus.wait(timeout=10)
    assert service.terminate() == 0
