"""JSON reports loaded whole (the in-memory parser; :mod:`splake.reports.parse_stream` streams large
ones): each declared section (array of records) becomes rows with a ``section`` column; nested objects are
flattened to snake_case paths (``orderedProductSales.amount`` → ``ordered_product_sales_amount``)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from splake.errors import BadDataError, ReportFailedError
from splake.reports.casting import cast_strings
from splake.reports.locales import DEFAULT_LOCALE, CastLocale
from splake.reports.planner import iso
from splake.reports.typed import ParsedChunk, type_strings
from splake.reports.types import ReportTypeSpec, snake_case


def _flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in record.items():
        path = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, Mapping):
            out.update(_flatten(v, path))
        else:
            out[path] = v
    return out


def _as_text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list | dict):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    return str(v)


def fill_column(
    current: list[str | None] | None, source: str, flat: list[dict[str, Any]], doc: Mapping[str, Any]
) -> list[str | None]:
    """A column's values with blanks taken from ``source``: a record path, or a document path when it
    starts with ``reportSpecification.`` (e.g. the period a by-ASIN section aggregates)."""
    if source.startswith("reportSpecification."):
        spec_part = doc.get("reportSpecification")
        value = spec_part.get(source.split(".", 1)[1]) if isinstance(spec_part, Mapping) else None
        values = [_as_text(value)] * len(flat)
    else:
        values = [_as_text(row.get(source)) for row in flat]
    if current is None:
        return values
    return [c if c not in (None, "") else v for c, v in zip(current, values, strict=True)]


def iter_json(
    path: Path,
    spec: ReportTypeSpec,
    *,
    window_start: datetime | None = None,
    locale: CastLocale = DEFAULT_LOCALE,
    check_text: bool = False,
) -> Iterator[ParsedChunk]:
    """Rows of each declared section of a JSON report (the document is loaded whole: JSON reports are
    aggregated analytics, far smaller than flat files)."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except json.JSONDecodeError as exc:
        raise BadDataError(
            f"JSON report is not valid JSON: {exc}",
            where=f"{spec.name} ({path.name})",
            hint="the raw document is kept in the raw zone for inspection",
        ) from None
    if not isinstance(doc, dict):
        raise BadDataError(f"JSON report is a {type(doc).__name__}, expected an object", where=spec.name)
    if "errorDetails" in doc:
        raise ReportFailedError(
            f"Amazon returned an error document: {doc['errorDetails']}",
            where=spec.name,
            hint="check reportOptions (vendor reports need reportPeriod, distributorView, sellingProgram)",
        )
    spec_section = doc.get("reportSpecification")
    given = (
        spec_section.get("dataStartTime") if isinstance(spec_section, Mapping) else None
    )  # (not an object:
    start_text = given or (iso(window_start) if window_start else None)  # no period given, as when absent)
    fill: dict[str, Any] = {}
    if spec.window_column and start_text:
        typed, invalid = cast_strings(pa.array([str(start_text)]), spec.column(spec.window_column).type)
        if not invalid[0].as_py() and typed[0].is_valid:
            fill[spec.window_column] = typed[0].as_py()
    line = 1
    for section in spec.json_sections:
        records = doc.get(section.path) or []
        if not isinstance(records, list):
            raise BadDataError(f"section {section.path!r} is not an array", where=spec.name)
        if not records:
            continue
        flat = [spec.dealias(_flatten(r)) if isinstance(r, Mapping) else {"value": r} for r in records]
        keys: dict[str, str] = {}
        for row in flat:
            for k in row:
                if k not in keys:
                    keys[k] = snake_case(k)
        data: dict[str, list[str | None]] = {"section": [section.name] * len(flat)}
        for k, name in keys.items():
            data[name] = [_as_text(row.get(k)) for row in flat]
        for column, source in section.fill:
            data[column] = fill_column(data.get(column), source, flat, doc)
        strings = pa.table({k: pa.array(v, pa.string()) for k, v in data.items()})
        chunk = type_strings(spec, strings, line, fill=fill, locale=locale, check_text=check_text)
        line += len(flat)
        yield chunk
