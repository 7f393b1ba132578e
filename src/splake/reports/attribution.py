"""Which marketplace a discovered report (settlements, found with getReports) lands under.

A report lands under the marketplaces Amazon lists for it (``marketplaceIds``), whether or not the
account's configuration lists them: a unified North America account's CA settlement is CA data even when
only US is configured. It is never relabelled as a configured marketplace. A report Amazon lists without
any marketplace is skipped with a note (landing it under a guessed marketplace would mislabel money).

When the document itself names its marketplaces (the settlement's ``marketplace-name`` column: ``Amazon.ca``),
the document wins: one named marketplace → the whole document lands under it; several (an EUR settlement
covering DE and FR) → each row under its own, rows naming none (account-level fees) under the listed
marketplace when the document names it, else the first one named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from splake.errors import ConfigError
from splake.reports.parse import header_names
from splake.reports.types import snake_case
from splake.spapi.marketplaces import MARKETPLACES, marketplace


@dataclass(frozen=True)
class Attribution:
    marketplace_ids: tuple[str, ...]  # empty: skip the report
    note: str | None = None  # why, when the result is not simply the configured marketplaces


def _code(mid: str) -> str:
    try:
        return marketplace(mid).code
    except ConfigError:
        return mid


def attribute(report: Mapping[str, Any], configured: Sequence[str]) -> Attribution:
    """Marketplaces for a getReports entry of an account configured with ``configured`` (ids)."""
    ids = tuple(dict.fromkeys(str(m) for m in (report.get("marketplaceIds") or []) if m))
    rid = report.get("reportId")
    if not ids:
        return Attribution(
            (),
            f"report {rid} has no marketplaceIds: skipped (it would otherwise be labelled with a guessed "
            "marketplace)",
        )
    extra = [m for m in ids if m not in configured]
    if extra:
        names = ", ".join(_code(m) for m in extra)
        return Attribution(
            ids,
            f"report {rid} is for {names}, which the account does not list: landed under {names} (its real "
            "marketplace); add it to the account's marketplaces to sync its other reports too",
        )
    return Attribution(ids)


# --- the document's own word: the settlement's `marketplace-name` column --------------------------------

NAME_COLUMN = "marketplace-name"
_BY_NAME: dict[str, str] = {m.domain.lower().removeprefix("www."): m.id for m in MARKETPLACES}


def marketplace_by_name(name: str) -> str | None:
    """``Amazon.ca`` → the CA marketplace id; None for names that are no marketplace (``Non-Amazon``)."""
    return _BY_NAME.get(name.strip().lower().removeprefix("www."))


@dataclass(frozen=True)
class DocumentAttribution:
    marketplace_ids: tuple[str, ...]  # the marketplaces the document names (first seen first)
    fallback: str  # for rows that name none (account-level rows: fees, transfers)
    per_row: bool  # several marketplaces: each row is labelled with its own
    note: str | None = None


def document_marketplaces(path: Path) -> list[str]:
    """Marketplace ids named in a decoded flat file's ``marketplace-name`` column, first seen first
    (streamed with Arrow, that column only); [] when the document has no such column or names none."""
    with open(path, encoding="utf-8", newline="") as f:
        raw = f.readline().rstrip("\r\n").split("\t")
    if NAME_COLUMN not in raw:
        return []
    names = header_names(raw)
    col = names[raw.index(NAME_COLUMN)]
    reader = pacsv.open_csv(
        str(path),
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False),
        parse_options=pacsv.ParseOptions(
            delimiter="\t", quote_char=False, double_quote=False, escape_char=False, invalid_row_handler=_skip
        ),
        convert_options=pacsv.ConvertOptions(include_columns=[col], column_types={col: pa.string()}),
    )
    found: dict[str, None] = {}
    for batch in reader:
        for value in pc.unique(batch.column(0)).to_pylist():
            mid = marketplace_by_name(value) if value else None
            if mid:
                found.setdefault(mid)
    return list(found)


def _skip(row: Any) -> str:
    return "skip"  # malformed lines are the parser's business (quarantined there)


def attribute_document(path: Path, listed: Sequence[str]) -> DocumentAttribution | None:
    """What a discovered flat file says about its marketplaces (None: it says nothing; the report's
    ``marketplaceIds`` stand). The document wins over getReports, whose marketplaceIds for settlements are
    not reliable (amzn/selling-partner-api-models#1379)."""
    named = document_marketplaces(path)
    if not named:
        return None
    fallback = next((m for m in listed if m in named), named[0])
    note = None
    if sorted(named) != sorted(listed):
        note = (
            f"the document names {', '.join(_code(m) for m in named)} while getReports listed "
            f"{', '.join(_code(m) for m in listed) or 'none'}: landed under the document's"
        )
    return DocumentAttribution(tuple(named), fallback, len(named) > 1, note)


def label_rows(table: pa.Table, attribution: DocumentAttribution) -> pa.Table:
    """Add ``marketplace_id`` per row from its ``marketplace_name`` (rows naming none: the fallback)."""
    col = snake_case(NAME_COLUMN)
    if col not in table.column_names:
        ids = pa.array([attribution.fallback] * table.num_rows, pa.string())
    else:
        names = pc.utf8_lower(pc.utf8_trim_whitespace(table.column(col)))
        idx = pc.index_in(names, value_set=pa.array(list(_BY_NAME), pa.string()))
        ids = pc.fill_null(pc.take(pa.array(list(_BY_NAME.values()), pa.string()), idx), attribution.fallback)
    return table.append_column("marketplace_id", ids)
