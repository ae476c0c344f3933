"""The deployment files stay in step with the services the code has."""

import yaml

from credstack import devstack
from credstack.testing import REPO


def test_docker_compose_runs_every_service_on_kafka_and_postgres() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]
    assert {"kafka", "postgres", "migrate", "tokens", *devstack.SERVICES} <= set(compose)
    for service in devstack.SERVICES:
        assert f"{service}.main:create_app" in compose[service]["command"]


def test_kubernetes_has_a_deployment_with_probes_for_every_service() -> None:
    documents = list(yaml.safe_load_all((REPO / "deploy/k8s/credstack.yaml").read_text()))
    deployments = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Deployment"}
    assert set(deployments) == set(devstack.SERVICES)
    for deployment in deployments.values():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    jobs = [d["metadata"]["name"] for d in documents if d["kind"] == "Job"]
    assert jobs == ["credstack-migrate"]
