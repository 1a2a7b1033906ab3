"""Bytes from the outside world to a `CapAlert`, or a `Rejected` saying why not.

The order matters: size first, then the encoding (the message is decoded as its prolog declares
and handed on as UTF-8), then any DTD is refused on that text — so an entity bomb is never handed
to the XML parser at all, whatever encoding hides it — then parse, check the namespace, validate
against the vendored OASIS schema of that version, and only then build the model. Nothing here
touches the network or the file system except to read the schemas next to this file.
"""

from __future__ import annotations

import codecs
import re
import threading
from datetime import datetime
from pathlib import Path
from typing import Final

from lxml import etree
from shapely.geometry import MultiPolygon
from shapely.ops import unary_union

from services.intake.cap.model import CapAlert, CapArea, CapInfo, CapReference, CapVersion
from shared.geo import (
    MAX_POLYGON_POINTS,
    GeometryError,
    as_multipolygon,
    parse_cap_circle,
    parse_cap_polygon,
)
from shared.rejections import Rejected

MAX_CAP_BYTES: Final = 1_048_576
MAX_CAP_SHAPES: Final = 500
"""Distinct polygons and circles in one message. Building and merging them is the costly part
(about 0.3 ms a circle), and a megabyte of circles would otherwise hold a worker for seconds."""
MAX_CAP_POINTS: Final = 100_000
"""Polygon points in one message, all polygons together (one polygon: `MAX_POLYGON_POINTS`)."""
MAX_CAP_AREAS: Final = 2_000
"""`<area>` blocks in one message: a German warning lists hundreds of municipalities, each
an area, in each language."""
MAX_CAP_INFOS: Final = 100
MAX_CAP_NODES: Final = 10_000
"""XML elements and attributes in one message, counted before schema validation: libxml2 reports
one error per misplaced element, and lxml records each error's node path by scanning the earlier
siblings, which is quadratic (5,000 errors take 0.13 s, 10,000 0.3 s, 20,000 3 s)."""
MAX_CAP_REFERENCES: Final = 100
"""Earlier messages one Update or Cancel may name; each is looked up."""
MAX_KEY_CHARS: Final = 256
MAX_PROSE_CHARS: Final = 20_000
"""`<description>` and `<instruction>`; headlines, event words and names get `MAX_LINE_CHARS`."""
MAX_LINE_CHARS: Final = 1_000

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
    r"\A\s*<\?xml\s[^>]{0,100}?\bencoding\s*=\s*[\"']([A-Za-z0-9._-]{1,40})[\"']"
)
_XML_DECLARATION = re.compile(r"\A\s*<\?xml\s[^>]{0,200}\?>")
_BOMS: Final = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose mark it begins with
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_NOT_CHARSETS: Final = frozenset(
    # Codecs Python knows that rewrite text rather than encode characters (and punycode and
    # idna are quadratic): a message "encoded" in them is refused.
    {"unicode-escape", "raw-unicode-escape", "punycode", "idna", "utf-7", "undefined"}
)
_LXML_SOURCE_SUFFIX = re.compile(r"\s*\(<string>, line \d+\)\s*$")
_CAP_NAMESPACE_PREFIX = re.compile(r"\{urn:oasis:names:tc:emergency:cap:1\.[12]\}")
_REASON_MAX_CHARS = 300
_QUOTED_MAX_CHARS = 100
_SCHEMA_ERRORS_SHOWN = 3


def parse_cap(data: bytes, *, max_bytes: int = MAX_CAP_BYTES) -> CapAlert:
    """Read one CAP 1.1 or 1.2 message; raises `Rejected` with a stable code for every refusal.

    Codes: too_large, bad_encoding, forbidden_dtd, malformed_xml, not_cap, schema_violation,
    too_complex, bad_datetime, bad_reference, bad_polygon, bad_circle.
    """
    root, version = _load_valid(data, max_bytes=max_bytes)
    _refuse_too_complex(root)
    return _alert(_Node(root), version)


def validate_only(data: bytes, *, max_bytes: int = MAX_CAP_BYTES) -> None:
    """The same safe parse and schema validation as `parse_cap`, without building the model."""
    _load_valid(data, max_bytes=max_bytes)


def _load_valid(data: bytes, *, max_bytes: int) -> tuple[etree._Element, CapVersion]:
    _refuse_oversize(data, max_bytes=max_bytes)
    document = utf8_document(data)
    _refuse_dtd(document)
    root = _parse_xml(document)
    _refuse_dtd_in_tree(root)
    _refuse_too_many_nodes(root)
    version = _cap_version(root)
    schema = _schema(version)
    if not schema.validate(root):
        raise Rejected("schema_violation", _schema_errors(schema.error_log))
    return root, version


