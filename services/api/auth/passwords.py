"""Staff passwords, hashed with argon2 (pwdlib's recommended parameters)."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash

MIN_LENGTH = 12


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a password needs at least {MIN_LENGTH} characters")
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether the password matches; a missing hash is checked against a dummy all the same, so a
    wrong username costs as long as a wrong password."""
    if password_hash is None:
        _hasher().verify(password, _DUMMY())
        return False
    return _hasher().verify(password, password_hash)


@lru_cache(maxsize=1)
def _DUMMY() -> str:  # noqa: N802 - a constant computed once
    return _hasher().hash("jedel-no-such-account")
