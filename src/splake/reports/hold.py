"""A bad document never replaces good data: the hold rule, the HELD ledger state and re-landing.

When a non-empty document has more than ``[sync] hold_quarantined_share`` of its rows quarantined
(default 5 %), or all of them, the curated write is abandoned before its commit (the lake's write is
all-or-nothing), so the table keeps what it had; the quarantined rows are still recorded, and the ledger
entry goes to ``HELD`` with the top reasons. ``splake sync`` exits non-zero naming it; ``splake reports
status`` and the dashboard list it. After a fix (config, an upgrade), :func:`reland` lands the document
again from the raw zone — no SP-API call — under the same rule, or regardless of it with ``force``.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from splake.errors import BadDataError, ConfigError
from splake.lake.raw import RawDocument
from splake.lake.tables import BadRow
from splake.ports import StateStore
from splake.reports import ledger
from splake.reports.ledger import LedgerEntry
from splake.reports.planner import as_utc, iso

HELD = "HELD"
TOP_REASONS = 3


def should_hold(rows: int, quarantined: int, max_share: float) -> bool:
    """Pure: hold a document whose quarantined share exceeds ``max_share`` (always when every row is)."""
    total = rows + quarantined
    if total == 0 or quarantined == 0:
        return False
    return rows == 0 or quarantined / total > max_share


_QUOTED = re.compile(r"'[^']*'")


def _kind(reason: str) -> str:
    """A reason without the offending value, so rows failing the same way group together."""
    seen = 0

    def keep_first_two(m: re.Match[str]) -> str:
        nonlocal seen
        seen += 1
        return m.group(0) if seen == 1 or ("zone word" in reason and seen == 2) else "…"

    return _QUOTED.sub(keep_first_two, reason)


def top_reasons(bad: Sequence[BadRow], n: int = TOP_REASONS) -> list[str]:
    """The most frequent kinds of quarantine reasons, with counts and one example line number."""
    counts: Counter[str] = Counter()
    example: dict[str, int] = {}
    for b in bad:
        for part in b.reason.split("; "):
            k = _kind(part)
            counts[k] += 1
            example.setdefault(k, b.line_number)
    return [f"{c} x {k} (e.g. line {example[k]})" for k, c in counts.most_common(n)]


def check_document(rows: int, bad: Sequence[BadRow], max_share: float, where: str) -> None:
    """Raise :class:`DocumentHeldError` when the document must be held (see :func:`should_hold`)."""
    if should_hold(rows, len(bad), max_share):
        raise DocumentHeldError(
            rows=rows, quarantined=len(bad), max_share=max_share, reasons=top_reasons(bad), where=where
        )


def _share(share: float, limit: float) -> str:
    """A share as a percentage precise enough to show it exceeds ``limit`` (5.3 %, not "5% > 5%")."""
    for digits in (0, 1, 2):
        text = f"{share:.{digits}%}"
        if float(text.rstrip("%")) / 100 > limit:
            return text
    return f"{share:.3%}"


class DocumentHeldError(BadDataError):
    """Too many rows of a document were quarantined: nothing of it was written to the curated table."""

    code = "document_held"

    def __init__(
        self, *, rows: int, quarantined: int, max_share: float, reasons: list[str], where: str
    ) -> None:
        self.rows = rows
        self.quarantined = quarantined
        self.max_share = max_share
        self.reasons = reasons
        total = rows + quarantined
        super().__init__(
            f"{quarantined} of {total} rows could not be read ({_share(quarantined / total, max_share)} > "
            f"{max_share:.0%}): the document is held, the table keeps its previous rows; top reasons: "
            + " | ".join(reasons),
            where=where,
            hint="fix the cause (config, an upgrade of splake), then `splake reports reland <report-id>`; "
            "the quarantined rows are in <table>__quarantine",
        )

    def __reduce__(self) -> tuple[Any, ...]:  # picklable (raised in a staging worker process)
        return (_held_again, (self.rows, self.quarantined, self.max_share, self.reasons, self.where or ""))


def _held_again(
    rows: int, quarantined: int, max_share: float, reasons: list[str], where: str
) -> DocumentHeldError:
    return DocumentHeldError(
        rows=rows, quarantined=quarantined, max_share=max_share, reasons=reasons, where=where
    )


def on_held(
    entry: LedgerEntry, now: datetime, *, rows: int, quarantined: int, raw_key: str | None, reason: str
) -> LedgerEntry:
    """Pure ledger transition: the document is held (not landed)."""
    return dataclasses.replace(
        entry,
        status=HELD,  # type: ignore[arg-type]
        completed_at=entry.completed_at or as_utc(now),
        rows=rows,
        quarantined=quarantined,
        raw_key=raw_key,
        reason=reason,
        history=(*entry.history, f"{iso(now)} held: {quarantined} of {rows + quarantined} rows quarantined"),
    )


@dataclass(frozen=True)
class RawInfo:
    """What the pipeline needs from a download, rebuilt from the raw zone's sidecar."""

    content_type: str | None
    charset: str | None
    content_encoding: str | None
    bytes_written: int


def _order(e: LedgerEntry) -> tuple[datetime, datetime]:
    return (e.unit.window.end, e.requested_at or e.unit.window.end)


def held_entries(entries: Sequence[LedgerEntry]) -> list[LedgerEntry]:
    """HELD entries that still need the user: a held snapshot is settled once a newer snapshot of the
    same stream has landed (pure)."""
    latest: dict[tuple[str, str], tuple[datetime, datetime]] = {}
    for e in entries:
        if e.status == "INGESTED" and e.unit.window.start is None:
            k = (e.account_id, e.unit.stream)
            latest[k] = max(latest.get(k, _order(e)), _order(e))
    return [
        e
        for e in entries
        if e.status == HELD
        and not (
            e.unit.window.start is None
            and (e.account_id, e.unit.stream) in latest
            and latest[(e.account_id, e.unit.stream)] > _order(e)
        )
    ]


def find_for_reland(store: StateStore, report_id: str, account_id: str | None = None) -> LedgerEntry:
    """The ledger entry of ``report_id`` that can be re-landed (it has a raw document)."""
    entry = ledger.find_by_report(store, report_id, account_id)
    if entry is None:
        raise ConfigError(
            f"report {report_id} is not in the ledger",
            hint="`splake reports status` lists the reports; pass --account when ids repeat across accounts",
        )
    if not entry.raw_key:
        raise ConfigError(
            f"report {report_id} has no document in the raw zone (state {entry.status})",
            hint="only downloaded reports can be re-landed; the next `splake sync` fetches it",
        )
    return entry


def raw_to_file(doc: RawDocument, work_dir: Path) -> Path:
    """Copy a raw document (bytes as received) to a temp file for the decoder."""
    fd, name = tempfile.mkstemp(prefix="splake-reland-", suffix=".download", dir=work_dir)
    with open(fd, "wb") as out, doc.open() as src:
        while chunk := src.read(1 << 20):
            out.write(chunk)
    return Path(name)
