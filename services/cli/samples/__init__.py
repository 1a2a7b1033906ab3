"""Sample alerts for the demo, stamped with the current time and a fresh identifier each run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from string import Template

from shared.events import topics
from shared.reference import KAZAKHSTAN_TZ

HERE = Path(__file__).parent
SENDER = "cap@emer.gov.kz"


@dataclass(frozen=True)
class Sample:
    label: str
    topic: str
    payload: bytes
    identifier: str
    expect_dead_letter: bool = False
    sent: str | None = None  # CAP <sent>, for the Cancel that withdraws the sample

    def cancel(self, now: datetime) -> bytes | None:
        """A CAP 1.2 Cancel of this sample alert, or None when it is not a CAP alert."""
        if self.sent is None or self.expect_dead_letter:
            return None
        stamp = now.astimezone(KAZAKHSTAN_TZ).isoformat(timespec="seconds")
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
            f"<identifier>{self.identifier}-CANCEL</identifier><sender>{SENDER}</sender>"
            f"<sent>{stamp}</sent><status>Actual</status><msgType>Cancel</msgType>"
            f"<scope>Public</scope><note>Demo over: alert withdrawn</note>"
            f"<references>{SENDER},{self.identifier},{self.sent}</references></alert>"
        ).encode()


def _cap(name: str, *, identifier: str, now: datetime, lasts: timedelta) -> bytes:
    template = Template((HERE / f"{name}.xml").read_text(encoding="utf-8"))
    return template.substitute(
        identifier=identifier,
        sent=now.isoformat(timespec="seconds"),
        onset=(now + timedelta(hours=2)).isoformat(timespec="seconds"),
        expires=(now + lasts).isoformat(timespec="seconds"),
    ).encode()


# Every identifier `build_samples` makes, whatever the run (a PostgreSQL regular expression).
SAMPLE_IDENTIFIERS = r"^(KZ-TZhM-(KST|AKT|AKM)-[0-9]{14}-(FLOOD|FIRE|BLIZZARD)|POL-ALM-[0-9]{14})$"


def build_samples(now: datetime, run_id: str) -> list[Sample]:
    now = now.astimezone(KAZAKHSTAN_TZ).replace(microsecond=0)
    sent = now.isoformat(timespec="seconds")
    flood_id = f"KZ-TZhM-KST-{run_id}-FLOOD"
    fire_id = f"KZ-TZhM-AKT-{run_id}-FIRE"
    blizzard_id = f"KZ-TZhM-AKM-{run_id}-BLIZZARD"
    report_id = f"POL-ALM-{run_id}"
    missing_person = {
        "report_id": report_id,
        "reported_at": now.isoformat(timespec="seconds"),
        "reporting_unit": "Алматы қаласы Полиция департаменті",
        "contact_phone": "+77272540000",
        "language": "kk",
        "person": {
            "full_name": "Әлихан Серікұлы",
            "age_years": 8,
            "sex": "male",
            "category": "child",
            "description": "Бойы 125 см, көк куртка, қызыл рюкзак",
        },
        "last_seen": {
            "latitude": 43.1770,
            "longitude": 76.9950,
            "at": (now - timedelta(hours=3)).isoformat(timespec="seconds"),
            "place": "Медеу, Алматы",
        },
    }
    malformed = (
        b'<?xml version="1.0"?><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
        b"<identifier>" + run_id.encode() + b"-BROKEN</identifier><sender>cap@emer.gov.kz"
        b"</sender><info><event>Flood</event></alert>"
    )
    return [
        Sample(
            "CAP 1.2 flood, Kostanay, polygon",
            topics.ALERTS_CAP,
            _cap("flood_kostanay_12", identifier=flood_id, now=now, lasts=timedelta(days=3)),
            flood_id,
            sent=sent,
        ),
        Sample(
            "CAP 1.1 steppe fire, Aktobe, circle",
            topics.ALERTS_CAP,
            _cap("steppe_fire_11", identifier=fire_id, now=now, lasts=timedelta(hours=12)),
            fire_id,
            sent=sent,
        ),
        Sample(
            "CAP 1.2 blizzard, geocode KZ-11",
            topics.ALERTS_CAP,
            _cap("blizzard_geocode_12", identifier=blizzard_id, now=now, lasts=timedelta(days=1)),
            blizzard_id,
            sent=sent,
        ),
        Sample(
            "Police: missing child, Almaty",
            topics.ALERTS_MISSING_PERSON,
            json.dumps(missing_person, ensure_ascii=False).encode(),
            report_id,
        ),
        Sample(
            "Malformed CAP",
            topics.ALERTS_CAP,
            malformed,
            f"{run_id}-BROKEN",
            expect_dead_letter=True,
        ),
    ]
