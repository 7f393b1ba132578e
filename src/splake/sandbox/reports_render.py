"""Report documents: logical rows → bytes in the real format and charset, in memory or streamed to a
gzip file (for ~GB documents) without holding the document in memory."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from splake.sandbox import catalog_types as catalog_types  # registers the catalog's types
from splake.sandbox.catalog_json import JSON_BUILDERS
from splake.sandbox.catalog_render import flat_rows
from splake.sandbox.catalog_xml import xml_lines, xml_rows
from splake.sandbox.layouts import variant
from splake.sandbox.render_inventory import afn_inventory_rows, listings_rows, myi_rows
from splake.sandbox.render_orders import orders_report_rows
from splake.sandbox.render_returns import returns_rows
from splake.sandbox.render_sales_traffic import sales_and_traffic
from splake.sandbox.render_settlements import settlement_periods, settlement_rows
from splake.sandbox.render_vendor import vendor_report
from splake.sandbox.report_request import ReportFatal, ReportRequest
from splake.sandbox.report_text import country_of
from splake.sandbox.report_types import (
    REPORT_TYPES,
    SandboxReportType,
    charset_label,
    columns_for,
    header_for,
)
from splake.sandbox.settlement_v1 import settlement_v1_rows

__all__ = [
    "RenderInfo",
    "RenderedReport",
    "ReportFatal",
    "document_lines",
    "render",
    "render_gzip_to",
    "rows",
]


@dataclass(frozen=True)
class RenderedReport:
    body: bytes  # the uncompressed document, encoded in ``charset``
    content_type: str  # as the download serves it, e.g. "text/plain;charset=Cp1252"
    charset: str  # Python codec of ``body`` (cp932, cp1252, utf-8)
    charset_label: str  # the name Amazon puts in Content-Type (Shift_JIS, Cp1252, …)


@dataclass(frozen=True)
class RenderInfo:
    path: Path
    rows: int
    raw_bytes: int
    gzip_bytes: int
    content_type: str
    charset: str
    charset_label: str


def spec_of(req: ReportRequest) -> SandboxReportType:
    return REPORT_TYPES[req.report_type]


def json_document(req: ReportRequest) -> dict[str, Any]:
    rt = spec_of(req)
    if rt.window == "catalog":
        return JSON_BUILDERS[rt.name](req)
    if rt.window == "sales_traffic":
        return sales_and_traffic(req)
    if rt.window == "vendor":
        return vendor_report(req)
    raise ValueError(f"{req.report_type} is not a JSON report")


def _settlement_period(req: ReportRequest) -> Any:
    mid = req.marketplace_ids[0]
    for p in settlement_periods(
        req.seed, req.account, req.start - timedelta(days=1), req.end + timedelta(days=2)
    ):
        if p.marketplace_id == mid and p.start == req.start:
            return p
    raise ReportFatal(f"no settlement for {mid} starting {req.start.isoformat()}")


def rows(req: ReportRequest, cache: bool = True) -> Iterator[dict[str, Any]]:
    """Logical rows: flat files → header → text value, as written; JSON reports → the records of each
    top-level array, tagged with ``section`` (e.g. ``salesAndTrafficByAsin``)."""
    rt = spec_of(req)
    if rt.format == "json":
        doc = json_document(req)
        for section, value in doc.items():
            if isinstance(value, list):
                for rec in value:
                    yield {"section": section, **rec}
        return
    if rt.format == "xml":
        yield from xml_rows(req)
    elif rt.window == "catalog":
        yield from flat_rows(req)
    elif rt.window == "purchase":
        yield from orders_report_rows(req, by_last_update=False, cache=cache)
    elif rt.window == "last_update":
        yield from orders_report_rows(req, by_last_update=True, cache=cache)
    elif rt.name == "GET_MERCHANT_LISTINGS_ALL_DATA":
        yield from listings_rows(req)
    elif rt.name == "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA":
        yield from myi_rows(req)
    elif rt.name == "GET_AFN_INVENTORY_DATA":
        yield from afn_inventory_rows(req)
    elif rt.window == "return":
        yield from returns_rows(req)
    elif rt.name == "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE":  # the older (V1) settlement layout
        yield from settlement_v1_rows(req, _settlement_period(req))
    elif rt.window == "settlement":
        yield from settlement_rows(req, _settlement_period(req))
    else:  # pragma: no cover - every declared type is handled above
        raise ValueError(req.report_type)


def encoding_of(req: ReportRequest) -> tuple[str, str, str]:
    """(content type with charset, codec, charset label)."""
    rt = spec_of(req)
    if rt.format == "json":
        return "application/json", "utf-8", "UTF-8"
    if rt.format == "xml":
        return "text/xml;charset=UTF-8", "utf-8", "UTF-8"
    country = country_of(req.marketplace_ids[0])
    v = variant(rt.name, country)
    if v is not None:  # served without a charset, or as UTF-8 (sandbox.layouts)
        return ("text/plain" if v.label is None else f"text/plain;charset={v.label}"), v.codec, v.label or ""
    label, codec = charset_label(rt, country)
    return f"text/plain;charset={label}", codec, label


def document_lines(req: ReportRequest, cache: bool = True) -> Iterator[str]:
    """The document as text chunks (flat files: one line per chunk, ``\\n``-terminated)."""
    rt = spec_of(req)
    if rt.format == "json":
        yield json.dumps(json_document(req), ensure_ascii=False, separators=(",", ":"))
        return
    if rt.format == "xml":
        yield from xml_lines(req)
        return
    country = country_of(req.marketplace_ids[0])
    columns = list(columns_for(rt, req.drift, country))
    header = header_for(rt, country, req.drift, req.localized)
    v = variant(rt.name, country)
    nl = v.newline if v is not None else "\n"
    yield ("\ufeff" if v is not None and v.bom else "") + "\t".join(header) + nl
    for row in rows(req, cache=cache):
        # Row dicts are built in header order from values that never hold tabs/newlines (fast path);
        # anything else is reordered and sanitized.
        if list(row) == columns:
            yield "\t".join(row.values()) + nl
        else:
            yield "\t".join(str(row[c]).replace("\t", " ").replace("\n", " ") for c in columns) + nl


def render(req: ReportRequest) -> RenderedReport:
    ctype, codec, label = encoding_of(req)
    # Characters the charset cannot hold become '?', as in Amazon's own files.
    body = "".join(document_lines(req)).encode(codec, errors="replace")
    return RenderedReport(body, ctype, codec, label)


def render_gzip_to(path: str | os.PathLike[str], req: ReportRequest, cache: bool = False) -> RenderInfo:
    """Stream the document into a gzip file; memory stays flat whatever the size."""
    ctype, codec, label = encoding_of(req)
    out = Path(path)
    raw = n = 0
    buf: list[str] = []
    buffered = 0
    with out.open("wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=5, mtime=0) as gz:
        for line in document_lines(req, cache=cache):
            n += 1
            buf.append(line)
            buffered += len(line)
            if buffered >= 1 << 20:
                data = "".join(buf).encode(codec, errors="replace")
                gz.write(data)
                raw += len(data)
                buf, buffered = [], 0
        if buf:
            data = "".join(buf).encode(codec, errors="replace")
            gz.write(data)
            raw += len(data)
    rt = spec_of(req)
    rows_n = n - 1 if rt.format == "tsv" else sum(1 for _ in xml_rows(req)) if rt.format == "xml" else n
    return RenderInfo(out, rows_n, raw, out.stat().st_size, ctype, codec, label)
