"""Bytes from the outside world to a `CapAlert`, or a `Rejected` saying why not.

The order matters: size first, then encoding, then any DTD is refused on the raw bytes — so an
entity bomb is never handed to the XML parser at all — then parse, check the namespace, validate
against the vendored OASIS schema of that version, and only then build the model. Nothing here
touches the network or the file system except to read the schemas next to this file.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime
from pathlib import Path
from typing import Final

from lxml import etree
from shapely.geometry import MultiPolygon
from shapely.ops import unary_union

from services.intake.cap.model import CapAlert, CapArea, CapInfo, CapReference, CapVersion
from shared.geo import GeometryError, as_multipolygon, parse_cap_circle, parse_cap_polygon
from shared.rejections import Rejected

MAX_CAP_BYTES: Final = 1_048_576
MAX_CAP_SHAPES: Final = 500
"""Distinct polygons and circles in one message. Building and merging them is the costly part
(about 0.3 ms a circle), and a megabyte of circles would otherwise hold a worker for seconds."""

NAMESPACES: Final[dict[str, CapVersion]] = {
    "urn:oasis:names:tc:emergency:cap:1.1": "1.1",
    "urn:oasis:names:tc:emergency:cap:1.2": "1.2",
}
_SCHEMA_FILES: Final[dict[CapVersion, Path]] = {
    "1.1": Path(__file__).parent / "schemas" / "cap11.xsd",
    "1.2": Path(__file__).parent / "schemas" / "cap12.xsd",
}
_DTD_MARKUP = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_DECLARED_ENCODING = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?\bencoding\s*=\s*[\"']([^\"']*)"
)
_UTF8_NAMES: Final = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_LXML_SOURCE_SUFFIX = re.compile(r"\s*\(<string>, line \d+\)\s*$")
_CAP_NAMESPACE_PREFIX = re.compile(r"\{urn:oasis:names:tc:emergency:cap:1\.[12]\}")
_REASON_MAX_CHARS = 300
_SCHEMA_ERRORS_SHOWN = 3


def parse_cap(data: bytes, *, max_bytes: int = MAX_CAP_BYTES) -> CapAlert:
    """Read one CAP 1.1 or 1.2 message; raises `Rejected` with a stable code for every refusal.

    Codes: too_large, bad_encoding, forbidden_dtd, malformed_xml, not_cap, schema_violation,
    too_complex, bad_datetime, bad_reference, bad_polygon, bad_circle.
    """
    root, version = _load_valid(data, max_bytes=max_bytes)
    _refuse_too_many_shapes(root)
    return _alert(_Node(root), version)


def validate_only(data: bytes, *, max_bytes: int = MAX_CAP_BYTES) -> None:
    """The same safe parse and schema validation as `parse_cap`, without building the model."""
    _load_valid(data, max_bytes=max_bytes)


def _load_valid(data: bytes, *, max_bytes: int) -> tuple[etree._Element, CapVersion]:
    _refuse_oversize(data, max_bytes=max_bytes)
    _refuse_non_utf8(data)
    _refuse_dtd_in_bytes(data)
    root = _parse_xml(data)
    _refuse_dtd_in_tree(root)
    version = _cap_version(root)
    schema = _schema(version)
    if not schema.validate(root):
        raise Rejected("schema_violation", _schema_errors(schema.error_log))
    return root, version


def _refuse_oversize(data: bytes, *, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise Rejected("too_large", f"message is {len(data):,} bytes; the limit is {max_bytes:,}")


def _refuse_non_utf8(data: bytes) -> None:
    """Only UTF-8 is read, and read as UTF-8 whatever the declaration says, so the DTD scan below
    sees exactly the characters the parser will."""
    declared = _DECLARED_ENCODING.match(data)
    if declared and declared[1].decode("ascii", "replace").lower() not in _UTF8_NAMES:
        raise Rejected(
            "bad_encoding",
            f"declared encoding {declared[1].decode('ascii', 'replace')!r}; only UTF-8 is accepted",
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(
            "bad_encoding", f"not UTF-8: byte {exc.start} ({data[exc.start]:#04x}) {exc.reason}"
        ) from None


def _refuse_dtd_in_bytes(data: bytes) -> None:
    found = _DTD_MARKUP.search(data)
    if found:
        markup = found[0].decode("ascii")
        raise Rejected(
            "forbidden_dtd",
            f"{markup} at byte {found.start()}: DTDs and entity declarations are refused "
            "(they allow entity bombs and reading local files)",
        )


def _refuse_dtd_in_tree(root: etree._Element) -> None:
    """Second line, should the byte scan ever be fooled: the parsed tree must have no DTD at all."""
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.public_id:
        raise Rejected(
            "forbidden_dtd", f"a document type declaration for <{docinfo.root_name}> is refused"
        )


def _refuse_too_many_shapes(root: etree._Element) -> None:
    ns = f"{{{etree.QName(root).namespace}}}"
    shapes = {(el.tag, el.text) for el in root.iter(ns + "polygon", ns + "circle")}
    if len(shapes) > MAX_CAP_SHAPES:
        raise Rejected(
            "too_complex",
            f"message has {len(shapes):,} distinct polygons and circles; the limit is "
            f"{MAX_CAP_SHAPES}",
        )


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        encoding="utf-8",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


_PARSER: Final = _safe_parser()  # lxml locks a parser while it parses, so threads can share it


def _parse_xml(data: bytes) -> etree._Element:
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        message = " ".join(_LXML_SOURCE_SUFFIX.sub("", str(exc)).split())
        raise Rejected("malformed_xml", _trim(message)) from None


def _cap_version(root: etree._Element) -> CapVersion:
    qname = etree.QName(root)
    version = NAMESPACES.get(qname.namespace or "")
    if version is None or qname.localname != "alert":
        raise Rejected(
            "not_cap",
            f"root element is {root.tag!r}; expected <alert> in the CAP 1.1 or 1.2 namespace",
        )
    return version


_schemas = threading.local()


def _schema(version: CapVersion) -> etree.XMLSchema:
    """The OASIS schema, loaded once per thread: a validator's error log is not safe to share."""
    cache: dict[CapVersion, etree.XMLSchema] | None = getattr(_schemas, "by_version", None)
    if cache is None:
        cache = _schemas.by_version = {}
    schema = cache.get(version)
    if schema is None:
        schema = cache[version] = etree.XMLSchema(etree.parse(_SCHEMA_FILES[version], _PARSER))
    return schema


