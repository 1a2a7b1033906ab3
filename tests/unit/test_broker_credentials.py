"""The broker's cluster id: valid for KRaft and never mistaken for a command-line option."""

from __future__ import annotations

import base64
import uuid

import pytest

from shared.broker_credentials import new_cluster_id


def test_a_cluster_id_is_a_base64url_uuid_without_padding() -> None:
    cluster_id = new_cluster_id()
    assert len(cluster_id) == 22
    assert uuid.UUID(bytes=base64.urlsafe_b64decode(cluster_id + "=="))


def test_a_cluster_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # One UUID in 64 encodes to a leading "-", which the storage tool read as an option: the
    # broker then failed to start (a CI run lost 95 tests to it).
    dashed = uuid.UUID(bytes=base64.urlsafe_b64decode("-3BET6hZTEm0aL-BAjCGQg=="))
    plain = uuid.UUID(int=42)
    draws = iter([dashed, dashed, plain])
    monkeypatch.setattr(uuid, "uuid4", lambda: next(draws))
    assert new_cluster_id() == base64.urlsafe_b64encode(plain.bytes).decode().rstrip("=")
