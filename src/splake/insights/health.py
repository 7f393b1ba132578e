"""Pipeline health: last sync per account x report type, ledger states, FATAL/CANCELLED reports with their
reasons, throttling counts, rows landed and lag — from the report ledger (state store namespace
``"ledger"``, entries written by :mod:`splake.reports.ledger`) and row counts from the lake.

:func:`summarize` is pure (``now`` passed in); :func:`lake_row_counts` and :func:`read_ledger` are the thin
I/O adapters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from splake.insights.source import SqlSource
from splake.logs import get_logger, log_event
from splake.ports import StateStore
from splake.reports.hold import held_entries
from splake.reports.ledger import FAILED, LedgerEntry, entries
from splake.reports.planner import as_utc, iso

log = get_logger(__name__)

# Optional: 429 counts written by the sync (items with account_id, report_type, throttled). The ledger
# itself does not record throttling; when nothing writes this namespace the counts show as 0.
THROTTLES_NAMESPACE = "throttles"


@dataclass(frozen=True)
class TableRows:
    table: str
    rows: int
    accounts: Mapping[str, int] = field(default_factory=dict)
    error: str | None = None


def read_ledger(store: StateStore) -> list[LedgerEntry]:
    return entries(store)


def lake_row_counts(source: SqlSource) -> list[TableRows]:
    """Rows per curated table and account (quarantine tables included: they are worth seeing)."""
    out = []
    for name in sorted(source.table_names()):
        try:
            res = source.sql(f'SELECT account_id, COUNT(*) AS n FROM "{name}" GROUP BY 1 ORDER BY 1')
            per = {str(r["account_id"]): int(r["n"]) for r in res.to_pylist()}
            out.append(TableRows(name, sum(per.values()), per))
        except Exception as exc:
            log_event(log, "row_count_failed", table=name, error=str(exc))
            out.append(TableRows(name, 0, {}, f"{type(exc).__name__}: {exc}"))
    return out


def _last_activity(e: LedgerEntry) -> datetime | None:
    times = [t for t in (e.ingested_at, e.completed_at, e.requested_at) if t is not None]
    return max(times) if times else None


def _hours(delta_seconds: float) -> float:
    return round(delta_seconds / 3600.0, 2)


def summarize(
    ledger: Sequence[LedgerEntry],
    tables: Sequence[TableRows],
    now: datetime,
    *,
    throttled: Mapping[tuple[str, str], int] | None = None,
) -> dict[str, Any]:
    """The health page's JSON (pure). ``throttled`` = 429 responses per (account, report type) when the
    caller knows them (the ledger does not record them)."""
    now = as_utc(now)
    throttled = throttled or {}
    groups: dict[tuple[str, str], list[LedgerEntry]] = {}
    for e in ledger:
        groups.setdefault((e.account_id, e.unit.report_type), []).append(e)
    rows: list[dict[str, Any]] = []
    for (account, rtype), group in sorted(groups.items()):
        states = Counter(e.status for e in group)
        latest = max(group, key=lambda e: _last_activity(e) or datetime.min.replace(tzinfo=now.tzinfo))
        landed = [e for e in group if e.status == "INGESTED"]
        data_end = max((e.unit.window.end for e in landed), default=None)
        last_ingest = max((e.ingested_at for e in landed if e.ingested_at), default=None)
        rows.append(
            {
                "account_id": account,
                "report_type": rtype,
                "last_sync": iso(_last_activity(latest)),
                "last_ingested": iso(last_ingest),
                "last_state": latest.status,
                "states": dict(sorted(states.items())),
                "reports": len(group),
                "rows_landed": sum(e.rows for e in landed),
                "quarantined": sum(e.quarantined for e in group),
                "throttled": int(throttled.get((account, rtype), 0)),
                "data_end": iso(data_end),
                "lag_hours": _hours((now - data_end).total_seconds()) if data_end else None,
            }
        )
    open_holds = held_entries(ledger)  # HELD and not settled by a newer snapshot
    failures = [
        {
            "account_id": e.account_id,
            "report_type": e.unit.report_type,
            "report_id": e.report_id,
            "state": e.status,
            "reason": e.reason,
            "at": iso(e.completed_at or e.requested_at),
            "cooldown_until": iso(e.cooldown_until),
            "window": e.unit.window.label,
        }
        for e in ledger
        if e.status in FAILED or e in open_holds or (e.reason and e.ingest_attempts > 0)
    ]
    failures.sort(key=lambda f: f["at"] or "", reverse=True)
    states = Counter(e.status for e in ledger)
    return {
        "available": True,
        "error": None,
        "generated_at": iso(now),
        "summary": {
            "accounts": len({e.account_id for e in ledger}),
            "report_types": len({e.unit.report_type for e in ledger}),
            "entries": len(ledger),
            "states": dict(sorted(states.items())),
            "rows_landed": sum(r["rows_landed"] for r in rows),
            "throttled": sum(int(v) for v in throttled.values()),
            "failures": len(failures),
        },
        "rows": rows,
        "failures": failures,
        "tables": [
            {"table": t.table, "rows": t.rows, "accounts": dict(t.accounts), "error": t.error} for t in tables
        ],
    }


def throttle_counts(items: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], int]:
    """Sum ``throttled`` counters from items carrying ``account_id`` and ``report_type``."""
    out: dict[tuple[str, str], int] = {}
    for it in items:
        acct, rtype = it.get("account_id"), it.get("report_type")
        if acct and rtype:
            out[(str(acct), str(rtype))] = out.get((str(acct), str(rtype)), 0) + int(
                it.get("throttled", 0) or 0
            )
    return out
