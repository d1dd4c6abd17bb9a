"""The deployment files validate offline and agree with each other and with the service."""
import os
import pathlib
import shutil
import subprocess

import yaml
from conftest import ROOT, run_cli

KUBE = ROOT / "deploy" / "kubernetes"
VALIDATOR = pathlib.Path(os.environ.get("KUBERNETES_VALIDATE", ROOT / ".build" / "deploy-venv" / "bin" / "kubernetes-validate"))


def load(name):
    return yaml.safe_load((KUBE / name).read_text())


def test_compose_file_validates():
    assert shutil.which("docker-compose"), "docker-compose (Debian) is needed to validate docker-compose.yml"
    result = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"], capture_output=True)
    assert result.returncode == 0, result.stderr.decode()
    config = yaml.safe_load(subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config"],
                                           capture_output=True, check=True).stdout)
    services = config["services"]
    assert {"kafka", "create-topics", "decider-1", "decider-2", "prometheus", "grafana"} <= set(services)
    # Prometheus loads the alert rules; Grafana is provisioned with the data source and the dashboard.
    mounts = " ".join(str(v) for v in services["prometheus"]["volumes"])
    assert "deploy/prometheus/alerts.yml" in mounts and "deploy/prometheus/prometheus.yml" in mounts
    grafana = " ".join(str(v) for v in services["grafana"]["volumes"])
    assert "deploy/grafana/provisioning" in grafana and "deploy/grafana/dashboards" in grafana
    assert "/etc/prometheus/alerts.yml" in (ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text()
    groups = {services[name]["environment"]["DECIDER_GROUP_ID"] for name in ("decider-1", "decider-2")}
    assert groups == {"optimizer-decider"}, "both replicas in one group"
    # Each replica keeps its checkpoints on a volume of its own.
    state_volumes = [next(str(v) for v in services[name]["volumes"] if "/var/lib/optimizer-decider" in str(v))
                     for name in ("decider-1", "decider-2")]
    assert len(set(state_volumes)) == 2, state_volumes
    assert all(services[name]["environment"]["DECIDER_STATE_DIR"] == "/var/lib/optimizer-decider" for name in ("decider-1", "decider-2"))
    assert services["kafka"]["image"].startswith("apache/kafka:")


def test_kubernetes_manifests_validate_against_the_api_schemas():
    assert VALIDATOR.exists(), f"{VALIDATOR} is missing: scripts/test installs kubernetes-validate from PyPI"
    files = [str(KUBE / name) for name in ("statefulset.yaml", "service.yaml", "poddisruptionbudget.yaml")]
    result = subprocess.run([str(VALIDATOR), "--strict", *files], capture_output=True)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def test_manifests_agree_with_each_other_and_the_service():
    kustomization = load("kustomization.yaml")
    for resource in kustomization["resources"]:
        assert (KUBE / resource).exists()
    deployment = load("statefulset.yaml")
    assert deployment["kind"] == "StatefulSet", "stable pod names for static membership"
    services = list(yaml.safe_load_all((KUBE / "service.yaml").read_text()))
    headless = next(s for s in services if s["metadata"]["name"] == deployment["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    # Graceful stop: the grace period exceeds the service's whole stop budget plus its overrun second.
    env = {e["name"]: e for e in container_env(pod)}
    assert pod["terminationGracePeriodSeconds"] > float(env["DECIDER_STOP_TIMEOUT"]["value"]) + 1
    assert env["DECIDER_GROUP_INSTANCE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["resources"]["requests"] and container["resources"]["limits"]
    # Checkpoints go to the pod's own claim, mounted where DECIDER_STATE_DIR points, writable by its user.
    claims = {c["metadata"]["name"]: c for c in deployment["spec"]["volumeClaimTemplates"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["state"] == env["DECIDER_STATE_DIR"]["value"]
    assert claims["state"]["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claims["state"]["spec"]["resources"]["requests"]["storage"]
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsUser"]
    # Every DECIDER_* variable the manifests set is one the service reads.
    help_text = run_cli("run", "--help").stdout.decode()
    settings = dict(line.split("=", 1) for line in (KUBE / "settings.env").read_text().splitlines() if line.strip())
    names = set(settings) | {e["name"] for e in container["env"] if e["name"].startswith("DECIDER_")}
    for name in names:
        assert name in help_text.replace("\n", " ").replace(" ", "") or name.startswith("DECIDER_KAFKA_OPTION"), name
    rules = KUBE / "rules.yaml"
    assert rules.read_text() == (ROOT / "examples" / "rules.yaml").read_text(), "deploy rules drifted from the example"
    assert run_cli("score", "--rules", str(rules), input_bytes=b"").returncode == 0, "the shipped rules file loads"
    scaled = load("scaledobject.yaml")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1" and scaled["kind"] == "ScaledObject"
    assert scaled["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert scaled["spec"]["scaleTargetRef"]["kind"] == "StatefulSet"
    trigger = scaled["spec"]["triggers"][0]
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["consumerGroup"] == settings["DECIDER_GROUP_ID"]
    assert trigger["metadata"]["topic"] == settings["DECIDER_INPUT_TOPIC"]
    assert trigger["metadata"]["bootstrapServers"] == settings["DECIDER_BOOTSTRAP_SERVERS"]
    assert 1 <= scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"]
    pdb = load("poddisruptionbudget.yaml")
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]


def container_env(pod):
    return pod["containers"][0]["env"]


def test_the_prometheus_rule_component_carries_the_alert_rules():
    component = yaml.safe_load((KUBE / "components" / "prometheus-rule" / "kustomization.yaml").read_text())
    assert component["kind"] == "Component" and component["resources"] == ["prometheusrule.yaml"]
    rule = yaml.safe_load((KUBE / "components" / "prometheus-rule" / "prometheusrule.yaml").read_text())
    assert rule["kind"] == "PrometheusRule" and rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["spec"] == yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    assert "components/prometheus-rule" in (KUBE / "kustomization.yaml").read_text()


def test_dockerfile_runs_the_service_as_non_root_with_a_health_check():
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM swift:6" in text and "bookworm" in text and "FROM debian:bookworm-slim" in text
    assert 'ENTRYPOINT ["optimizer-decider", "run"]' in text
    assert "USER 10001" in text and "HEALTHCHECK" in text and "/healthz" in text
