"""Streaming parsers for XML and large JSON report documents (memory flat in the document size).

- XML (``iterparse`` with element clearing; a DTD is refused up front): every ``spec.xml_row``
  element becomes a row. Leaves are named by their path: ``FulfillmentData/Address/City``; an
  attribute is ``path@name``; a repeated price component
  ``<Component><Type>Tax</Type><Amount currency="USD">1.2</Amount></Component>`` is named by its
  type (``ItemPrice/Tax/Amount``, ``ItemPrice/Tax/Amount@currency``). Scalar fields of the
  ``spec.xml_context`` element (e.g. ``Order`` around its ``OrderItem`` rows) are repeated on each
  row; row paths are then relative to the context (``OrderItem/SKU``), else relative to the row. A
  leaf that repeats (``childNodes/id``) becomes a JSON array text.
- JSON: each declared section (top-level array) is streamed with ijson, records flattened like the
  in-memory parser; documents under :data:`SMALL_JSON` bytes are loaded whole (faster, same result).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import ijson
import pyarrow as pa
import pyarrow.compute as pc

from splake.errors import BadDataError, ReportFailedError
from splake.lake.tables import BadRow
from splake.reports.casting import cast_strings
from splake.reports.locales import DEFAULT_LOCALE, CastLocale
from splake.reports.parse_json import fill_column
from splake.reports.planner import iso
from splake.reports.typed import ParsedChunk, type_strings
from splake.reports.types import JsonSection, ReportTypeSpec, snake_case

ROWS_PER_CHUNK = 20_000
SMALL_JSON = 8 << 20


PROLOG_LIMIT = 1 << 20
_PROLOG_SKIP = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.S)


def _local(tag: str) -> str:
    return tag if tag[:1] != "{" else tag.rsplit("}", 1)[-1]


def _refuse_dtd(f: BinaryIO, spec: ReportTypeSpec, path: Path) -> None:
    """Refuse a document type declaration (the only place entities can be declared: XML bombs and external
    entities need one). Amazon's reports have none. Rewinds ``f``."""
    head = f.read(PROLOG_LIMIT)
    f.seek(0)
    pos = 0
    while m := _PROLOG_SKIP.match(head, pos):
        if m.end() == pos:
            break
        pos = m.end()
    rest = head[pos : pos + 9]
    if rest[:2] == b"<!":
        raise BadDataError(
            "XML report declares a DTD; refused (entity expansion and external entities are never needed)",
            where=f"{spec.name} ({path.name})",
            hint="the raw document is kept in the raw zone; report it if Amazon really sent this",
        )
    if pos >= len(head) == PROLOG_LIMIT:
        raise BadDataError(
            "XML report has no root element in its first MB", where=f"{spec.name} ({path.name})"
        )


def _flatten_xml(elem: ET.Element, prefix: str, out: dict[str, list[str]]) -> None:
    for name, value in elem.attrib.items():
        out.setdefault(f"{prefix}@{_local(name)}", []).append(value)
    children = list(elem)
    if not children:
        text = (elem.text or "").strip()
        if text or not elem.attrib:
            out.setdefault(prefix, []).append(text)
        return
    for child in children:
        tag = _local(child.tag)
        kind = child.find("Type") if len(child) else None
        if kind is not None and kind.text:
            # a typed component: named by its type, its Type leaf dropped
            sub = f"{prefix}/{kind.text.strip()}" if prefix else kind.text.strip()
            for grand in child:
                if grand is kind:
                    continue
                g = _local(grand.tag)
                _flatten_xml(grand, f"{sub}/{g}", out)
            continue
        _flatten_xml(child, f"{prefix}/{tag}" if prefix else tag, out)