def _refuse_oversize(data: bytes, *, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise Rejected("too_large", f"message is {len(data):,} bytes; the limit is {max_bytes:,}")


def utf8_document(data: bytes) -> bytes:
    """The message as UTF-8, read by the encoding its XML prolog declares (or its byte-order mark);
    `Rejected("bad_encoding")` when it cannot be read as declared.

    XML allows any declared encoding, and alerts still come in windows-1251, KOI8-R and Latin-1.
    Python decodes; the XML parser only ever sees UTF-8 with the declaration taken out, so the DTD
    scan and the parser read exactly the same characters. An undeclared message must be UTF-8, as
    XML says. Linear in the size: every codec allowed here is a C codec reading each byte once.
    """
    encoding, body = _declared_encoding(data)
    if encoding == "utf-8":  # most messages: checked, and parsed as they came
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Rejected("bad_encoding", _undecodable(body, exc, "UTF-8")) from None
        return body
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        raise Rejected("bad_encoding", _undecodable(body, exc, encoding)) from None
    return _without_declaration(text)


def _declared_encoding(data: bytes) -> tuple[str, bytes]:
    """(Python codec name, the bytes to decode with it): by byte-order mark first, then by the
    prolog's `encoding=` (XML 1.0 § 4.3.3 and appendix F)."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            prolog = data[len(bom) : len(bom) + 800].decode(codec, "replace")
            declared = _DECLARED_ENCODING.match(prolog)
            if declared and _unicode_family(_codec(declared[1])) != _unicode_family(codec):
                raise Rejected(
                    "bad_encoding",
                    f"the byte-order mark says {codec.upper()} but the prolog declares "
                    f"{declared[1]!r}",
                )
            return codec, data[len(bom) :]
    declared = _DECLARED_ENCODING.match(data[:200].decode("latin-1"))
    if declared is None:
        return "utf-8", data
    return _codec(declared[1]), data


def _unicode_family(codec: str) -> str:
    return codec.removesuffix("-le").removesuffix("-be")


def _codec(name: str) -> str:
    try:
        info = codecs.lookup(name)
    except LookupError:
        raise Rejected(
            "bad_encoding", f"declared encoding {name!r} is not one this service can read"
        ) from None
    if info.name in _NOT_CHARSETS or getattr(info, "_is_text_encoding", True) is False:
        raise Rejected("bad_encoding", f"declared encoding {name!r} is not a character encoding")
    return "utf-8" if info.name in ("utf-8", "ascii") else info.name


def _undecodable(body: bytes, exc: UnicodeDecodeError, encoding: str) -> str:
    hint = " (declare its encoding in the XML prolog if it is not)" if encoding == "UTF-8" else ""
    return f"not valid {encoding}: byte {exc.start} ({body[exc.start]:#04x}) {exc.reason}{hint}"


def _without_declaration(text: str) -> bytes:
    return _XML_DECLARATION.sub("", text, count=1).encode("utf-8")


def _refuse_dtd(data: bytes) -> None:
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


def _refuse_too_many_nodes(root: etree._Element) -> None:
    nodes = 0
    for element in root.iter():
        nodes += 1 + len(element.attrib)
    if nodes > MAX_CAP_NODES:
        raise Rejected(
            "too_complex",
            f"message has {nodes:,} XML elements and attributes; the limit is {MAX_CAP_NODES:,}",
        )


def _refuse_too_complex(root: etree._Element) -> None:
    """Refuse, before any geometry is built, what would cost more than its size: too many shapes,
    points, areas or blocks. One pass over the tree; points are counted by their commas."""
    ns = f"{{{etree.QName(root).namespace}}}"
    shapes: set[tuple[str, str | None]] = set()
    points = areas = infos = 0
    for element in root.iter(ns + "polygon", ns + "circle", ns + "area", ns + "info"):
        tag = element.tag.removeprefix(ns)
        if tag == "info":
            infos += 1
        elif tag == "area":
            areas += 1
        else:
            text = element.text or ""
            shapes.add((tag, text))
            commas = text.count(",")
            if tag == "polygon" and commas > MAX_POLYGON_POINTS:
                raise Rejected(
                    "too_complex",
                    f"a polygon has {commas:,} points; the limit is {MAX_POLYGON_POINTS:,}",
                )
            points += commas
    for count, limit, what in (
        (len(shapes), MAX_CAP_SHAPES, "distinct polygons and circles"),
        (points, MAX_CAP_POINTS, "polygon and circle points"),
        (areas, MAX_CAP_AREAS, "<area> blocks"),
        (infos, MAX_CAP_INFOS, "<info> blocks"),
    ):
        if count > limit:
            raise Rejected("too_complex", f"message has {count:,} {what}; the limit is {limit:,}")


def _bounded_key(node: _Node, tag: str) -> str:
    """An identifying field (`<identifier>`, `<sender>`): required, and refused when too long to
    be anyone's identifier rather than cut (a cut key would match the wrong message)."""
    value = node.required(tag)
    if len(value) > MAX_KEY_CHARS:
        raise Rejected(
            "too_complex", f"<{tag}> is {len(value):,} characters; the limit is {MAX_KEY_CHARS}"
        )
    return value


def _bounded(text: str | None, limit: int) -> str | None:
    """Prose cut to `limit` characters, marked with an ellipsis: the whole message is kept as it
    came in the alert record, so nothing is lost to the people who need it."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


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


def _quoted(text: str) -> str:
    """The sender's words in a reason, cut: a reason says what is wrong, it does not repeat the
    message (which is kept whole in the alert record)."""
    return repr(text if len(text) <= _QUOTED_MAX_CHARS else text[: _QUOTED_MAX_CHARS - 1] + "…")


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
        identifier=_bounded_key(root, "identifier"),
        sender=_bounded_key(root, "sender"),
        sent=sent,
        status=root.required("status"),
        msg_type=root.required("msgType"),
        scope=root.required("scope"),
        source=_bounded(root.text("source"), MAX_LINE_CHARS),
        note=_bounded(root.text("note"), MAX_PROSE_CHARS),
        references=_references(root.text("references") or ""),
        incidents=tuple((root.text("incidents") or "").split()[:MAX_CAP_REFERENCES]),
        infos=tuple(_info(info, shapes=shapes) for info in root.nodes("info")),
    )


def _info(info: _Node, *, shapes: _Shapes) -> CapInfo:
    return CapInfo(
        language=info.text("language") or "en-US",
        categories=info.texts("category"),
        event=_bounded(info.text("event"), MAX_LINE_CHARS) or "",
        urgency=info.required("urgency"),
        severity=info.required("severity"),
        certainty=info.required("certainty"),
        event_codes=info.pairs("eventCode"),
        headline=_bounded(info.text("headline"), MAX_LINE_CHARS),
        description=_bounded(info.text("description"), MAX_PROSE_CHARS),
        instruction=_bounded(info.text("instruction"), MAX_PROSE_CHARS),
        sender_name=_bounded(info.text("senderName"), MAX_LINE_CHARS),
        web=_bounded(info.text("web"), MAX_LINE_CHARS),
        contact=_bounded(info.text("contact"), MAX_LINE_CHARS),
        effective=info.datetime("effective"),
        onset=info.datetime("onset"),
        expires=info.datetime("expires"),
        areas=tuple(_area(area, shapes=shapes) for area in info.nodes("area")),
    )


def _area(area: _Node, *, shapes: _Shapes) -> CapArea:
    description = _bounded(area.text("areaDesc"), MAX_PROSE_CHARS) or ""
    # A shape repeated within the area is built once: `MAX_CAP_SHAPES` counts it once, and the
    # union of copies is the shape itself (30,000 copies of one circle took 9 s).
    texts = (_distinct(area.texts("polygon")), _distinct(area.texts("circle")))
    if texts not in shapes:
        shapes[texts] = _geometry(*texts, description=description)
    return CapArea(description=description, geometry=shapes[texts], geocodes=area.pairs("geocode"))


def _distinct(texts: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(texts))


def _geometry(
    polygons: tuple[str, ...], circles: tuple[str, ...], *, description: str
) -> MultiPolygon | None:
    parts = []
    for text in polygons:
        try:
            parts.append(parse_cap_polygon(text))
        except GeometryError as exc:
            raise Rejected("bad_polygon", _trim(f"area {_quoted(description)}: {exc}")) from None
    for text in circles:
        try:
            parts.append(parse_cap_circle(text))
        except GeometryError as exc:
            raise Rejected("bad_circle", _trim(f"area {_quoted(description)}: {exc}")) from None
    if not parts:
        return None
    return as_multipolygon(parts[0] if len(parts) == 1 else unary_union(parts))


def _references(text: str) -> tuple[CapReference, ...]:
    triples = text.split()
    if len(triples) > MAX_CAP_REFERENCES:
        raise Rejected(
            "too_complex",
            f"<references> names {len(triples):,} messages; the limit is {MAX_CAP_REFERENCES}",
        )
    references = []
    for triple in triples:
        parts = triple.split(",")
        if len(parts) != 3 or not all(parts):
            raise Rejected(
                "bad_reference",
                _trim(f"reference {_quoted(triple)} is not 'sender,identifier,sent'"),
            )
        sender, identifier, sent = parts
        try:
            sent_at = _aware_datetime(sent, what="sent")
        except Rejected as exc:
            raise Rejected(
                "bad_reference", _trim(f"reference {_quoted(triple)}: {exc.reason}")
            ) from None
        references.append(CapReference(sender=sender, identifier=identifier, sent=sent_at))
    return tuple(references)


def _aware_datetime(text: str, *, what: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Rejected("bad_datetime", f"{what} {_quoted(text)} is not a date and time") from None
    if value.utcoffset() is None:
        raise Rejected(
            "bad_datetime", f"{what} {_quoted(text)} has no UTC offset; CAP requires one"
        )
    return value
