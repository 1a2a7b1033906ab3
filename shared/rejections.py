"""Why the intake refuses a message; every refusal ends on the dead-letter topic."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError


class Rejected(Exception):  # noqa: N818 - a verdict, not an error in the code
    """The message cannot become an incident.

    `code` is stable and machine-readable (it keys translations and metrics); `reason` tells a person
    what was wrong with this very message. `sender` and `regions`, when the message was read far
    enough to know them, say who sent it and where it was about: they decide which dispatchers
    see it in their queue of refused alerts.
    """

    def __init__(
        self,
        code: str,
        reason: str,
        *,
        sender: str | None = None,
        regions: Iterable[str] = (),
    ) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.sender = sender
        self.regions = tuple(regions)

    def about(self, *, sender: str | None, regions: Iterable[str]) -> Rejected:
        """The same verdict, saying who sent the message and which regions it was about."""
        return Rejected(self.code, self.reason, sender=sender, regions=regions)


def describe(error: ValidationError, *, limit: int = 5) -> str:
    """A contract violation in words a person can act on: `field.path: what is wrong; …`."""
    return "; ".join(
        f"{'.'.join(str(part) for part in issue['loc']) or 'body'}: {issue['msg']}"
        for issue in error.errors()[:limit]
    )
