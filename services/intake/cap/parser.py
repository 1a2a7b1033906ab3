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
from shapely.ops import unary_union

from services.intake.cap.model import CapAlert, CapArea, CapInfo, CapReference, CapVersion
from services.intake.rejections import Rejected
from shared.geo import GeometryError, as_multipolygon, parse_cap_circle, parse_cap_polygon

MAX_CAP_BYTES: Final = 1_048_576

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
    bad_datetime, bad_reference, bad_polygon, bad_circle.
    """
    root, version = _load_valid(data, max_bytes=max_bytes)
    return _alert(_Reader(root, version))


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


class _Reader:
    """Namespace-qualified lookups in a schema-valid document."""

    def __init__(self, root: etree._Element, version: CapVersion) -> None:
        self.root = root
        self.version = version
        self._ns = f"{{{etree.QName(root).namespace}}}"

    def all(self, parent: etree._Element, tag: str) -> list[etree._Element]:
        return parent.findall(self._ns + tag)

    def text(self, parent: etree._Element, tag: str) -> str | None:
        value = parent.findtext(self._ns + tag)
        return value.strip() or None if value is not None else None

    def required(self, parent: etree._Element, tag: str) -> str:
        value = self.text(parent, tag)
        if value is None:
            raise Rejected("schema_violation", f"<{tag}> is empty")
        return value

    def texts(self, parent: etree._Element, tag: str) -> tuple[str, ...]:
        return tuple(value for el in self.all(parent, tag) if (value := (el.text or "").strip()))

    def pairs(self, parent: etree._Element, tag: str) -> tuple[tuple[str, str], ...]:
        """`<eventCode>` and `<geocode>`: (valueName, value)."""
        return tuple(
            (self.text(el, "valueName") or "", self.text(el, "value") or "")
            for el in self.all(parent, tag)
        )

    def datetime(self, parent: etree._Element, tag: str) -> datetime | None:
        value = self.text(parent, tag)
        return None if value is None else _aware_datetime(value, what=f"<{tag}>")


def _alert(reader: _Reader) -> CapAlert:
    root = reader.root
    sent = reader.datetime(root, "sent")
    if sent is None:
        raise Rejected("schema_violation", "<sent> is empty")
    return CapAlert(
        version=reader.version,
        identifier=reader.required(root, "identifier"),
        sender=reader.required(root, "sender"),
        sent=sent,
        status=reader.required(root, "status"),
        msg_type=reader.required(root, "msgType"),
        scope=reader.required(root, "scope"),
        source=reader.text(root, "source"),
        note=reader.text(root, "note"),
        references=_references(reader.text(root, "references") or ""),
        incidents=tuple((reader.text(root, "incidents") or "").split()),
        infos=tuple(_info(reader, el) for el in reader.all(root, "info")),
    )


def _info(reader: _Reader, el: etree._Element) -> CapInfo:
    return CapInfo(
        language=reader.text(el, "language") or "en-US",
        categories=reader.texts(el, "category"),
        event=reader.text(el, "event") or "",
        urgency=reader.required(el, "urgency"),
        severity=reader.required(el, "severity"),
        certainty=reader.required(el, "certainty"),
        event_codes=reader.pairs(el, "eventCode"),
        headline=reader.text(el, "headline"),
        description=reader.text(el, "description"),
        instruction=reader.text(el, "instruction"),
        sender_name=reader.text(el, "senderName"),
        web=reader.text(el, "web"),
        contact=reader.text(el, "contact"),
        effective=reader.datetime(el, "effective"),
        onset=reader.datetime(el, "onset"),
        expires=reader.datetime(el, "expires"),
        areas=tuple(_area(reader, area) for area in reader.all(el, "area")),
    )


def _area(reader: _Reader, el: etree._Element) -> CapArea:
    description = reader.text(el, "areaDesc") or ""
    shapes = []
    for text in reader.texts(el, "polygon"):
        try:
            shapes.append(parse_cap_polygon(text))
        except GeometryError as exc:
            raise Rejected("bad_polygon", f"area {description!r}: {exc}") from None
    for text in reader.texts(el, "circle"):
        try:
            shapes.append(parse_cap_circle(text))
        except GeometryError as exc:
            raise Rejected("bad_circle", f"area {description!r}: {exc}") from None
    geometry = None
    if shapes:
        geometry = as_multipolygon(shapes[0] if len(shapes) == 1 else unary_union(shapes))
    return CapArea(description=description, geometry=geometry, geocodes=reader.pairs(el, "geocode"))


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
