"""Broker credentials and provisioning: SCRAM users, topics and ACLs from `shared.broker_access`.

Credentials are generated on the machine (never committed) into a JSON file readable only by its
owner: one random password per principal and the cluster id. `provision` makes the broker match
the access table — a SCRAM-SHA-256 user per principal, every topic, exactly the ACLs granted — and
is safe to run again. Run as a module it is what `infra/local/broker.sh` calls:

    python -m shared.broker_credentials password admin --file .run/kafka/credentials.json
    python -m shared.broker_credentials provision --bootstrap 127.0.0.1:19092 --file ...
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import socket
import sys
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from shared.broker_access import ADMIN, PRINCIPALS, Grants
from shared.events import topics

MECHANISM = "SCRAM-SHA-256"
SCRAM_ITERATIONS = 8192


def new_cluster_id() -> str:
    """A KRaft cluster id: a base64url UUID without padding that does not start with "-" (the
    storage tool would read it as an option; Kafka's own `Uuid.randomUuid` skips those too)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def load_or_create(path: Path) -> dict[str, Any]:
    """The credentials in `path`, made (or completed with new principals) if missing."""
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    passwords: dict[str, str] = dict(data.get("passwords", {}))
    changed = not path.exists()
    for principal in (ADMIN, *PRINCIPALS):
        if principal not in passwords:
            passwords[principal] = secrets.token_urlsafe(24)
            changed = True
    if "cluster_id" not in data:
        data["cluster_id"] = new_cluster_id()
        changed = True
    data["passwords"] = passwords
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)
        temporary.replace(path)
    return data


def env_name(principal: str) -> str:
    """The variable a deployment gives a principal's password in (`KAFKA_PASSWORD_JEDEL_INTAKE`)."""
    return "KAFKA_PASSWORD_" + principal.upper().replace("-", "_")


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """A deployment's credentials: the admin's and every deployed principal's, from variables."""
    names = [ADMIN, *(name for name, grants in PRINCIPALS.items() if grants.deployed)]
    missing = [env_name(name) for name in names if not environ.get(env_name(name))]
    if missing:
        raise ValueError(f"set {', '.join(missing)}")
    return {"passwords": {name: environ[env_name(name)] for name in names}}


def password(path: Path, principal: str) -> str:
    value: str = load_or_create(path)["passwords"][principal]
    return value


def client_config(bootstrap: str, principal: str, secret: str) -> dict[str, str]:
    """librdkafka settings for a SCRAM client (confluent-kafka's admin client, kcat's `-X`)."""
    return {
        "bootstrap.servers": bootstrap,
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": MECHANISM,
        "sasl.username": principal,
        "sasl.password": secret,
    }


def acl_bindings(principal: str, grants: Grants) -> list[Any]:
    from confluent_kafka.admin import (
        AclBinding,
        AclOperation,
        AclPermissionType,
        ResourcePatternType,
        ResourceType,
    )

    def allow(kind: Any, name: str, operation: Any, pattern: Any) -> Any:
        return AclBinding(
            kind, name, pattern, f"User:{principal}", "*", operation, AclPermissionType.ALLOW
        )

    literal = ResourcePatternType.LITERAL
    bindings = [allow(ResourceType.TOPIC, t, AclOperation.READ, literal) for t in grants.reads]
    bindings += [allow(ResourceType.TOPIC, t, AclOperation.WRITE, literal) for t in grants.writes]
    if grants.group_prefix is not None:
        bindings.append(
            allow(
                ResourceType.GROUP,
                grants.group_prefix,
                AclOperation.READ,
                ResourcePatternType.PREFIXED,
            )
        )
    return bindings


