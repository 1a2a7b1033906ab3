"""A throw-away Apache Kafka broker for the tests: its own port, storage and credentials.

It is started by the same script as the local one (`infra/local/broker.sh`), with SASL/SCRAM and
the ACLs of `shared.broker_access`, so every test talks to the broker a deployment runs.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "infra" / "local" / "broker.sh"


def free_port(*, also_next: bool = False) -> int:
    """A free loopback port (and, with `also_next`, the one after it: the controller's)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        if not also_next:
            return port
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


class LocalBroker:
    def __init__(self, *, partitions: int = 2, port: int | None = None) -> None:
        self.port = port or free_port(also_next=True)
        self.partitions = partitions
        self.directory = Path(tempfile.mkdtemp(prefix="jedel-kafka-"))
        self.credentials_file = self.directory / "credentials.json"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The broker's Java process while it runs (its script's pid file), else None."""
        try:
            return int((self.directory / "broker" / "broker.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _run(self, command: str) -> None:
        env = {
            **os.environ,
            "JEDEL_BROKER_DIR": str(self.directory / "broker"),
            "JEDEL_BROKER_CREDENTIALS": str(self.credentials_file),
            "JEDEL_BROKER_PARTITIONS": str(self.partitions),
            "JEDEL_BROKER_HEAP": os.environ.get("JEDEL_TEST_BROKER_HEAP", "384m"),
        }
        result = subprocess.run(
            [str(SCRIPT), command, str(self.port)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=240,
        )
        if result.returncode != 0:
            log = self.directory / "broker" / "logs" / "server.log"
            tail = log.read_text()[-4000:] if log.exists() else ""
            raise RuntimeError(
                f"broker.sh {command} failed:\n{result.stdout}\n{result.stderr}\n{tail}"
            )

    def start(self) -> LocalBroker:
        self._run("start")
        return self

    def stop(self) -> None:
        self._run("stop")
        shutil.rmtree(self.directory, ignore_errors=True)
