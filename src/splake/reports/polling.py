"""When to poll a report (getReport) next: near its expected completion, within the seller's budget.

getReport is limited per selling partner (2 requests/s, burst 15). A seller with 15 reports in flight that
polls each on its own backoff (0.2 s … 2 s) asks for 7.5 polls/s: the limiter queues them, each report is
seen every ~8 s, and a report that finished waits that long to be noticed. Instead:

- **Expected completion, learned.** Amazon takes roughly the same time for a report type from one
  request to the next. :class:`ProcessingTimes` keeps the recent processing times (Amazon's
  ``processingEndTime - createdTime``, else requested → noticed), per report type and over all types,
  remembered between syncs (:func:`load_times` / :func:`save_times`, StateStore namespace ``"polling"``). A
  report with an expectation is first polled at ``requested_at + expected`` (not before: the bucket
  refills meanwhile, so the reports of a seller due together are polled at once from the burst), then
  more rarely the longer it is overdue (``initial`` … ``maximum``), never more often than the seller's
  overdue reports can share the rate.
- **Oldest first, until something is learned.** Without an expectation, only the seller's oldest waiting
  report (the *leader*) polls on its own backoff schedule (the ledger's ``next_check_at``); the others wait
  for the first completion to teach an expectation (the waiting room wakes them) and meanwhile follow their
  own backoff, spaced at least ``4 * waiting / rate`` apart (a quarter of the budget between them), so a
  slow leader (a long backfill) holds nobody for ``poll_max``.

:func:`next_poll` is the pure decision (clock passed in); :class:`PollRoom` is the thin async layer the
local runner's reports wait in (one per seller).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import statistics
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from splake.ports import StateStore
from splake.reports.ledger import LedgerEntry

# processing times remembered per report type (the median of these is the expectation)
REMEMBERED = 16
# reports waiting behind the leader (no expectation yet) use at most 1/this of the budget between them
FALLBACK_SHARE_INVERSE = 4.0
# the expectation changed by more than this fraction: waiting reports recompute when to poll
SIGNIFICANT_CHANGE = 0.1


@dataclass(frozen=True)
class PollParams:
    initial: float  # seconds: the shortest step between polls of one report ([sync] poll_initial_seconds)
    maximum: float  # seconds: the longest step ([sync] poll_max_seconds)
    rate: float  # getReport requests/s the seller's budget allows (the usage plan's rate)


@dataclass(frozen=True)
class Waiting:
    """A report waiting to be polled: what the decision needs to know about it."""

    key: str
    requested_at: datetime
    next_check_at: datetime | None  # the ledger's own backoff schedule
    expected: float | None = None  # learned processing time of its report type (seconds)
    last_poll: datetime | None = None  # the last getReport of it in this run

    @property
    def due(self) -> datetime | None:
        return None if self.expected is None else self.requested_at + timedelta(seconds=self.expected)

    def overdue(self) -> bool:
        """Polled at or after its expected completion and still in flight."""
        due = self.due
        return due is not None and self.last_poll is not None and self.last_poll >= due


def _leader(members: Sequence[Waiting]) -> str:
    return min(members, key=lambda m: (m.requested_at, m.key)).key


def next_poll(me: Waiting, members: Sequence[Waiting], now: datetime, p: PollParams) -> datetime:
    """When to poll ``me`` next (``members``: every report of the seller waiting now, ``me`` included).
    A time in the past means now."""
    due = me.due
    if due is not None:
        if me.last_poll is None or me.last_poll < due:
            return due
        # overdue: back off with how long it is overdue, bounded; the reports overdue by more than a step
        # share the budget (a poll that came a hair before the report finished -- the expectation is a
        # median, Amazon's clock is not ours -- looks again one step later: with the budget shared
        # between the ~10 reports due with it, it waited 5 s for a report 20 ms late)
        overdue_by = (me.last_poll - due).total_seconds()
        step = min(p.maximum, max(p.initial, overdue_by))
        if overdue_by >= p.initial:
            step = max(step, sum(1 for m in members if m.overdue()) / p.rate)
        return me.last_poll + timedelta(seconds=step)
    if me.key == _leader(members):
        return me.next_check_at or now
    # the others follow their own backoff too (a slow leader -- a long backfill -- must not hold a quick
    # report for poll_max), spaced so that together they use at most a quarter of the budget
    base = me.last_poll or me.requested_at
    spaced = base + timedelta(seconds=FALLBACK_SHARE_INVERSE * len(members) / p.rate)
    return max(me.next_check_at or now, spaced)


def processing_seconds(entry: LedgerEntry) -> float | None:
    """How long Amazon took for a finished report: its own timestamps when known, else our view."""
    if entry.processed_at is not None and entry.created_time is not None:
        return max(0.0, (entry.processed_at - entry.created_time).total_seconds())
    if entry.completed_at is not None and entry.requested_at is not None:
        return max(0.0, (entry.completed_at - entry.requested_at).total_seconds())
    return None


@dataclass
class ProcessingTimes:
    """Recent processing times per report type (and over all types, for types not seen yet)."""

    by_type: dict[str, deque[float]] = field(default_factory=dict)
    any_type: deque[float] = field(default_factory=lambda: deque(maxlen=REMEMBERED))

    learned: set[str] = field(default_factory=set)  # report types recorded since loaded

    def record(self, report_type: str, seconds: float) -> bool:
        """Remember one; True when an expectation appeared or changed significantly."""
        self.learned.add(report_type)
        before = (self.expected(report_type), self.expected(None))
        self.by_type.setdefault(report_type, deque(maxlen=REMEMBERED)).append(seconds)
        self.any_type.append(seconds)
        after = (self.expected(report_type), self.expected(None))
        return any(_changed(b, a) for b, a in zip(before, after, strict=True))

    def expected(self, report_type: str | None) -> float | None:
        """The median recent processing time of ``report_type`` (of any type when it was never seen)."""
        seen = self.by_type.get(report_type) if report_type is not None else None
        pool = seen or self.any_type
        return statistics.median(pool) if pool else None


# --- remembered between runs (StateStore namespace "polling", pk "processing_times", sk = report type) ------

NAMESPACE = "polling"
_TIMES_PK = "processing_times"


def load_times(state: StateStore) -> ProcessingTimes:
    """The processing times earlier syncs learned (one query): today's first polls already know them."""
    times = ProcessingTimes()
    for item in sorted(state.query(NAMESPACE, _TIMES_PK), key=lambda i: str(i.get("updated_at", ""))):
        seconds = [float(x) for x in item.get("seconds") or [] if isinstance(x, int | float)]
        if seconds:
            times.by_type[str(item["_sk"])] = deque(seconds[-REMEMBERED:], maxlen=REMEMBERED)
            times.any_type.extend(seconds[-REMEMBERED:])
    return times


