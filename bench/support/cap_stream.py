"""Synthetic CAP 1.2 traffic for the benchmarks: varied hazards, shapes and places in Kazakhstan."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from shared.reference import KAZAKHSTAN_TZ, load_regions, load_settlements

HOSTILE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "cap" / "hostile"
HAZARDS = (
    ("Met", "Су тасқыны", "Паводок", "Severe", "Expected"),
    ("Fire", "Дала өрті", "Степной пожар", "Severe", "Immediate"),
    ("Met", "Боран", "Метель", "Moderate", "Expected"),
    ("Geo", "Сел", "Сель", "Extreme", "Immediate"),
    ("Geo", "Жер сілкінісі", "Землетрясение", "Extreme", "Immediate"),
    ("Other", "Өнеркәсіптік апат", "Промышленная авария", "Moderate", "Future"),
)


def _area(rng: random.Random) -> str:
    settlement = rng.choice(load_settlements())
    lat, lon = settlement.latitude, settlement.longitude
    shape = rng.random()
    if shape < 0.45:
        return f"<circle>{lat:.4f},{lon:.4f} {rng.uniform(2, 30):.1f}</circle>"
    if shape < 0.9:
        radius = rng.uniform(0.03, 0.3)
        points = [
            (lat + radius * math.sin(a), lon + 1.6 * radius * math.cos(a))
            for a in (2 * math.pi * k / 8 for k in range(8))
        ]
        points.append(points[0])
        return "<polygon>" + " ".join(f"{p:.4f},{q:.4f}" for p, q in points) + "</polygon>"
    code = rng.choice(load_regions()).code
    return f"<geocode><valueName>ISO3166-2</valueName><value>{code}</value></geocode>"


def cap_alert(identifier: str, *, sent: datetime, rng: random.Random) -> bytes:
    category, event_kk, event_ru, severity, urgency = rng.choice(HAZARDS)
    area = f"<area><areaDesc>{escape(event_ru)}</areaDesc>{_area(rng)}</area>"
    stamp = sent.astimezone(KAZAKHSTAN_TZ).isoformat(timespec="seconds")
    expires = (sent + timedelta(days=2)).astimezone(KAZAKHSTAN_TZ).isoformat(timespec="seconds")
    infos = "".join(
        f"<info><language>{language}</language><category>{category}</category>"
        f"<event>{escape(event)}</event><urgency>{urgency}</urgency>"
        f"<severity>{severity}</severity><certainty>Likely</certainty>"
        f"<expires>{expires}</expires><headline>{escape(event)}</headline>{area}</info>"
        for language, event in (("kk-KZ", event_kk), ("ru-RU", event_ru))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
        f"<identifier>{identifier}</identifier><sender>bench@emer.gov.kz</sender>"
        f"<sent>{stamp}</sent><status>Actual</status><msgType>Alert</msgType>"
        f"<scope>Public</scope>{infos}</alert>"
    ).encode()


def hostile_messages() -> list[bytes]:
    return [path.read_bytes() for path in sorted(HOSTILE.glob("*.xml"))]
