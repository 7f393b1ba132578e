"""The report ledger: every report requested or discovered, its window, status, document and attempts.

Entries live on the :class:`~splake.ports.StateStore` namespace ``"ledger"``: partition = account id, sort
key = the work unit key (report type + marketplaces + window). A second item per report
(``pk="report#<reportId>"``, ``sk=<account id>``) finds the entry from a reportId alone (notifications).

Transitions are pure functions (``now`` passed in) returning a new entry; :func:`save` writes with
``expect_version`` so two writers never silently overwrite each other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from splake.errors import ConflictError
from splake.ports import StateStore
from splake.reports.planner import WorkUnit, as_utc, iso, parse_iso

NAMESPACE = "ledger"

# HELD: downloaded, but too many rows failed to parse; nothing landed (see splake.reports.hold)
Status = Literal["NEW", "IN_QUEUE", "IN_PROGRESS", "DONE", "FATAL", "CANCELLED", "INGESTED", "HELD"]
IN_FLIGHT: frozenset[str] = frozenset({"IN_QUEUE", "IN_PROGRESS"})
AMAZON_TERMINAL: frozenset[str] = frozenset({"DONE", "FATAL", "CANCELLED"})
FAILED: frozenset[str] = frozenset({"FATAL", "CANCELLED"})


@dataclass(frozen=True)
class LedgerEntry:
    account_id: str
    key: str
    unit: WorkUnit
    status: Status = "NEW"
    report_id: str | None = None
    document_id: str | None = None
    attempts: int = 0  # reports obtained for this unit (created or reused)
    created_reports: int = 0  # createReport calls that succeeded
    reused: bool = False  # the current report was found with getReports instead of created
    polls: int = 0
    requested_at: datetime | None = None
    created_time: datetime | None = None  # the report's createdTime at Amazon (its data "as of")
    completed_at: datetime | None = None  # when we learned the final status
    processed_at: datetime | None = None  # Amazon's processingEndTime (when getReport shows it)
    ingested_at: datetime | None = None
    next_check_at: datetime | None = None
    cooldown_until: datetime | None = None
    ingest_attempts: int = 0
    rows: int = 0
    quarantined: int = 0
    raw_key: str | None = None
    reason: str | None = None
    version: int = 0  # StateStore _version (0 = not stored yet)
    history: tuple[str, ...] = field(default_factory=tuple)

    # --- serialisation ---------------------------------------------------------------------------
    def to_item(self) -> dict[str, Any]:
        return {
            "kind": "entry",
            "account_id": self.account_id,
            "key": self.key,
            "unit": self.unit.to_dict(),
            "status": self.status,
            "report_id": self.report_id,
            "document_id": self.document_id,
            "attempts": self.attempts,
            "created_reports": self.created_reports,
            "reused": self.reused,
            "polls": self.polls,
            "requested_at": _ts(self.requested_at),
            "created_time": _ts(self.created_time),
            "completed_at": _ts(self.completed_at),
            "processed_at": _ts(self.processed_at),
            "ingested_at": _ts(self.ingested_at),
            "next_check_at": _ts(self.next_check_at),
            "cooldown_until": _ts(self.cooldown_until),
            "ingest_attempts": self.ingest_attempts,
            "rows": self.rows,
            "quarantined": self.quarantined,
            "raw_key": self.raw_key,
            "reason": self.reason,
            "history": list(self.history[-20:]),
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> LedgerEntry:
        return cls(
            account_id=item["account_id"],
            key=item["key"],
            unit=WorkUnit.from_dict(item["unit"]),
            status=item["status"],
            report_id=item.get("report_id"),
            document_id=item.get("document_id"),
            attempts=int(item.get("attempts", 0)),
            created_reports=int(item.get("created_reports", 0)),
            reused=bool(item.get("reused", False)),
            polls=int(item.get("polls", 0)),
            requested_at=parse_iso(item.get("requested_at")),
            created_time=parse_iso(item.get("created_time")),
            completed_at=parse_iso(item.get("completed_at")),
            processed_at=parse_iso(item.get("processed_at")),
            ingested_at=parse_iso(item.get("ingested_at")),
            next_check_at=parse_iso(item.get("next_check_at")),
            cooldown_until=parse_iso(item.get("cooldown_until")),
            ingest_attempts=int(item.get("ingest_attempts", 0)),
            rows=int(item.get("rows", 0)),
            quarantined=int(item.get("quarantined", 0)),
            raw_key=item.get("raw_key"),
            reason=item.get("reason"),
            version=int(item.get("_version", 0)),
            history=tuple(item.get("history") or ()),
        )

    # --- queries ----------------------------------------------------------------------------------
    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT

    def cooling_down(self, now: datetime) -> bool:
        return self.status in FAILED and self.cooldown_until is not None and as_utc(now) < self.cooldown_until

    def fresh(self, now: datetime, reuse_within: timedelta) -> bool:
        """Landed recently enough that re-planning the same window must not request it again."""
        return (
            self.status == "INGESTED"
            and self.requested_at is not None
            and as_utc(now) - self.requested_at < reuse_within
        )


def _ts(t: datetime | None) -> str | None:
    """Full-precision timestamp for stored items (a stored entry reads back equal to the one saved)."""
    return None if t is None else as_utc(t).isoformat()


def new_entry(unit: WorkUnit) -> LedgerEntry:
    return LedgerEntry(account_id=unit.account_id, key=unit.key, unit=unit)


def _note(entry: LedgerEntry, now: datetime, text: str) -> tuple[str, ...]:
    return (*entry.history, f"{iso(now)} {text}")


# --- pure transitions ---------------------------------------------------------------------------------

CREATE_INTENT = "create-intent"


def on_create_intent(entry: LedgerEntry, now: datetime) -> LedgerEntry:
    """Recorded BEFORE createReport: a restart that finds it knows a report may exist at Amazon that the
    ledger never heard of, and reconciles with a fresh getReports instead of requesting again."""
    return dataclasses.replace(entry, requested_at=now, history=_note(entry, now, CREATE_INTENT))


def create_intent_pending(entry: LedgerEntry) -> bool:
    """A createReport was (maybe) sent for this entry and its answer never reached the ledger."""
    return bool(entry.history) and entry.history[-1].endswith(CREATE_INTENT)


def on_report_obtained(
    entry: LedgerEntry,
    report_id: str,
    status: str,
    now: datetime,
    *,
    reused: bool,
    document_id: str | None = None,
    created_time: datetime | None = None,
) -> LedgerEntry:
    """A report for this unit was created (createReport) or found (getReports)."""
    st: Status = status if status in (*IN_FLIGHT, *AMAZON_TERMINAL) else "IN_QUEUE"  # type: ignore[assignment]
    return dataclasses.replace(
        entry,
        status=st,
        report_id=report_id,
        document_id=document_id,
        attempts=entry.attempts + 1,
        created_reports=entry.created_reports + (0 if reused else 1),
        reused=reused,
        polls=0,
        requested_at=as_utc(now),
        created_time=created_time,
        completed_at=as_utc(now) if st in AMAZON_TERMINAL else None,
        processed_at=None,
        ingested_at=None,
        next_check_at=as_utc(now),
        cooldown_until=None,
        ingest_attempts=0,
        reason=None,
        history=_note(entry, now, f"{'reused' if reused else 'created'} {report_id} {st}"),
    )


def on_status(
    entry: LedgerEntry,
    report_id: str,
    status: str,
    document_id: str | None,
    now: datetime,
    *,
    cooldown: timedelta,
    reason: str | None = None,
    processed_at: datetime | None = None,
) -> LedgerEntry:
    """The shared completion transition (polling and REPORT_PROCESSING_FINISHED both land here;
    ``processed_at``: Amazon's processingEndTime, when known).

    Idempotent: a repeated or stale notification (other reportId, or an entry already past this status)
    returns the entry unchanged.
    """
    if report_id != entry.report_id:
        return entry
    if entry.status in ("DONE", "INGESTED", "FATAL", "CANCELLED"):
        return entry
    if status in IN_FLIGHT:
        if status == entry.status:
            return entry
        return dataclasses.replace(entry, status=status, history=_note(entry, now, status))  # type: ignore[arg-type]
    if status == "DONE":
        return dataclasses.replace(
            entry,
            status="DONE",
            document_id=document_id,
            completed_at=as_utc(now),
            processed_at=as_utc(processed_at) if processed_at is not None else None,
            history=_note(entry, now, "DONE"),
        )
    if status in FAILED:
        why = reason or (
            "Amazon cancelled the report (usually: no data in the window)"
            if status == "CANCELLED"
            else "Amazon ended the report FATAL without a reason"
        )
        return dataclasses.replace(
            entry,
            status=status,  # type: ignore[arg-type]
            document_id=document_id,
            completed_at=as_utc(now),
            cooldown_until=as_utc(now) + cooldown,
            reason=why,
            history=_note(entry, now, f"{status}: {why}"),
        )
    return entry


def on_created_time(entry: LedgerEntry, report_id: str, created: datetime | None) -> LedgerEntry:
    if created is None or entry.report_id != report_id or entry.created_time is not None:
        return entry
    return dataclasses.replace(entry, created_time=as_utc(created))


def on_poll(
    entry: LedgerEntry, now: datetime, initial: float, maximum: float, jitter: float = 1.0
) -> LedgerEntry:
    """One poll saw no change: schedule the next check with exponential backoff (capped). ``jitter`` in
    [0, 1] (random, from the caller) takes the step down to as little as half: reports requested together
    (every seller's first report of a sync) no longer poll in lockstep, so the first of them to finish is
    seen a fraction of a step after it finished, not up to a whole step later for all of them."""
    delay = min(maximum, initial * (2 ** min(entry.polls, 16))) * (0.5 + 0.5 * min(max(jitter, 0.0), 1.0))
    return dataclasses.replace(
        entry, polls=entry.polls + 1, next_check_at=as_utc(now) + timedelta(seconds=delay)
    )


def on_ingested(
    entry: LedgerEntry, now: datetime, *, rows: int, quarantined: int, raw_key: str | None
) -> LedgerEntry:
    return dataclasses.replace(
        entry,
        status="INGESTED",
        ingested_at=as_utc(now),
        rows=rows,
        quarantined=quarantined,
        raw_key=raw_key,
        reason=None,
        history=_note(entry, now, f"ingested {rows} rows ({quarantined} quarantined)"),
    )


def on_ingest_failed(entry: LedgerEntry, now: datetime, reason: str) -> LedgerEntry:
    return dataclasses.replace(
        entry,
        ingest_attempts=entry.ingest_attempts + 1,
        reason=reason,
        history=_note(entry, now, f"ingest failed: {reason[:200]}"),
    )


def on_timeout(entry: LedgerEntry, now: datetime, cooldown: timedelta) -> LedgerEntry:
    return dataclasses.replace(
        entry,
        status="FATAL",
        completed_at=as_utc(now),
        cooldown_until=as_utc(now) + cooldown,
        reason=f"report {entry.report_id} still {entry.status} after the configured report_timeout_minutes",
        history=_note(entry, now, "timed out"),
    )


# --- reuse rules (pure) ---------------------------------------------------------------------------------


def request_window(unit: WorkUnit, end_inclusive: bool) -> tuple[str | None, str | None]:
    """dataStartTime / dataEndTime to send for a unit (None for snapshots)."""
    w = unit.window
    if w.start is None:
        return None, None
    end = w.end - timedelta(seconds=1) if end_inclusive else w.end
    return iso(w.start), iso(end)


def _same_time(a: str | None, b: str | None) -> bool:
    ta, tb = parse_iso(a), parse_iso(b)
    if ta is None or tb is None:
        return ta is None and tb is None
    return abs((ta - tb).total_seconds()) < 1.0


def choose_reusable(
    reports: Sequence[Mapping[str, Any]],
    unit: WorkUnit,
    now: datetime,
    *,
    end_inclusive: bool,
    reuse_done_within: timedelta,
    exclude: frozenset[str] = frozenset(),
) -> Mapping[str, Any] | None:
    """Pick a report from getReports that serves ``unit``: same type, same marketplaces, same window;
    in flight, or DONE and created within ``reuse_done_within``. Prefers DONE, then the newest."""
    start, end = request_window(unit, end_inclusive)
    best: Mapping[str, Any] | None = None
    best_rank: tuple[int, datetime] | None = None
    for r in reports:
        if r.get("reportType") != unit.report_type or r.get("reportId") in exclude:
            continue
        if sorted(r.get("marketplaceIds") or []) != sorted(unit.marketplace_ids):
            continue
        status = r.get("processingStatus")
        created = parse_iso(r.get("createdTime")) or as_utc(now)
        if start is not None and not (
            _same_time(r.get("dataStartTime"), start) and _same_time(r.get("dataEndTime"), end)
        ):
            continue
        if status == "DONE":
            if as_utc(now) - created > reuse_done_within:
                continue
            if unit.window.start is None and created < unit.window.end - reuse_done_within:
                continue
            rank = (2, created)
        elif status in IN_FLIGHT:
            rank = (1, created)
        else:
            continue
        if best_rank is None or rank > best_rank:
            best, best_rank = r, rank
    return best


# --- store adapter ------------------------------------------------------------------------------------


def _index_pk(report_id: str) -> str:
    return f"report#{report_id}"


def load(store: StateStore, account_id: str, key: str) -> LedgerEntry | None:
    item = store.get(NAMESPACE, account_id, key)
    return LedgerEntry.from_item(item) if item else None


def save(store: StateStore, entry: LedgerEntry) -> LedgerEntry:
    """Conditional write (``expect_version``); raises ConflictError when someone else wrote first."""
    stored = store.put(NAMESPACE, entry.account_id, entry.key, entry.to_item(), expect_version=entry.version)
    if entry.report_id:
        store.put(
            NAMESPACE, _index_pk(entry.report_id), entry.account_id, {"kind": "index", "key": entry.key}
        )
    return dataclasses.replace(entry, version=int(stored["_version"]))


def update(
    store: StateStore,
    account_id: str,
    key: str,
    fn: Callable[[LedgerEntry], LedgerEntry],
    *,
    retries: int = 5,
) -> LedgerEntry | None:
    """Load → transform → conditional save, retrying on conflicts. None when the entry doesn't exist."""
    for _ in range(retries):
        current = load(store, account_id, key)
        if current is None:
            return None
        nxt = fn(current)
        if nxt == current:
            return current
        try:
            return save(store, nxt)
        except ConflictError:
            continue
    raise ConflictError(
        f"ledger entry {account_id}/{key} kept changing under us",
        hint="another splake process is working on the same account; run one sync per account at a time",
    )


def find_by_report(store: StateStore, report_id: str, account_id: str | None = None) -> LedgerEntry | None:
    """The entry that holds ``report_id`` (reportIds are unique only per seller, so pass the account when
    known)."""
    hits = store.query(NAMESPACE, _index_pk(report_id))
    for h in hits:
        acct = h["_sk"]
        if account_id is not None and acct != account_id:
            continue
        entry = load(store, acct, h["key"])
        if entry is not None and entry.report_id == report_id:
            return entry
    return None


def entries(store: StateStore, account_id: str | None = None) -> list[LedgerEntry]:
    items = store.query(NAMESPACE, account_id) if account_id is not None else list(store.scan(NAMESPACE))
    out = [LedgerEntry.from_item(i) for i in items if i.get("kind") == "entry"]
    return sorted(out, key=lambda e: (e.account_id, e.key))


def known_report_ids(store: StateStore, account_id: str) -> frozenset[str]:
    return frozenset(e.report_id for e in entries(store, account_id) if e.report_id)