def provision(
    bootstrap: str,
    credentials: Mapping[str, Any],
    *,
    partitions: int = 3,
    replication_factor: int = 1,
    topic_config: Mapping[str, str] | None = None,
    principals: Iterable[str] | None = None,
    timeout_s: float = 60.0,
) -> None:
    """Make the broker hold every principal's SCRAM user, every topic and exactly its grants."""
    from confluent_kafka.admin import (
        AdminClient,
        NewTopic,
        ScramCredentialInfo,
        ScramMechanism,
        UserScramCredentialAlteration,
        UserScramCredentialUpsertion,
    )

    passwords: Mapping[str, str] = credentials["passwords"]
    deadline = time.monotonic() + timeout_s
    _wait_until_listening(bootstrap, deadline)  # before librdkafka, which logs every refusal
    admin = AdminClient(
        {
            **client_config(bootstrap, ADMIN, passwords[ADMIN]),
            "socket.connection.setup.timeout.ms": "2000",
        }
    )
    existing = _wait_for_metadata(admin, deadline)

    chosen = list(principals if principals is not None else PRINCIPALS)
    info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, SCRAM_ITERATIONS)
    upserts: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(name, info, passwords[name].encode()) for name in chosen
    ]
    for future in admin.alter_user_scram_credentials(upserts).values():
        future.result(timeout=max(1.0, deadline - time.monotonic()))

    missing = [name for name in topics.ALL if name not in existing]
    if missing:
        created = admin.create_topics(
            [
                NewTopic(name, partitions, replication_factor, config=dict(topic_config or {}))
                for name in missing
            ],
            operation_timeout=30,
        )
        for name, future in created.items():
            try:
                future.result(timeout=max(1.0, deadline - time.monotonic()))
            except Exception as error:
                if "already exists" not in str(error).lower():
                    raise RuntimeError(f"could not create topic {name}: {error}") from error

    bindings = [binding for name in chosen for binding in acl_bindings(name, PRINCIPALS[name])]
    if bindings:
        for future in admin.create_acls(bindings).values():
            future.result(timeout=max(1.0, deadline - time.monotonic()))
        _wait_until_in_force(admin, bindings, deadline)


def _wait_until_in_force(admin: Any, bindings: list[Any], deadline: float) -> None:
    """A created ACL reaches a broker's authorizer through the metadata log a moment later: until
    then a service starting at once is refused. DescribeAcls answers from that authorizer."""
    from confluent_kafka.admin import (
        AclBindingFilter,
        AclOperation,
        AclPermissionType,
        ResourcePatternType,
        ResourceType,
    )

    # None matches any name, principal and host (librdkafka's filter; the stubs say str).
    match_all: tuple[Any, ...] = (
        ResourceType.ANY,
        None,
        ResourcePatternType.ANY,
        None,
        None,
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    everything = AclBindingFilter(*match_all)
    wanted = {str(binding) for binding in bindings}
    while time.monotonic() < deadline:
        seen = {str(binding) for binding in admin.describe_acls(everything).result(timeout=10)}
        if wanted <= seen:
            return
        time.sleep(0.1)
    raise TimeoutError("the broker did not put the new ACLs in force in time")


def _wait_until_listening(bootstrap: str, deadline: float) -> None:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    while True:
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            return
        except OSError as error:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {bootstrap}: {error}") from error
            time.sleep(0.1)


def _wait_for_metadata(admin: Any, deadline: float) -> set[str]:
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            metadata = admin.list_topics(timeout=2)
            if metadata.brokers:
                return set(metadata.topics)
        except Exception as error:  # not listening yet, or still starting
            last_error = error
        time.sleep(0.2)
    raise TimeoutError(f"the broker did not answer in time: {last_error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.broker_credentials")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("password", "cluster-id", "provision"):
        command = commands.add_parser(name)
        if name == "provision":  # a deployment passes its passwords as KAFKA_PASSWORD_* instead
            command.add_argument("--file", type=Path)
        else:
            command.add_argument("--file", type=Path, required=True)
        if name == "password":
            command.add_argument("principal", choices=[ADMIN, *PRINCIPALS])
        if name == "provision":
            command.add_argument("--bootstrap", required=True)
            command.add_argument("--partitions", type=int, default=3)
            command.add_argument("--replication-factor", type=int, default=1)
            command.add_argument("--min-insync-replicas", type=int)
            command.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    try:
        credentials = (
            load_or_create(args.file) if args.file is not None else from_environment(os.environ)
        )
    except ValueError as error:
        print(f"no broker credentials: {error}", file=sys.stderr)
        return 2
    if args.command == "password":
        print(credentials["passwords"][args.principal])
    elif args.command == "cluster-id":
        print(credentials["cluster_id"])
    else:
        config = (
            {"min.insync.replicas": str(args.min_insync_replicas)}
            if args.min_insync_replicas
            else None
        )
        try:
            provision(
                args.bootstrap,
                credentials,
                partitions=args.partitions,
                replication_factor=args.replication_factor,
                topic_config=config,
                principals=list(credentials["passwords"].keys() - {ADMIN}),
                timeout_s=args.timeout,
            )
        except Exception as error:
            print(f"provisioning the broker failed: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
