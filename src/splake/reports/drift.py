"""Layout drift: how the documents Amazon sends differ from a report type's declared columns.

Each landed document is compared with its declaration (:func:`observe`): columns the document has that are
not declared (kept as strings in the curated table) and declared columns the document lacks (landed as
null). :func:`record` persists the differences in the StateStore namespace ``"drift"`` (pk = report type,
sk = marketplace id; one item holding each column's first/last seen, documents and last report id), so a
landed document costs one read and one write; a difference that stops showing up in a marketplace is
cleared for it.
:func:`drift_report` reads them back for ``splake reports drift``, ``splake reports status`` and the
dashboard's pipeline health. Column names are written as Amazon writes them (header text / JSON path).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from splake.ports import StateStore
from splake.reports.parse import header_names
from splake.reports.planner import iso, parse_iso
from splake.reports.textsource import TextSource, read_header
from splake.reports.types import REPORT_TYPES, ReportTypeSpec, snake_case

NAMESPACE = "drift"
Kind = Literal["undeclared", "absent"]


@dataclass(frozen=True)
class Observation:
    """One document against its declaration (column names as Amazon writes them)."""

    undeclared: tuple[str, ...]
    absent: tuple[str, ...]


@dataclass(frozen=True)
class DriftItem:
    report_type: str
    kind: Kind
    column: str
    first_seen: datetime
    last_seen: datetime
    marketplaces: tuple[str, ...]
    documents: int
    last_report_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "report_type": self.report_type,
            "kind": self.kind,
            "column": self.column,
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "marketplaces": list(self.marketplaces),
            "documents": self.documents,
            "last_report_id": self.last_report_id,
        }


# --- observing a document (pure given the file) ------------------------------------------------------------


def _filled_columns(spec: ReportTypeSpec) -> set[str]:
    """Declared columns splake derives itself (never expected in the document)."""
    return {col for s in spec.json_sections for col, _ in s.fill}


def compare(spec: ReportTypeSpec, header: Sequence[str]) -> Observation:
    """A flat file's header line against the declaration."""
    english = spec.english_header([h.strip() for h in header])
    names = header_names(english)
    declared = {c.column for c in spec.columns}
    undeclared = tuple(raw for raw, name in zip(english, names, strict=True) if name not in declared and raw)
    present = set(names)
    absent = tuple(c.source for c in spec.columns if c.column not in present)
    return Observation(undeclared, absent)


def _paths(value: Any, prefix: str = "", out: list[str] | None = None) -> list[str]:
    """The dotted path of every leaf of a JSON value (appended to ``out``; a list, not nested generators:
    a record's few dozen leaves cost a small document's drift check more than its JSON load)."""
    if out is None:
        out = []
    if not isinstance(value, Mapping):
        out.append(prefix)
        return out
    for k, v in value.items():
        path = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, Mapping):
            _paths(v, path, out)
        else:
            out.append(path)
    return out


def compare_json(spec: ReportTypeSpec, doc: Mapping[str, Any]) -> Observation:
    """A JSON report's records against the declaration. Absent columns are only judged when every declared
    section has records (an empty section says nothing about the layout)."""
    seen: dict[str, str] = {}
    by_source = {c.source: c.column for c in spec.columns}  # declared under their own curated name
    all_sections = True
    for section in spec.json_sections:
        records = doc.get(section.path)
        if not isinstance(records, list) or not records:
            all_sections = False
            continue
        paths: set[str] = set()
        for rec in records:
            paths.update(spec.dealias(dict.fromkeys(_paths(rec))))
        for path in paths:
            seen.setdefault(by_source.get(path) or snake_case(path), path)
    declared = {c.column for c in spec.columns}
    undeclared = tuple(sorted(path for name, path in seen.items() if name not in declared))
    derived = _filled_columns(spec) | ({spec.window_column} if spec.window_column else set())
    absent: tuple[str, ...] = ()
    if all_sections:
        absent = tuple(c.source for c in spec.columns if c.column not in seen and c.column not in derived)
    return Observation(undeclared, absent)


def observe(path: Path | TextSource, spec: ReportTypeSpec) -> Observation | None:
    """Compare a decoded (UTF-8) document with its declaration; None when it has no layout to judge
    (an empty document, not JSON, an error document). Flat files may be a :class:`TextSource` (their
    header line is all that is read)."""
    if spec.format == "tsv":
        header = read_header(path)
        if header:
            header[0] = header[0].lstrip("\ufeff")
        return compare(spec, header) if any(h.strip() for h in header) else None
    if not isinstance(path, Path):
        return None
    if spec.format == "json":
        if path.stat().st_size >= SMALL_JSON:  # a large document: a streamed sample of each section
            return compare_json(spec, _sampled_sections(path, spec))
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError):
            return None
        return compare_json(spec, doc) if isinstance(doc, dict) and "errorDetails" not in doc else None
    return None


