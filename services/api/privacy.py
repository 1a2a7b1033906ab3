"""What a caller who may not see personal data is shown instead — pure.

A missing-person incident's texts name the person, their age, what they wear and their medical
needs, and its centre is where they were last seen. Only the dispatchers and coordinators of its
regions (and admins) read those; everyone else — the public map, volunteers, analysts, another
region's dispatchers — gets the kind of incident, its search area, and a centre rounded to about a
kilometre.
"""

from __future__ import annotations

from services.api.schemas import IncidentProperties
from shared.events.incidents import IncidentSource, LocalizedText

# 0.01° is ~1.1 km north–south and ~0.7 km east–west at Kazakhstan's latitudes.
PUBLIC_CENTER_DECIMALS = 2


def public_incident(properties: IncidentProperties) -> IncidentProperties:
    """The incident as someone without access to its people sees it."""
    if properties.source is not IncidentSource.MISSING_PERSON:
        return properties
    lon, lat = properties.center
    return properties.model_copy(
        update={
            "headline": None,
            "texts": [
                LocalizedText(language=text.language, event=text.event) for text in properties.texts
            ],
            "center": (
                round(lon, PUBLIC_CENTER_DECIMALS),
                round(lat, PUBLIC_CENTER_DECIMALS),
            ),
        }
    )
