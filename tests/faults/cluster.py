"""A three-node Apache Kafka cluster on loopback for the fault suite (replication factor 3,
min.insync.replicas 2), started node by node with `infra/local/broker.sh`, so any node can be
killed with SIGKILL and started again on the same storage."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from shared.broker_credentials import load_or_create, provision
from tests.broker import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "infra" / "local" / "broker.sh"
REPLICATED = "\n".join(
    (
        "offsets.topic.replication.factor=3",
        "transaction.state.log.replication.factor=3",
        "transaction.state.log.min.isr=2",
        "share.coordinator.state.topic.replication.factor=3",
        "share.coordinator.state.topic.min.isr=2",
        "min.insync.replicas=2",
        "default.replication.factor=3",
        "unclean.leader.election.enable=false",
    )
)


@dataclass
class Node:
    node_id: int
    port: int
    directory: Path

    @property
    def pid(self) -> int | None:
        pidfile = self.directory / "broker.pid"
        return int(pidfile.read_text()) if pidfile.exists() else None


class Cluster:
    def __init__(self, directory: Path, *, heap: str = "384m") -> None:
        self.directory = directory
        self.heap = heap
        self.credentials_file = directory / "credentials.json"
        self.nodes: list[Node] = []
        for node_id in (1, 2, 3):
            port = free_port(also_next=True)
            while any(abs(port - node.port) < 2 for node in self.nodes):
                port = free_port(also_next=True)
            self.nodes.append(Node(node_id, port, directory / f"kafka-{node_id}"))
        self.voters = ",".join(f"{n.node_id}@127.0.0.1:{n.port + 1}" for n in self.nodes)

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)

    def _broker_sh(self, node: Node, command: str) -> subprocess.Popen[str]:
        env = {
            **os.environ,
            "JEDEL_BROKER_NODE_ID": str(node.node_id),
            "JEDEL_BROKER_VOTERS": self.voters,
            "JEDEL_BROKER_DIR": str(node.directory),
            "JEDEL_BROKER_CREDENTIALS": str(self.credentials_file),
            "JEDEL_BROKER_PROVISION": "0",
            "JEDEL_BROKER_HEAP": self.heap,
            "JEDEL_BROKER_EXTRA": REPLICATED,
        }
        return subprocess.Popen(
            [str(SCRIPT), command, str(node.port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def _wait(self, processes: list[subprocess.Popen[str]], what: str) -> None:
        for process in processes:
            output, _ = process.communicate(timeout=300)
            if process.returncode != 0:
                raise RuntimeError(f"{what} failed:\n{output}")

    def start(self) -> None:
        load_or_create(self.credentials_file)
        self._wait([self._broker_sh(node, "start") for node in self.nodes], "starting the cluster")
        provision(
            self.bootstrap,
            load_or_create(self.credentials_file),
            partitions=3,
            replication_factor=3,
            topic_config={"min.insync.replicas": "2"},
            timeout_s=180,
        )

    def kill(self, node: Node) -> None:
        """SIGKILL: no shutdown, no flush: what a power cut does to one broker."""
        pid = node.pid
        if pid is None:
            return
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def restart(self, node: Node) -> None:
        self._wait([self._broker_sh(node, "start")], f"restarting broker {node.node_id}")

    def stop(self) -> None:
        self._wait([self._broker_sh(node, "stop") for node in self.nodes], "stopping the cluster")
