"""The compose file is what a real deployment runs: check it statically (no Docker engine here)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.broker_access import ADMIN, PRINCIPALS, service_principal
from shared.broker_credentials import env_name

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "POSTGRES_PASSWORD": "not-a-real-password",
    "JEDEL_SECRET_KEY": "not-a-real-secret",
    "KAFKA_CLUSTER_ID": "not-a-real-cluster-id",
    **{
        env_name(principal): f"not-a-real-password-{principal}"
        for principal in (ADMIN, *(p for p, grants in PRINCIPALS.items() if grants.deployed))
    },
}
SERVICES = ("intake", "mobilizer", "notifier", "registry", "tracker", "api")


def compose_command() -> list[str]:
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail(
        "neither `docker compose` nor `docker-compose` is installed; run infra/local/setup.sh with JEDEL_SETUP_COMPOSE=1"
    )


def render(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*compose_command(), "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], **env},
        cwd=ROOT,
        check=False,
    )


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    result = render(SECRETS)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def test_compose_runs_every_service_against_kafka_postgis_and_redis(
    rendered: dict[str, Any],
) -> None:
    services = rendered["services"]
    assert {"kafka", "postgis", "redis", "migrate", "intake", "api"} <= set(services)
    for name in ("intake", "mobilizer", "notifier", "registry", "tracker", "api"):
        assert services[name]["command"] == ["run", name]
        env = services[name]["environment"]
        assert env["JEDEL_KAFKA__BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env["JEDEL_KAFKA__SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
        assert env["JEDEL_DATABASE__URL"].startswith("postgresql+asyncpg://")
        assert env["JEDEL_ENVIRONMENT"] == "production"


def test_services_wait_for_migrations_before_starting(rendered: dict[str, Any]) -> None:
    for name in ("intake", "mobilizer", "notifier", "registry", "tracker", "api"):
        depends = rendered["services"][name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_compose_refuses_to_start_without_real_secrets() -> None:
    result = render({})
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr or "JEDEL_SECRET_KEY" in result.stderr


def test_every_service_package_with_an_entry_point_is_deployed(rendered: dict[str, Any]) -> None:
    # The CLI is not a service, and simulated volunteers must never run in a real deployment.
    not_deployed = {"cli", "simulator"}
    deployable = {
        path.parent.name
        for path in (ROOT / "services").glob("*/main.py")
        if path.parent.name not in not_deployed
    }
    assert "simulator" not in rendered["services"]
    assert deployable <= set(rendered["services"])


def test_each_service_signs_in_to_kafka_as_its_own_principal(rendered: dict[str, Any]) -> None:
    for name in SERVICES:
        env = rendered["services"][name]["environment"]
        principal = service_principal(name)
        assert env["JEDEL_KAFKA__USERNAME"] == principal
        assert env["JEDEL_KAFKA__PASSWORD"] == SECRETS[env_name(principal)]
        assert rendered["services"][name]["depends_on"]["kafka-provision"]["condition"] == (
            "service_completed_successfully"
        )


def test_kafka_is_apache_kafka_4_with_sasl_on_every_listener_and_acls() -> None:
    rendered = render(SECRETS)
    kafka = yaml.safe_load(rendered.stdout)["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:4.")
    properties = dict(
        line.split("=", 1)
        for line in (ROOT / "infra" / "kafka" / "compose.properties").read_text().splitlines()
        if line and not line.startswith("#")
    )
    protocols = [
        pair.split(":")[1] for pair in properties["listener.security.protocol.map"].split(",")
    ]
    assert protocols and all(protocol.startswith("SASL_") for protocol in protocols)
    assert properties["allow.everyone.if.no.acl.found"] == "false"
    assert properties["super.users"] == "User:admin"
    provision = yaml.safe_load(rendered.stdout)["services"]["kafka-provision"]
    assert provision["command"][0] == "provision"


def test_compose_refuses_to_start_without_every_principals_password() -> None:
    for missing in (env_name(ADMIN), env_name("police"), env_name(service_principal("intake"))):
        result = render({name: value for name, value in SECRETS.items() if name != missing})
        assert result.returncode != 0
        assert missing in result.stderr


def test_prometheus_scrapes_every_deployed_service_where_it_serves_metrics(
    rendered: dict[str, Any],
) -> None:
    services = rendered["services"]
    prometheus = services["prometheus"]
    assert prometheus["image"].startswith("prom/prometheus:")
    config_file = ROOT / "infra" / "prometheus" / "prometheus.yml"
    mounts = [_mount(volume) for volume in prometheus["volumes"]]
    assert (config_file, "/etc/prometheus/prometheus.yml") in mounts
    assert any(
        "--config.file=/etc/prometheus/prometheus.yml" in arg for arg in prometheus["command"]
    )
    scrape = yaml.safe_load(config_file.read_text())
    targets = {
        target
        for job in scrape["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    }
    for name in SERVICES:
        env = services[name]["environment"]
        if name == "api":
            port = "8000"  # /metrics on the API's own port
            assert env["JEDEL_API__HOST"] == "0.0.0.0"
        else:
            port = env["JEDEL_METRICS_PORT"]
            assert env["JEDEL_METRICS_HOST"] == "0.0.0.0", f"{name} must listen beyond loopback"
        assert f"{name}:{port}" in targets, f"{name} is not scraped"
        assert env["JEDEL_LOG_FORMAT"] == "json"
    scraped = {target.split(":")[0] for target in targets}
    assert scraped <= set(services), "a target that is not deployed"
    assert "simulator" not in scraped


def test_metrics_ports_stay_inside_the_deployment(rendered: dict[str, Any]) -> None:
    # Only the API is published; Prometheus' UI only on the host's loopback.
    for name in ("intake", "mobilizer", "notifier", "registry", "tracker"):
        assert not rendered["services"][name].get("ports")
    [published] = rendered["services"]["prometheus"]["ports"]
    # Compose v2 renders the long form, docker-compose 1.x the short one.
    host_ip = published["host_ip"] if isinstance(published, dict) else published.split(":")[0]
    assert host_ip == "127.0.0.1"


def _mount(volume: str | dict[str, str]) -> tuple[Path, str]:
    """(source, target) of a volume, in either form compose renders it."""
    if isinstance(volume, dict):
        return Path(volume["source"]), volume["target"]
    source, target, *_ = volume.split(":")
    return Path(source), target
