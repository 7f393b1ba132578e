"""``sync``: run the pipeline steps for every configured account x marketplace x report type.

Accounts run concurrently; within an account every stream (report type x marketplace) runs concurrently
and lands its windows in order (so the cursor advances contiguously). Reports of a stream are all
requested first, then polled (when: :mod:`splake.reports.polling` — near the completion time learned from
reports finished earlier, oldest first, within the seller's getReport budget) and ingested one by one. Work
left in flight by an earlier (killed) run is resumed from the ledger, never re-requested.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from splake.config import Settings
from splake.errors import ApiError, FatalError, RetryableError, SplakeError
from splake.logs import get_logger, log_event
from splake.reports import cursors, pipeline
from splake.reports.landgate import LandingGate
from splake.reports.ledger import LedgerEntry
from splake.reports.planner import Window, WorkUnit, as_utc
from splake.reports.polling import PollParams, PollRoom, ProcessingTimes, load_times, save_times
from splake.reports.types import report_type
from splake.runners.context import Context
from splake.spapi.usage_plans import operation

log = get_logger(__name__)

# documents fetched (getReportDocument + download + raw zone) and staged at once, across accounts (a staged
# document waiting for its grouped commit no longer counts): downloads overlap other accounts' requests and
# the CPU-bound staging (bounded separately: ingest.LAND_PARALLELISM / the staging workers)
DOCUMENTS_IN_FLIGHT = 16
LAND_ATTEMPTS = 5  # a corrupt or truncated download is fetched again (fresh pre-signed URL) this often
POLL_BUDGET_SHARE = 0.9  # of getReport's per-seller rate, for polls spread over the overdue reports


@dataclass
class StreamStats:
    account_id: str
    report_type: str
    units: int = 0
    created: int = 0
    reused: int = 0
    resumed: int = 0
    fresh: int = 0
    cooldown: int = 0
    cancelled: int = 0
    ingested: int = 0
    pending: int = 0
    rows: int = 0
    quarantined: int = 0
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class SyncSummary:
    started_at: datetime
    finished_at: datetime | None = None
    streams: dict[tuple[str, str], StreamStats] = field(default_factory=dict)

    def stats(self, account_id: str, report_type: str) -> StreamStats:
        key = (account_id, report_type)
        st = self.streams.get(key)
        if st is None:
            st = self.streams[key] = StreamStats(account_id, report_type)
        return st

    @property
    def failures(self) -> list[tuple[str, str, str]]:
        return [(s.account_id, s.report_type, f) for s in self.streams.values() for f in s.failures]

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.streams.values())

    @property
    def quarantined(self) -> int:
        return sum(s.quarantined for s in self.streams.values())

    @property
    def created(self) -> int:
        return sum(s.created for s in self.streams.values())

    @property
    def reused(self) -> int:
        return sum(s.reused for s in self.streams.values())

    @property
    def exit_code(self) -> int:
        """1 when something failed permanently (a FATAL seen in this run, a fatal API/data error)."""
        return 1 if self.failures else 0


class SyncObserver(Protocol):
    def planned(self, totals: dict[tuple[str, str], int]) -> None: ...

    def unit_done(self, account_id: str, report_type: str, outcome: str) -> None: ...


class _Quiet:
    def planned(self, totals: dict[tuple[str, str], int]) -> None:
        pass

    def unit_done(self, account_id: str, report_type: str, outcome: str) -> None:
        pass


@dataclass
class _Item:
    unit: WorkUnit
    entry: LedgerEntry | None = None
    action: str = ""


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, SplakeError):
        return exc.message + (f" ({exc.where})" if exc.where else "") + (f" → {exc.hint}" if exc.hint else "")
    return f"{type(exc).__name__}: {exc}"


class _Run:
    def __init__(
        self, settings: Settings, ctx: Context, summary: SyncSummary, observer: SyncObserver, deadline: float
    ) -> None:
        self.settings = settings
        self.ctx = ctx
        self.summary = summary
        self.observer = observer
        self.deadline = deadline
        # documents landing at once; the documents of a table already landing go first (grouped commits)
        self.landing = LandingGate(DOCUMENTS_IN_FLIGHT)
        # a table's committer lingers for its queued documents
        ctx.committer().expect(self.landing.queued, self.landing.queued_anywhere)
        # streams still sending their createReports: staging workers start when none is (their start-up
        # takes a core for a second or two, which the requests need more)
        self.requesting = 0
        self.documents = 0
        # the staging workers retire once this many documents are past staging (0: never; see staged)
        self.to_stage = 0
        self._past_staging: set[tuple[str, str]] = set()
        self.started = as_utc(summary.started_at)
        # reports waiting for their next getReport, per account (polling.py decides when)
        self.rooms: dict[str, PollRoom] = {}
        self.processing_times = ProcessingTimes()
        s = settings.sync
        rate = operation("getReport").rate
        self.poll_params = PollParams(s.poll_initial_seconds, s.poll_max_seconds, rate * POLL_BUDGET_SHARE)

    def room(self, account_id: str) -> PollRoom:
        r = self.rooms.get(account_id)
        if r is None:
            r = self.rooms[account_id] = PollRoom(self.processing_times, self.poll_params)
        return r

    def done(self, unit: WorkUnit, outcome: str) -> None:
        self.past_staging(unit)
        self.observer.unit_done(unit.account_id, unit.report_type, outcome)

    def past_staging(self, unit: WorkUnit) -> None:
        """``unit``'s document is staged (or will not be: failed, pending, skipped): when every planned one
        is, the staging workers retire while the last commits run."""
        done = (unit.account_id, unit.key)  # (a unit's key names its stream and window, not its account)
        if done in self._past_staging:
            return
        self._past_staging.add(done)
        stager = self.ctx.stager
        if (
            self.to_stage
            and len(self._past_staging) >= self.to_stage
            and stager is not None
            and stager.started
        ):
            stager.retire()

    async def stream(self, items: list[_Item]) -> None:
        items.sort(key=lambda i: (i.unit.window.start or i.unit.window.end, i.unit.window.end))
        denied = False  # a 403 (missing role) holds for every window of the stream: ask Amazon once
        for it in items:
            st = self.summary.stats(it.unit.account_id, it.unit.report_type)
            if denied:
                it.action = "failed"
                continue
            if it.entry is not None and (it.entry.in_flight or it.entry.status == "DONE"):
                it.action = "resumed"
                st.resumed += 1
                continue
            try:
                out = await pipeline.request(self.ctx, it.unit, self.ctx.clock())
            except FatalError as exc:
                st.failures.append(f"{it.unit.window.label}: request failed: {_error_text(exc)}")
                it.action = "failed"
                denied = isinstance(exc, ApiError) and exc.status == 403
                continue
            except RetryableError as exc:
                st.pending += 1
                st.warnings.append(f"{it.unit.window.label}: request deferred: {_error_text(exc)}")
                it.action = "failed"
                continue
            it.entry, it.action = out.entry, out.action
            if out.action in ("created", "reused", "resumed", "fresh", "cooldown"):
                setattr(st, out.action, getattr(st, out.action) + 1)
        self.requested()
        for it in items:
            if it.action == "failed" or it.entry is None:
                self.done(it.unit, "failed")
                continue
            await self.finish(it.unit, it.entry, it.action)

    def requested(self) -> None:
        """A stream has sent its requests; the last one starts the staging workers (when worth it)."""
        self.requesting -= 1
        if self.requesting == 0 and self.ctx.stager is not None:
            self.ctx.stager.start(self.documents)

    async def finish(self, unit: WorkUnit, entry: LedgerEntry, action: str) -> None:
        st = self.summary.stats(unit.account_id, unit.report_type)
        if action == "cooldown" and entry.status == "CANCELLED":
            await self.land(unit, entry)  # no data in the window: nothing to land, the cursor moves on
            return
        if action == "cooldown":
            st.warnings.append(
                f"{unit.window.label}: cooling down after {entry.status} until {entry.cooldown_until} "
                f"({entry.reason})"
            )
            self.done(unit, "cooldown")
            return
        room = self.room(unit.account_id)
        room.join(entry, self.ctx.clock())
        try:
            while entry.in_flight:
                now = self.ctx.clock()
                wait = (room.poll_at(entry, now) - now).total_seconds()
                if time.monotonic() + max(wait, 0.0) > self.deadline:
                    st.pending += 1
                    st.warnings.append(
                        f"{unit.window.label}: report {entry.report_id} still {entry.status}; "
                        "the next sync resumes it"
                    )
                    self.done(unit, "pending")
                    return
                if wait > 0:
                    await room.wait(wait)  # early when the room changed (a report left, a time was learned)
                    continue
                entry = await pipeline.check(self.ctx, entry, now)
                if room.polled(entry, now):
                    for r in self.rooms.values():  # a new expectation: every seller's reports recompute
                        r.wake()
        except FatalError as exc:
            st.failures.append(f"{unit.window.label}: polling failed: {_error_text(exc)}")
            self.done(unit, "failed")
            return
        except RetryableError as exc:
            st.pending += 1
            st.warnings.append(f"{unit.window.label}: polling deferred: {_error_text(exc)}")
            self.done(unit, "pending")
            return
        finally:
            room.leave(entry.key)
        if entry.status == "FATAL":
            seen_now = entry.completed_at is not None and entry.completed_at >= self.started - timedelta(
                seconds=1
            )
            if seen_now:
                entry = await pipeline.explain_failure(self.ctx, entry)
                st.failures.append(f"{unit.window.label}: report {entry.report_id} FATAL: {entry.reason}")
            else:
                st.cooldown += 1
            self.done(unit, "fatal")
            return
        await self.land(unit, entry)

    async def land(self, unit: WorkUnit, entry: LedgerEntry) -> bool:
        st = self.summary.stats(unit.account_id, unit.report_type)
        last: BaseException | None = None
        for attempt in range(LAND_ATTEMPTS):
            try:
                # the slot is handed on once the document is staged: the documents waiting for their
                # grouped commit do not hold back the downloads and staging of the next ones
                async with self.landing.slot(report_type(entry.unit.report_type).table) as release:

                    def staged() -> None:
                        release()
                        self.past_staging(unit)

                    res = await pipeline.ingest(self.ctx, entry, on_staged=staged)
            except RetryableError as exc:
                last = exc
                if attempt < LAND_ATTEMPTS - 1:
                    await asyncio.sleep(min(0.5 * 2.0**attempt, 10.0))
                continue
            except (SplakeError, OSError) as exc:
                last = exc
                break
            if res.entry.status == "CANCELLED":
                st.cancelled += 1
                self.done(unit, "cancelled")
            elif res.entry.status == "HELD":  # too many rows unreadable: nothing landed, the table kept
                st.quarantined += res.quarantined
                st.failures.append(
                    f"{unit.window.label}: report {res.entry.report_id} HELD: {res.reason} → fix, then "
                    f"`splake reports reland {res.entry.report_id}`"
                )
                self.done(unit, "held")
            elif res.skipped:
                self.done(unit, "fresh")
            else:
                st.ingested += 1
                st.rows += res.rows
                st.quarantined += res.quarantined
                self.done(unit, "ingested")
            return True
        assert last is not None
        pipeline.record_ingest_failure(self.ctx, entry, _error_text(last))
        if isinstance(last, RetryableError):
            st.pending += 1
            st.warnings.append(f"{unit.window.label}: ingest deferred: {_error_text(last)}")
        else:
            st.failures.append(
                f"{unit.window.label}: ingest of report {entry.report_id} failed: {_error_text(last)}"
            )
        log_event(log, "ingest_failed", logging.ERROR, key=entry.key, error=_error_text(last))
        self.done(unit, "failed")
        return False

    async def discover(self, unit: WorkUnit) -> None:
        st = self.summary.stats(unit.account_id, unit.report_type)
        try:
            todo = await pipeline.discover(self.ctx, unit, self.ctx.clock())
        except (FatalError, RetryableError) as exc:
            target = st.failures if isinstance(exc, FatalError) else st.warnings
            target.append(f"discovery failed: {_error_text(exc)}")
            self.done(unit, "failed")
            return
        st.reused += len(todo)
        ok = True
        for entry in todo:
            ok = await self.land(entry.unit, entry) and ok
        if ok:
            cursors.advance(
                self.ctx.state,
                unit.account_id,
                unit.stream,
                unit.window.start,
                Window(unit.window.start or unit.window.end, unit.window.end),
                now=self.ctx.clock(),
            )
        self.done(unit, "discovered")


async def sync(
    settings: Settings,
    ctx: Context,
    *,
    accounts: Sequence[str] | None = None,
    report_types: Sequence[str] | None = None,
    observer: SyncObserver | None = None,
    max_wait_seconds: float | None = None,
) -> SyncSummary:
    """Plan, request, poll and land every configured report; resumes whatever a previous run left."""
    acct_filter = tuple(accounts) if accounts else None
    type_filter = tuple(report_types) if report_types else None
    now = ctx.clock()
    summary = SyncSummary(started_at=now)
    obs = observer or _Quiet()
    wait = max_wait_seconds if max_wait_seconds is not None else settings.sync.report_timeout_minutes * 60.0
    run = _Run(settings, ctx, summary, obs, time.monotonic() + wait)
    ctx.report_listings.clear()

    units = pipeline.plan(ctx, now, accounts=acct_filter, report_types=type_filter)
    planned_keys = {(u.account_id, u.key) for u in units}
    streams: dict[tuple[str, str], list[_Item]] = defaultdict(list)
    discover_units: list[WorkUnit] = []
    for u in units:
        if u.kind == "discover":
            discover_units.append(u)
        else:
            streams[(u.account_id, u.stream)].append(_Item(u))
    for e in pipeline.unfinished_entries(ctx, acct_filter):
        if type_filter and e.unit.report_type not in type_filter:
            continue
        if (e.account_id, e.key) in planned_keys:
            for it in streams[(e.account_id, e.unit.stream)]:
                if it.unit.key == e.key:
                    it.entry = e
            continue
        if e.unit.kind == "discover":
            if any(
                u.account_id == e.account_id and u.report_type == e.unit.report_type for u in discover_units
            ):
                continue  # this run's discovery lands it (it is still DONE in the ledger)
            streams[(e.account_id, "discovered#" + e.key)].append(_Item(e.unit, e))
        else:
            streams[(e.account_id, e.unit.stream)].append(_Item(e.unit, e))
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for items in streams.values():
        for it in items:
            totals[(it.unit.account_id, it.unit.report_type)] += 1
            summary.stats(it.unit.account_id, it.unit.report_type).units += 1
    for u in discover_units:
        totals[(u.account_id, u.report_type)] += 1
        summary.stats(u.account_id, u.report_type).units += 1
    obs.planned(dict(totals))
    run.documents = sum(totals.values())  # (staging processes, when worth it, start once requested)
    # (a discovery lands several documents per unit: then the workers stay until the end)
    run.to_stage = 0 if discover_units else run.documents
    run.requesting = len(streams)
    if not streams and ctx.stager is not None:
        ctx.stager.start(run.documents)
    log_event(log, "sync_planned", units=len(units), streams=len(streams), discover=len(discover_units))

    async def run_account(account_id: str) -> None:
        jobs = [run.stream(items) for (acct, _), items in streams.items() if acct == account_id]
        jobs += [run.discover(u) for u in discover_units if u.account_id == account_id]
        await asyncio.gather(*jobs)

    account_ids = sorted({a for a, _ in streams} | {u.account_id for u in discover_units})
    run.processing_times = load_times(ctx.state)  # what earlier syncs learned about processing times
    await asyncio.gather(*(run_account(a) for a in account_ids))
    save_times(ctx.state, run.processing_times, run.processing_times.learned, ctx.clock())
    summary.finished_at = ctx.clock()
    log_event(
        log,
        "sync_finished",
        rows=summary.rows,
        created=summary.created,
        reused=summary.reused,
        quarantined=summary.quarantined,
        failures=len(summary.failures),
    )
    return summary