def _schema_errors(log: etree._ListErrorLog) -> str:
    shown = [
        f"line {error.line}: {_CAP_NAMESPACE_PREFIX.sub('', error.message)}"
        for error in list(log)[:_SCHEMA_ERRORS_SHOWN]
    ]
    more = len(log) - len(shown)
    return _trim("; ".join(shown) + (f" (+{more} more)" if more > 0 else ""))


def _trim(text: str) -> str:
    return text if len(text) <= _REASON_MAX_CHARS else text[: _REASON_MAX_CHARS - 1] + "…"


class _Node:
    """One element's children by local name, read once: the document is schema-valid, so every
    child is in the CAP namespace and in its place."""

    __slots__ = ("_children",)

    def __init__(self, element: etree._Element) -> None:
        children: dict[str, list[etree._Element]] = {}
        for child in element:
            children.setdefault(child.tag.rpartition("}")[2], []).append(child)
        self._children = children

    def nodes(self, tag: str) -> list[_Node]:
        return [_Node(child) for child in self._children.get(tag, ())]

    def text(self, tag: str) -> str | None:
        found = self._children.get(tag)
        return (found[0].text or "").strip() or None if found else None

    def required(self, tag: str) -> str:
        value = self.text(tag)
        if value is None:
            raise Rejected("schema_violation", f"<{tag}> is empty")
        return value

    def texts(self, tag: str) -> tuple[str, ...]:
        return tuple(
            value for child in self._children.get(tag, ()) if (value := (child.text or "").strip())
        )

    def pairs(self, tag: str) -> tuple[tuple[str, str], ...]:
        """`<eventCode>` and `<geocode>`: (valueName, value)."""
        return tuple(
            (pair.text("valueName") or "", pair.text("value") or "") for pair in self.nodes(tag)
        )

    def datetime(self, tag: str) -> datetime | None:
        value = self.text(tag)
        return None if value is None else _aware_datetime(value, what=f"<{tag}>")


