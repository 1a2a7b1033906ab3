"""Who may do what on the broker: every principal, the topics it reads and writes, its groups.

This table is the one place access is decided; `shared.broker_credentials provision` turns it into
SCRAM users and ACLs (locally, in CI, in the fault suite and in a deployment), and the tests check
that the broker refuses everything it does not grant. Only `admin` is a super user.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.events import topics

ADMIN = "admin"


@dataclass(frozen=True)
class Grants:
    """What one principal may touch. Consumer groups are granted by prefix (`<group_prefix>…`)."""

    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    group_prefix: str | None = None
    deployed: bool = True  # False: development only (demo phones), never given to a deployment


def service_principal(service: str) -> str:
    """The principal a Jedel service connects as (also its client id and its groups' prefix)."""
    return f"jedel-{service}"


def _service(reads: tuple[str, ...], writes: tuple[str, ...], service: str) -> Grants:
    return Grants(reads=reads, writes=writes, group_prefix=service_principal(service))


PRINCIPALS: dict[str, Grants] = {
    service_principal("intake"): _service(
        (topics.ALERTS_CAP, topics.ALERTS_MISSING_PERSON, topics.ALERTS_DISPATCH),
        (topics.INCIDENTS, topics.ALERTS_DEAD_LETTER),
        "intake",
    ),
    service_principal("mobilizer"): _service(
        (topics.INCIDENTS, topics.RESPONSES, topics.TRACKING),
        (topics.MOBILIZATION, topics.EVENTS_DEAD_LETTER),
        "mobilizer",
    ),
    service_principal("notifier"): _service(
        (topics.MOBILIZATION, topics.SIGN_IN_CODES),
        (topics.NOTIFICATIONS, topics.EVENTS_DEAD_LETTER),
        "notifier",
    ),
    service_principal("registry"): _service(
        (
            topics.INCIDENTS,
            topics.MOBILIZATION,
            topics.RESPONSES,
            topics.NOTIFICATIONS,
            topics.ALERTS_DEAD_LETTER,  # the dispatchers' queue of refused alerts
        ),
        (topics.EVENTS_DEAD_LETTER,),
        "registry",
    ),
    service_principal("tracker"): _service(
        (topics.LOCATIONS, topics.INCIDENTS, topics.MOBILIZATION, topics.TRACKING),
        (topics.TRACKING, topics.EVENTS_DEAD_LETTER),
        "tracker",
    ),
    # Phones and browsers never talk to the broker: the API is their gateway.
    # It also resends the alerts dispatchers corrected (their queue of refused alerts), to the
    # intake's topics, where they are judged as if their sender had sent them, and the areas
    # dispatchers place on the map (`alerts.dispatch.v1`, its alone).
    service_principal("api"): Grants(
        writes=(
            topics.RESPONSES,
            topics.LOCATIONS,
            topics.SIGN_IN_CODES,
            topics.ALERTS_CAP,
            topics.ALERTS_MISSING_PERSON,
            topics.ALERTS_DISPATCH,
        )
    ),
    # Simulated people for the demo: they read the offers the notifier would text them and
    # answer through the API's SMS links, like everyone else; they write nothing here.
    service_principal("simulator"): Grants(
        reads=(topics.MOBILIZATION,),
        group_prefix=service_principal("simulator"),
        deployed=False,
    ),
    # Operators' read-only view (the demo's live tables, `jedel` tools): every topic but the
    # sign-in codes, no writes.
    service_principal("console"): Grants(
        reads=tuple(name for name in topics.ALL if name != topics.SIGN_IN_CODES)
    ),
    # Outside producers: each may write its own alert topic and nothing else.
    "emergency-services": Grants(writes=(topics.ALERTS_CAP,)),
    "police": Grants(writes=(topics.ALERTS_MISSING_PERSON,)),
}

# Which principal publishes a file of each alert topic (`jedel publish`, the demo, the fault suite).
PUBLISHERS = {topics.ALERTS_CAP: "emergency-services", topics.ALERTS_MISSING_PERSON: "police"}


def may_read(principal: str, topic: str) -> bool:
    return principal == ADMIN or topic in PRINCIPALS[principal].reads


def may_write(principal: str, topic: str) -> bool:
    return principal == ADMIN or topic in PRINCIPALS[principal].writes


def writes_anything(principal: str) -> bool:
    """Whether `principal` produces at all (an idempotent producer needs the cluster's
    IdempotentWrite, granted only with a topic to write)."""
    return principal not in PRINCIPALS or bool(PRINCIPALS[principal].writes)


def granted_topics(principal: str) -> tuple[str, ...]:
    """Every topic `principal` may read or write (all of them for the admin)."""
    if principal == ADMIN:
        return topics.ALL
    grants = PRINCIPALS[principal]
    return tuple(dict.fromkeys((*grants.reads, *grants.writes)))
