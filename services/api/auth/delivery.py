"""How a sign-in code reaches the volunteer's phone.

`LoggedCodes` (development and tests, `JEDEL_AUTH__LOG_CODES=true`) writes it to the API's log.
A deployment sends it by SMS through the gateway the notifier uses; until that path exists the
API refuses to start in production with logged codes (`ApiSettings`).
"""

from __future__ import annotations

import logging
from typing import Protocol

from services.api.auth.tables import AccountRow

log = logging.getLogger("services.api.sign_in_codes")


class CodeSender(Protocol):
    async def send(self, *, phone: str, code: str, account: AccountRow) -> None: ...


class LoggedCodes:
    """Development: the code in the log (the phone itself is masked there, as everywhere)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []  # (phone, code), newest last: what tests read

    async def send(self, *, phone: str, code: str, account: AccountRow) -> None:
        self.sent.append((phone, code))
        del self.sent[:-100]
        log.warning("sign-in code for volunteer account %s: %s", account.id, code)