_Shapes = dict[tuple[tuple[str, ...], tuple[str, ...]], MultiPolygon | None]
"""Geometry already built in this message, by its polygon and circle texts: each language's
`<info>` usually repeats the same areas."""


def _alert(root: _Node, version: CapVersion) -> CapAlert:
    sent = root.datetime("sent")
    if sent is None:
        raise Rejected("schema_violation", "<sent> is empty")
    shapes: _Shapes = {}
    return CapAlert(
        version=version,
        identifier=root.required("identifier"),
        sender=root.required("sender"),
        sent=sent,
        status=root.required("status"),
        msg_type=root.required("msgType"),
        scope=root.required("scope"),
        source=root.text("source"),
        note=root.text("note"),
        references=_references(root.text("references") or ""),
        incidents=tuple((root.text("incidents") or "").split()),
        infos=tuple(_info(info, shapes=shapes) for info in root.nodes("info")),
    )


def _info(info: _Node, *, shapes: _Shapes) -> CapInfo:
    return CapInfo(
        language=info.text("language") or "en-US",
        categories=info.texts("category"),
        event=info.text("event") or "",
        urgency=info.required("urgency"),
        severity=info.required("severity"),
        certainty=info.required("certainty"),
        event_codes=info.pairs("eventCode"),
        headline=info.text("headline"),
        description=info.text("description"),
        instruction=info.text("instruction"),
        sender_name=info.text("senderName"),
        web=info.text("web"),
        contact=info.text("contact"),
        effective=info.datetime("effective"),
        onset=info.datetime("onset"),
        expires=info.datetime("expires"),
        areas=tuple(_area(area, shapes=shapes) for area in info.nodes("area")),
    )


def _area(area: _Node, *, shapes: _Shapes) -> CapArea:
    description = area.text("areaDesc") or ""
    texts = (area.texts("polygon"), area.texts("circle"))
    if texts not in shapes:
        shapes[texts] = _geometry(*texts, description=description)
    return CapArea(description=description, geometry=shapes[texts], geocodes=area.pairs("geocode"))


def _geometry(
    polygons: tuple[str, ...], circles: tuple[str, ...], *, description: str
) -> MultiPolygon | None:
    parts = []
    for text in polygons:
        try:
            parts.append(parse_cap_polygon(text))
        except GeometryError as exc:
            raise Rejected("bad_polygon", f"area {description!r}: {exc}") from None
    for text in circles:
        try:
            parts.append(parse_cap_circle(text))
        except GeometryError as exc:
            raise Rejected("bad_circle", f"area {description!r}: {exc}") from None
    if not parts:
        return None
    return as_multipolygon(parts[0] if len(parts) == 1 else unary_union(parts))


def _references(text: str) -> tuple[CapReference, ...]:
    references = []
    for triple in text.split():
        parts = triple.split(",")
        if len(parts) != 3 or not all(parts):
            raise Rejected("bad_reference", f"reference {triple!r} is not 'sender,identifier,sent'")
        sender, identifier, sent = parts
        try:
            sent_at = _aware_datetime(sent, what="sent")
        except Rejected as exc:
            raise Rejected("bad_reference", f"reference {triple!r}: {exc.reason}") from None
        references.append(CapReference(sender=sender, identifier=identifier, sent=sent_at))
    return tuple(references)


def _aware_datetime(text: str, *, what: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Rejected("bad_datetime", f"{what} {text!r} is not a date and time") from None
    if value.utcoffset() is None:
        raise Rejected("bad_datetime", f"{what} {text!r} has no UTC offset; CAP requires one")
    return value