def _collapse(values: dict[str, list[str]]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for k, v in values.items():
        out[k] = v[0] if len(v) == 1 else json.dumps(v, ensure_ascii=False)
    return out


def _chunk(
    spec: ReportTypeSpec, rows: list[dict[str, str | None]], first_line: int, opts: dict[str, Any]
) -> ParsedChunk:
    """Rows keyed by source path/name → the typed chunk (declared columns by source, others snake_case)."""
    by_source = {c.source: c.column for c in spec.columns}
    keys: dict[str, str] = {}
    for row in rows:
        for k in row:
            if k not in keys:
                keys[k] = by_source.get(k) or snake_case(k)
    data: dict[str, list[str | None]] = {}
    for k, name in keys.items():
        if name in data:  # two undeclared paths with the same snake_case name: keep the first
            continue
        data[name] = [row.get(k) for row in rows]
    strings = pa.table({k: pa.array(v, pa.string()) for k, v in data.items()})
    return type_strings(spec, strings, first_line, **opts)


XML_ROOTS = ("AmazonEnvelope", "Result")  # the root elements of Amazon's XML reports (orders, browse tree)


def iter_xml(
    path: Path,
    spec: ReportTypeSpec,
    *,
    rows_per_chunk: int = ROWS_PER_CHUNK,
    locale: CastLocale = DEFAULT_LOCALE,
    check_text: bool = False,
) -> Iterator[ParsedChunk]:
    """Rows of an XML report, streamed: memory holds one context element and one chunk of rows."""
    opts: dict[str, Any] = {"locale": locale, "check_text": check_text}
    if not spec.xml_row:
        raise BadDataError(f"{spec.name} declares no xml_row", where=spec.name, hint="a splake bug")
    row_tag, ctx_tag = spec.xml_row, spec.xml_context
    rows: list[dict[str, str | None]] = []
    line = 1
    depth = 0  # of the element an event is about (root = 1), counted on start events
    ctx_depth = -1  # depth of the open context element, -1 when none is open
    root: ET.Element | None = None
    context: dict[str, list[str]] = {}
    pending: list[dict[str, list[str]]] = []  # rows of the open context element
    try:
        with open(path, "rb") as f:
            _refuse_dtd(f, spec, path)
            # the decoded file is UTF-8 whatever it declares; with no DTD there are no entities to expand
            # (XML bombs, external entities), so the C parser is safe here (and 5x faster than defusedxml's)
            parser = ET.XMLParser(encoding="utf-8")  # noqa: S314 - DTD refused above
            for event, elem in ET.iterparse(f, events=("start", "end"), parser=parser):  # noqa: S314
                if event == "start":
                    depth += 1
                    if root is None:
                        root = elem
                    elif ctx_tag and ctx_depth < 0 and _local(elem.tag) == ctx_tag:
                        ctx_depth, context = depth, {}
                    continue
                tag = _local(elem.tag)
                if tag == row_tag:
                    values: dict[str, list[str]] = {}
                    if ctx_depth >= 0:  # held until the context ends: its fields may follow its rows
                        _flatten_xml(elem, row_tag, values)
                        pending.append(values)
                    else:
                        _flatten_xml(elem, "", values)
                        rows.append(_collapse(values))
                    elem.clear()
                elif ctx_depth >= 0 and depth == ctx_depth + 1:
                    if elem.find(f".//{row_tag}") is None:  # a field (or group) of the context, not rows
                        _flatten_xml(elem, tag, context)
                    elem.clear()
                elif depth == ctx_depth:
                    for values in pending:
                        rows.append(_collapse({**context, **values}))
                    ctx_depth, context, pending = -1, {}, []
                    elem.clear()
                if len(rows) >= rows_per_chunk:
                    yield _chunk(spec, rows, line, opts)
                    line += len(rows)
                    rows = []
                depth -= 1
                if depth == 1 and root is not None:
                    root.clear()  # finished a child of the root: drop it (memory stays flat)
    except ET.ParseError as exc:
        raise BadDataError(
            f"XML report is not well-formed: {exc}",
            where=f"{spec.name} ({path.name})",
            hint="the raw document is kept in the raw zone for inspection",
        ) from None
    if rows:
        yield _chunk(spec, rows, line, opts)
    elif line == 1 and root is not None and _local(root.tag) not in XML_ROOTS:
        # no row and not an Amazon report (an S3 <Error>, an XHTML page): held, never an empty replacement
        why = (
            f"the document's root element is <{_local(root.tag)}>, not one of {', '.join(XML_ROOTS)}, "
            f"and it has no <{row_tag}>: not a {spec.name} document"
        )
        yield ParsedChunk(type_strings(spec, pa.table({}), 1).table, [BadRow(-1, "", why)])


# --- JSON -------------------------------------------------------------------------------------------


def _flatten_json(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    if not prefix and not any(type(v) is dict for v in record.values()):
        return dict(record)  # already flat (most Brand Analytics records): no path building
    out: dict[str, Any] = {}
    for k, v in record.items():
        p = f"{prefix}.{k}" if prefix else str(k)
        if type(v) is dict:  # ijson and json build plain dicts
            out.update(_flatten_json(v, p))
        else:
            out[p] = v
    return out


def _text(v: Any) -> str | None:
    t = type(v)
    if t is str:
        return v  # type: ignore[no-any-return]
    if v is None:
        return None
    if t is bool:
        return "true" if v else "false"
    if t is list or t is dict:
        return json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)
    return str(v)


def _json_chunk(
    spec: ReportTypeSpec,
    section: JsonSection,
    records: list[Any],
    first_line: int,
    fill: dict[str, Any],
    opts: dict[str, Any],
    head: Mapping[str, Any] | None = None,
) -> ParsedChunk:
    aliased = bool(spec.aliases)
    flat = [
        (spec.dealias(_flatten_json(r)) if aliased else _flatten_json(r)) if type(r) is dict else {"value": r}
        for r in records
    ]
    by_source = {c.source: c.column for c in spec.columns}
    keys: dict[str, str] = {}
    for row in flat:
        for k in row:
            if k not in keys:
                keys[k] = by_source.get(k) or snake_case(k)
    data: dict[str, pa.Array] = {"section": pa.array([section.name] * len(flat), pa.string())}
    for k, name in keys.items():
        if name not in data:
            data[name] = _string_column([row.get(k) for row in flat])
    for column, source in section.fill:  # e.g. the period a by-ASIN section aggregates
        current = data[column].to_pylist() if column in data else None
        values = fill_column(current, source, flat, {"reportSpecification": head or {}})
        data[column] = pa.array(values, pa.string())
    return type_strings(spec, pa.table(data), first_line, fill=fill, **opts)


def _string_column(values: list[Any]) -> pa.Array:
    """A column of JSON scalars as text, converted by Arrow (no per-value Python) when the values share a
    scalar type; mixed or nested values go through :func:`_text` one by one."""
    try:
        arr = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([_text(v) for v in values], pa.string())
    t = arr.type
    if pa.types.is_string(t):
        return arr
    if pa.types.is_null(t):
        return pa.nulls(len(values), pa.string())
    if pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_floating(t):
        return pc.cast(arr, pa.string())
    return pa.array([_text(v) for v in values], pa.string())


def _window_fill(spec: ReportTypeSpec, start_text: Any) -> dict[str, Any]:
    fill: dict[str, Any] = {}
    if spec.window_column and start_text:
        typed, invalid = cast_strings(pa.array([str(start_text)]), spec.column(spec.window_column).type)
        if not invalid[0].as_py() and typed[0].is_valid:
            fill[spec.window_column] = typed[0].as_py()
    return fill


def _bad_json(spec: ReportTypeSpec, path: Path, exc: Exception) -> BadDataError:
    return BadDataError(
        f"JSON report is not valid JSON: {exc}",
        where=f"{spec.name} ({path.name})",
        hint="the raw document is kept in the raw zone for inspection",
    )


def _error_document(spec: ReportTypeSpec, details: Any) -> ReportFailedError:
    return ReportFailedError(
        f"Amazon returned an error document: {details}",
        where=spec.name,
        hint="check the type's reportOptions (`splake reports list` shows them) and the app's roles",
    )


def iter_json_stream(
    path: Path,
    spec: ReportTypeSpec,
    *,
    window_start: datetime | None = None,
    rows_per_chunk: int = ROWS_PER_CHUNK,
    small: int = SMALL_JSON,
    locale: CastLocale = DEFAULT_LOCALE,
    check_text: bool = False,
) -> Iterator[ParsedChunk]:
    """Rows of each declared section of a JSON report; large documents are streamed section by section."""
    opts: dict[str, Any] = {"locale": locale, "check_text": check_text}
    size = path.stat().st_size
    if size < small:
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except json.JSONDecodeError as exc:
            raise _bad_json(spec, path, exc) from None
        if not isinstance(doc, dict):
            raise BadDataError(f"JSON report is a {type(doc).__name__}, expected an object", where=spec.name)
        if "errorDetails" in doc:
            raise _error_document(spec, doc["errorDetails"])
        head = doc.get("reportSpecification") or {}
        sections: dict[str, Any] = {s.path: doc.get(s.path) for s in spec.json_sections}
        if spec.json_sections and not any(s.path in doc for s in spec.json_sections):
            # none of the report's sections, not even empty: not this report (a gateway's `{}`, an error
            # object); a bad row of its own makes the document held, so it never replaces good rows
            why = (
                f"the document has none of the sections {', '.join(s.path for s in spec.json_sections)} "
                f"of a {spec.name} document (its keys: {', '.join(sorted(doc)[:5]) or 'none'})"
            )
            yield ParsedChunk(type_strings(spec, pa.table({}), 1).table, [BadRow(-1, "", why)])
            return
    else:
        head, sections = _stream_head(path, spec), {}
    start_text = (head.get("dataStartTime") if isinstance(head, dict) else None) or (
        iso(window_start) if window_start else None
    )
    fill = _window_fill(spec, start_text)
    line = 1
    for section in spec.json_sections:
        if size < small:
            records = sections.get(section.path) or []
            if not isinstance(records, list):
                raise BadDataError(f"section {section.path!r} is not an array", where=spec.name)
            for i in range(0, len(records), rows_per_chunk):
                part = records[i : i + rows_per_chunk]
                yield _json_chunk(spec, section, part, line, fill, opts, head)
                line += len(part)
            continue
        buf: list[Any] = []
        try:
            with open(path, "rb") as f:
                for rec in ijson.items(f, f"{section.path}.item", use_float=True):
                    buf.append(rec)
                    if len(buf) >= rows_per_chunk:
                        yield _json_chunk(spec, section, buf, line, fill, opts, head)
                        line += len(buf)
                        buf = []
        except ijson.JSONError as exc:
            raise _bad_json(spec, path, exc) from None
        if buf:
            yield _json_chunk(spec, section, buf, line, fill, opts, head)
            line += len(buf)


def _stream_head(path: Path, spec: ReportTypeSpec) -> dict[str, Any]:
    """``reportSpecification`` of a large document (read from its start); raises on an error document."""
    try:
        with open(path, "rb") as f:
            for prefix, event, value in ijson.parse(f, use_float=True):
                if prefix == "" and event == "map_key":
                    if value == "errorDetails":
                        raise _error_document(spec, "(see the raw document)")
                    if value == "reportSpecification":
                        break
                    if value in {s.path for s in spec.json_sections}:
                        return {}  # data first: no specification before it
                elif prefix == "" and event == "start_map":
                    continue
            else:
                return {}
        with open(path, "rb") as f:
            head = next(ijson.items(f, "reportSpecification", use_float=True), None)
    except ijson.JSONError as exc:
        raise _bad_json(spec, path, exc) from None
    return head if isinstance(head, dict) else {}
