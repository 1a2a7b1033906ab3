"""The compose file is what a real deployment runs: check it statically (no Docker engine here)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {"POSTGRES_PASSWORD": "not-a-real-password", "JEDEL_SECRET_KEY": "not-a-real-secret"}


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
