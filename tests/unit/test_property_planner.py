"""Property-based tests (hypothesis) for the window planner and the cursor.

For every windowed report type, any "now", backfill start, cursor and lookback:
- windows are contiguous, non-empty, half-open, never longer than the type's max window, never cross the
  max-window grid, start on the granularity grid, never start before the backfill start and never end
  after ``now - end_lag``;
- the plan starts at the cursor minus the (effective) lookback, or at the backfill start on a first run;
- re-planning later (a crash, a rerun) yields the same windows for every complete grid chunk (the ledger
  finds in-flight reports again by window);
- landing windows in any order never moves the cursor past a gap; in order, exactly to the coverage end;
- snapshot types plan at most one slot, and none once the cursor is at the slot.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from splake.reports.planner import (
    Window,
    advance_cursor,
    effective_lookback,
    floor_time,
    plan_windows,
)
from splake.reports.types import REPORT_TYPES

WINDOWED = sorted(n for n, s in REPORT_TYPES.items() if s.windowed and s.requestable)
SNAPSHOT = sorted(n for n, s in REPORT_TYPES.items() if not s.windowed and s.requestable)
SET = settings(max_examples=150, deadline=None)

NOW = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))


@st.composite
def plans(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    name = draw(st.sampled_from(WINDOWED))
    now = draw(NOW)
    start_days = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=120)))
    start_date = None if start_days is None else (now - timedelta(days=start_days)).date()
    cursor_hours = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=24 * 100)))
    cursor = None if cursor_hours is None else now - timedelta(hours=cursor_hours)
    lookback = timedelta(days=draw(st.integers(min_value=0, max_value=14)))
    repull = draw(st.booleans())
    return name, now, start_date, cursor, lookback, repull


def _start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


@SET
@given(p=plans())
def test_windows_are_contiguous_bounded_and_aligned(p) -> None:  # type: ignore[no-untyped-def]
    name, now, start_date, cursor, lookback, repull = p
    spec = REPORT_TYPES[name]
    off = spec.grid_offset  # weekly types: the grid starts on Sundays

    def grid(t: datetime, step: timedelta) -> datetime:
        return floor_time(t - off, step) + off

    windows = plan_windows(spec, cursor, now, start_date, lookback, repull=repull)
    end_limit = grid(now - spec.end_lag, spec.granularity)
    for a, b in itertools.pairwise(windows):
        assert a.end == b.start
    for w in windows:
        assert w.start is not None and w.start < w.end
        assert w.end - w.start <= spec.max_window
        assert grid(w.start, spec.max_window) == grid(w.end - timedelta(microseconds=1), spec.max_window)
        assert grid(w.start, spec.granularity) == w.start
        assert w.end <= end_limit
        if start_date is not None:
            assert w.start >= _start(start_date)
    if windows:
        assert windows[-1].end == end_limit
        lb = effective_lookback(spec, lookback) if repull else timedelta(0)
        if cursor is not None:
            begin = cursor - lb
        elif start_date is not None:
            begin = _start(start_date)
        else:
            begin = now - lb
        if start_date is not None:
            begin = max(begin, _start(start_date))
        first = grid(begin, spec.granularity)
        if start_date is not None and first < _start(start_date):
            first += spec.granularity  # whole periods only
        assert windows[0].start == first


@SET
@given(p=plans(), later=st.integers(min_value=0, max_value=72 * 3600))
def test_replanning_later_keeps_complete_windows(p, later: int) -> None:  # type: ignore[no-untyped-def]
    name, now, start_date, cursor, lookback, repull = p
    if cursor is None and start_date is None:
        start_date = (now - timedelta(days=3)).date()  # a first run without a start date slides with now
    spec = REPORT_TYPES[name]
    first = plan_windows(spec, cursor, now, start_date, lookback, repull=repull)
    second = set(
        plan_windows(spec, cursor, now + timedelta(seconds=later), start_date, lookback, repull=repull)
    )
    for w in first:
        assert w.start is not None
        full_chunk = w.end == floor_time(w.start, spec.max_window) + spec.max_window
        if full_chunk:
            assert w in second, (w, sorted(second)[:3])


@SET
@given(
    data=st.data(),
    n=st.integers(min_value=1, max_value=12),
    hours=st.integers(min_value=1, max_value=48),
)
def test_cursor_never_skips_a_gap(data: st.DataObject, n: int, hours: int) -> None:
    """Landing in any order (crashes, retries): the cursor never moves past a window that has not landed
    (a gap would never be re-planned = lost data); landing in order moves it exactly to the end."""
    base = datetime(2026, 1, 1, tzinfo=UTC)
    step = timedelta(hours=hours)
    windows = [Window(base + i * step, base + (i + 1) * step) for i in range(n)]
    landed = data.draw(st.lists(st.sampled_from(windows), max_size=3 * n), label="landing order")
    cursor = None
    for w in landed:
        cursor = advance_cursor(cursor, base, w)
    done = set(landed)
    contiguous = 0
    while contiguous < n and windows[contiguous] in done:
        contiguous += 1
    coverage = None if contiguous == 0 else windows[contiguous - 1].end
    if coverage is None:
        assert cursor is None
    else:
        assert cursor is not None and cursor <= coverage
    in_order = None
    for w in sorted(done):
        in_order = advance_cursor(in_order, base, w)
    assert in_order == coverage


@SET
@given(name=st.sampled_from(SNAPSHOT), now=NOW, ahead=st.booleans())
def test_snapshot_plans_one_slot_until_landed(name: str, now: datetime, ahead: bool) -> None:
    spec = REPORT_TYPES[name]
    windows = plan_windows(spec, None, now, None, timedelta(days=3))
    assert len(windows) == 1 and windows[0].start is None and windows[0].end <= now
    slot = windows[0].end
    cursor = slot + timedelta(seconds=1) if ahead else slot
    assert plan_windows(spec, cursor, now, None, timedelta(days=3)) == []
    assert plan_windows(spec, slot - timedelta(seconds=1), now, None, timedelta(days=3)) == windows
