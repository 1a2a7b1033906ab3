"""A dispatcher places the area an alert could not: a CAP Update of that alert, with their circle.

The intake flags an incident `area_to_confirm` when its alert named places it could not find with
certainty (it then stands on the sender's regions, or on the places it guessed). A dispatcher who
knows where it is draws a circle on the console's map; `confirmed_area_update` (pure) turns the
alert as it was sent into an Update from Jedel's dispatchers (`DISPATCH_SENDER`, registered to act
for every sender) that says the same thing about the given circle and nothing else: same infos,
their areas replaced by one circle, referring to the alert it corrects. The API publishes it on
`alerts.cap.v1`, where the intake judges it like any other message; the incident is updated there
(`IncidentUpdated`, the flag cleared), and every service follows as it does for any Update.

A signature does not survive the change and is dropped: the dispatchers' sender need not sign.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from lxml import etree

DISPATCH_SENDER: Final = "dispatch@jedel.kz"
CAP_NAMESPACES: Final = frozenset(
    {"urn:oasis:names:tc:emergency:cap:1.1", "urn:oasis:names:tc:emergency:cap:1.2"}
)
SIGNATURE_NAMESPACE: Final = "http://www.w3.org/2000/09/xmldsig#"
# Where <references> goes among <alert>'s children (CAP's sequence): after these, before the rest.
_BEFORE_REFERENCES: Final = (
    "identifier",
    "sender",
    "sent",
    "status",
    "msgType",
    "source",
    "scope",
    "restriction",
    "addresses",
    "code",
    "note",
)


class NotCorrectable(ValueError):  # noqa: N818 - a refusal, not a failure
    """The alert cannot be corrected this way (not CAP, or no <info> to place)."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def confirmed_area_update(
    original: bytes,
    *,
    identifier: str,
    sent: datetime,
    lon: float,
    lat: float,
    radius_m: float,
    description: str,
) -> bytes:
    """The Update that places `original`'s alert on the circle (`lon`, `lat`, `radius_m`)."""
    try:
        root = etree.fromstring(original, _parser())
    except etree.XMLSyntaxError as error:
        raise NotCorrectable(f"the alert is not XML: {error}") from None
    namespace = etree.QName(root).namespace
    if namespace not in CAP_NAMESPACES or etree.QName(root).localname != "alert":
        raise NotCorrectable("the alert is not CAP")

    def tag(name: str) -> str:
        return f"{{{namespace}}}{name}"

    def text_of(name: str) -> str:
        found = root.find(tag(name))
        text = (found.text or "").strip() if found is not None else ""
        if not text:
            raise NotCorrectable(f"the alert has no <{name}>")
        return text

    reference = ",".join((text_of("sender"), text_of("identifier"), text_of("sent")))
    infos = root.findall(tag("info"))
    if not infos:
        raise NotCorrectable("the alert has no <info> to place")
    for signature in root.findall(f"{{{SIGNATURE_NAMESPACE}}}Signature"):
        root.remove(signature)
    root.find(tag("identifier")).text = identifier  # type: ignore[union-attr]
    root.find(tag("sender")).text = DISPATCH_SENDER  # type: ignore[union-attr]
    root.find(tag("sent")).text = sent.isoformat(timespec="seconds")  # type: ignore[union-attr]
    kind = root.find(tag("msgType"))
    if kind is None:
        raise NotCorrectable("the alert has no <msgType>")
    kind.text = "Update"
    for old in root.findall(tag("references")):
        root.remove(old)
    references = etree.Element(tag("references"))
    references.text = reference
    position = max(
        (
            index
            for index, child in enumerate(root)
            if isinstance(child.tag, str) and etree.QName(child).localname in _BEFORE_REFERENCES
        ),
        default=-1,
    )
    root.insert(position + 1, references)
    circle = f"{lat:.6f},{lon:.6f} {radius_m / 1000:.3f}"
    for info in infos:
        for area in info.findall(tag("area")):
            info.remove(area)
        area = etree.SubElement(info, tag("area"))
        etree.SubElement(area, tag("areaDesc")).text = description
        etree.SubElement(area, tag("circle")).text = circle
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
