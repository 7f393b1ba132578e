"""The pure replay of a group commit (splake.lake.grouping): hand-worked one-by-one outcomes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa

from splake.lake.grouping import KeyRow, replay, scope_of
from splake.lake.tables import DeletePlan

US, CA = "US", "CA"
DATE = pa.date32()


def plan(
    mode: str, start: int | None = None, end: int | None = None, markets: tuple[str, ...] = (US,)
) -> DeletePlan:
    return DeletePlan(
        mode=mode,  # type: ignore[arg-type]
        account_id="acme",
        marketplace_ids=markets,
        window_column="day",
        start=datetime(2026, 1, start, tzinfo=UTC) if start else None,
        end=datetime(2026, 1, end, tzinfo=UTC) if end else None,
    )


def d(n: int) -> date:
    return date(2026, 1, n)


def test_scope_bounds_follow_the_window_column_type() -> None:
    s = scope_of(0, plan("window", 3, 5), DATE)
    assert s is not None and (s.lo, s.hi) == (d(3), d(5))
    assert s.covers("acme", US, d(3)) and s.covers("acme", US, d(4))
    assert (
        not s.covers("acme", US, d(5)) and not s.covers("acme", CA, d(4)) and not s.covers("other", US, d(4))
    )
    assert not s.covers("acme", US, None)  # a row without a window value is never in a window
    assert scope_of(0, plan("key"), DATE) is None
    assert scope_of(0, plan("window", 5, 5), DATE) is None
    assert scope_of(0, plan("snapshot", markets=()), None) is None
    snap = scope_of(0, plan("snapshot"), None)
    assert snap is not None and snap.covers("acme", US, None)


def test_a_later_member_replaces_an_earlier_members_row_by_key() -> None:
    plans = [plan("window", 1, 3), plan("window", 5, 7)]
    scopes = [scope_of(i, p, DATE) for i, p in enumerate(plans)]
    # order K updated again: day 2 in member 0, day 6 in member 1 (member 0's row lies outside 1's window)
    staged = [KeyRow("K", "acme", US, d(2), member=0), KeyRow("K", "acme", US, d(6), member=1)]
    out = replay(plans, scopes, [], staged)
    assert dict(out.staged_dropped) == {0: {"K"}}  # member 0's row is gone
    assert dict(out.deleted) == {1: 1} and not out.stale and not out.live_deleted


def test_an_older_document_after_a_newer_one_is_stale() -> None:
    plans = [plan("window", 5, 7), plan("window", 1, 3)]
    scopes = [scope_of(i, p, DATE) for i, p in enumerate(plans)]
    staged = [KeyRow("K", "acme", US, d(6), member=0), KeyRow("K", "acme", US, d(2), member=1)]
    out = replay(plans, scopes, [], staged)
    assert dict(out.staged_dropped) == {1: {"K"}} and dict(out.stale) == {1: 1} and not out.deleted


def test_a_live_row_inside_the_scope_is_not_a_key_match_and_cannot_make_new_rows_stale() -> None:
    plans = [plan("window", 1, 10)]
    scopes = [scope_of(0, plans[0], DATE)]
    live = [KeyRow("K", "acme", US, d(8), data_file="f1")]
    out = replay(plans, scopes, live, [KeyRow("K", "acme", US, d(2), member=0)])
    assert not out.stale and [r.data_file for r in out.live_deleted] == ["f1"]
    assert dict(out.deleted) == {0: 1}


def test_a_scope_deletes_what_an_earlier_member_replaced_by_key() -> None:
    """Member 0 (key mode) brings K, replacing the live row by key; member 1 (snapshot of US) then removes
    member 0's K as well. One by one: member 0 deletes 1 live row, member 1 deletes member 0's row."""
    plans = [plan("key"), plan("snapshot")]
    scopes = [scope_of(i, p, DATE) for i, p in enumerate(plans)]
    live = [KeyRow("K", "acme", US, d(1))]
    out = replay(plans, scopes, live, [KeyRow("K", "acme", US, d(4), member=0)])
    assert len(out.live_deleted) == 1 and dict(out.staged_dropped) == {0: {"K"}}
    assert dict(out.deleted) == {0: 1, 1: 1}


def test_a_row_deleted_by_an_earlier_scope_no_longer_makes_a_later_row_stale() -> None:
    """Live K (day 9, CA) would make member 1's K (day 2) stale, but member 0's CA snapshot removed it."""
    plans = [plan("snapshot", markets=(CA,)), plan("window", 1, 3)]
    scopes = [scope_of(i, p, DATE) for i, p in enumerate(plans)]
    live = [KeyRow("K", "acme", CA, d(9))]
    out = replay(plans, scopes, live, [KeyRow("K", "acme", US, d(2), member=1)])
    assert not out.stale and not out.staged_dropped and dict(out.deleted) == {0: 1}
