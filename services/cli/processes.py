"""Start and stop the services in the background for the demo (pid files and logs in `.run/`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from rich.console import Console

RUN_DIR = Path(__file__).resolve().parents[2] / ".run"
SERVICES = ("intake", "mobilizer", "notifier", "registry", "tracker", "api")
# Started by `jedel up --simulate` for the demo only: simulated volunteers answering offers.
SIMULATOR = "simulator"


def _pidfile(service: str) -> Path:
    return RUN_DIR / f"{service}.pid"


def running_pid(service: str) -> int | None:
    try:
        pid = int(_pidfile(service).read_text())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def up(console: Console, *, simulate: bool = False, api_url: str = "http://127.0.0.1:8000") -> None:
    RUN_DIR.mkdir(exist_ok=True)
    wanted = (*SERVICES, SIMULATOR) if simulate else SERVICES
    for service in wanted:
        if (pid := running_pid(service)) is not None:
            console.print(f"{service} already running (pid {pid})")
            continue
        log = (RUN_DIR / f"{service}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "run", service],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=RUN_DIR.parent,
        )
        _pidfile(service).write_text(str(process.pid))
        console.print(f"started {service} (pid {process.pid}, log .run/{service}.log)")
    _wait_healthy(console, api_url)
    for service in wanted:
        if running_pid(service) is None:
            raise SystemExit(f"{service} exited at start; see .run/{service}.log")


def down(console: Console) -> None:
    for service in (*SERVICES, SIMULATOR):
        pid = running_pid(service)
        if pid is None:
            _pidfile(service).unlink(missing_ok=True)
            continue
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while running_pid(service) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        if running_pid(service) is not None:
            os.killpg(pid, signal.SIGKILL)
        _pidfile(service).unlink(missing_ok=True)
        console.print(f"stopped {service}")


def _wait_healthy(console: Console, api_url: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api_url}/healthz", timeout=1.0).status_code == 200:
                console.print(
                    f"api healthy at {api_url} (docs: {api_url}/docs, {api_url}/asyncapi)"
                )
                return
        except httpx.HTTPError:
            pass
        if running_pid("api") is None:
            break
        time.sleep(0.2)
    raise SystemExit("the api did not become healthy; see .run/api.log")