SMALL_JSON = 8 << 20  # larger JSON documents (Brand Analytics: GBs) are never loaded whole
SAMPLE_RECORDS = 20_000  # records read per section of a large document to judge its layout


def _sampled_sections(path: Path, spec: ReportTypeSpec) -> dict[str, Any]:
    """The first records of each declared section, streamed (memory bounded whatever the size)."""
    import itertools

    import ijson

    doc: dict[str, Any] = {}
    for section in spec.json_sections:
        try:
            with open(path, "rb") as f:
                items = ijson.items(f, f"{section.path}.item", use_float=True)
                doc[section.path] = list(itertools.islice(items, SAMPLE_RECORDS))
        except (OSError, ijson.JSONError):
            doc[section.path] = []
    return doc


# --- persisting ----------------------------------------------------------------------------------------


def record(
    state: StateStore,
    report_type: str,
    marketplace_id: str,
    obs: Observation,
    report_id: str,
    now: datetime,
) -> None:
    """Persist one document's observation: one item per (report type, marketplace) — one read and at most
    one write per landed document. Differences the document no longer shows are cleared for its
    marketplace; re-recording the same document changes nothing."""
    item = state.get(NAMESPACE, report_type, marketplace_id)
    old: dict[str, dict[str, dict[str, Any]]] = {
        "undeclared": dict(item.get("undeclared", {})) if item else {},
        "absent": dict(item.get("absent", {})) if item else {},
    }
    if item is not None and item.get("last_report_id") == report_id:
        return  # the same document again (a repeated ingest step)
    stamp = iso(now)
    body: dict[str, Any] = {"last_report_id": report_id, "last_seen": stamp}
    for kind, columns in (("undeclared", obs.undeclared), ("absent", obs.absent)):
        entries: dict[str, dict[str, Any]] = {}
        for column in columns:
            prev = old[kind].get(column)
            entries[column] = {
                "first_seen": prev["first_seen"] if prev else stamp,
                "last_seen": stamp,
                "documents": (int(prev.get("documents", 0)) if prev else 0) + 1,
                "last_report_id": report_id,
            }
        body[kind] = entries
    if item is None and not obs.undeclared and not obs.absent:
        return  # nothing to remember for a marketplace whose documents always matched
    state.put(NAMESPACE, report_type, marketplace_id, body)


def observe_and_record(
    state: StateStore,
    spec: ReportTypeSpec,
    path: Path | TextSource,
    marketplace_id: str,
    report_id: str,
    now: datetime,
) -> Observation | None:
    obs = observe(path, spec)
    if obs is not None:
        record(state, spec.name, marketplace_id, obs, report_id, now)
    return obs


# --- reading -------------------------------------------------------------------------------------------


def _still_drift(item: DriftItem) -> bool:
    """Drop entries the current declaration settled (a column declared since, or no longer declared)."""
    spec = REPORT_TYPES.get(item.report_type)
    if spec is None:
        return True
    if item.kind == "undeclared":
        return snake_case(item.column) not in {c.column for c in spec.columns}
    return item.column in {c.source for c in spec.columns}


def drift_report(state: StateStore, report_types: Sequence[str] | None = None) -> list[DriftItem]:
    """Per report type and column: the union over marketplaces (earliest first seen, latest last seen,
    documents summed), minus what the current declaration settled."""
    names = list(report_types) if report_types else sorted(REPORT_TYPES)
    out: list[DriftItem] = []
    for name in names:
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for item in state.query(NAMESPACE, name):
            market = str(item["_sk"])
            for kind in ("undeclared", "absent"):
                for column, e in (item.get(kind) or {}).items():
                    m = merged.setdefault(
                        (kind, column), {"markets": [], "documents": 0, "first": [], "last": []}
                    )
                    m["markets"].append(market)
                    m["documents"] += int(e.get("documents", 0))
                    m["first"].append(str(e.get("first_seen")))
                    m["last"].append((str(e.get("last_seen")), str(e.get("last_report_id", ""))))
        for (kind, column), m in merged.items():
            first, (last, last_id) = parse_iso(min(m["first"])), max(m["last"])
            last_at = parse_iso(last)
            if first is None or last_at is None:
                continue
            d = DriftItem(
                report_type=name,
                kind="absent" if kind == "absent" else "undeclared",
                column=column,
                first_seen=first,
                last_seen=last_at,
                marketplaces=tuple(sorted(m["markets"])),
                documents=m["documents"],
                last_report_id=last_id,
            )
            if _still_drift(d):
                out.append(d)
    out.sort(key=lambda d: (d.report_type, d.kind, d.column))
    return out
