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