def save_times(state: StateStore, times: ProcessingTimes, report_types: Iterable[str], now: datetime) -> None:
    """Remember the recent processing times of ``report_types`` (those this run learned something about)."""
    for name in sorted(set(report_types)):
        seen = times.by_type.get(name)
        if seen:
            state.put(NAMESPACE, _TIMES_PK, name, {"seconds": list(seen), "updated_at": now.isoformat()})


def _changed(before: float | None, after: float | None) -> bool:
    if before is None or after is None:
        return before is not after
    return abs(after - before) > SIGNIFICANT_CHANGE * max(before, 1e-9)


class PollRoom:
    """The reports of one seller waiting for their next getReport (local runner, one event loop)."""

    def __init__(self, times: ProcessingTimes, params: PollParams) -> None:
        self.times = times
        self.params = params
        self._members: dict[str, Waiting] = {}
        self._types: dict[str, str] = {}
        self._changed = asyncio.Event()

    def join(self, entry: LedgerEntry, now: datetime) -> None:
        self._members[entry.key] = Waiting(entry.key, entry.requested_at or now, entry.next_check_at)
        self._types[entry.key] = entry.unit.report_type

    def leave(self, key: str) -> None:
        if self._members.pop(key, None) is not None:
            self._types.pop(key, None)
            self.wake()

    def poll_at(self, entry: LedgerEntry, now: datetime) -> datetime:
        if entry.key not in self._members:
            return now
        expected: dict[str, float | None] = {}  # per report type (a median each: once per call)
        members = []
        for k, m in self._members.items():
            t = self._types[k]
            e = expected[t] if t in expected else expected.setdefault(t, self.times.expected(t))
            if m.expected != e:  # kept up to date: a room's members change when something is learned
                m = self._members[k] = dataclasses.replace(m, expected=e)
            members.append(m)
        me = self._members[entry.key]
        return next_poll(
            dataclasses.replace(me, next_check_at=entry.next_check_at), members, now, self.params
        )

    def polled(self, entry: LedgerEntry, when: datetime) -> bool:
        """Record a poll's outcome; True when it taught a (significantly) new expectation."""
        me = self._members.get(entry.key)
        if me is not None:
            self._members[entry.key] = dataclasses.replace(
                me, next_check_at=entry.next_check_at, last_poll=when
            )
        if entry.status != "DONE":
            return False
        seconds = processing_seconds(entry)
        return seconds is not None and self.times.record(entry.unit.report_type, seconds)

    def wake(self) -> None:
        """Something changed (a report left, an expectation was learned): waiters recompute."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        """Sleep up to ``seconds``; return early when the room changes."""
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout=max(0.0, seconds))
