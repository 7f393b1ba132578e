"""Ledger transitions, conditional writes and reuse rules against the real SqliteStateStore."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from splake.errors import ConflictError
from splake.reports import cursors, ledger
from splake.reports.planner import Window, WorkUnit
from splake.state.sqlite import SqliteStateStore

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
COOLDOWN = timedelta(minutes=30)
US = "ATVPDKIKX0DER"


def _unit(day: int = 20, rt: str = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL") -> WorkUnit:
    return WorkUnit(
        account_id="acme",
        report_type=rt,
        marketplace_ids=(US,),
        window=Window(datetime(2026, 11, day, tzinfo=UTC), datetime(2026, 11, day + 1, tzinfo=UTC)),
    )


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = SqliteStateStore(tmp_path / "state.db")
    yield s
    s.close()


def test_lifecycle_persists_and_is_found_by_report_id(store: SqliteStateStore) -> None:
    e = ledger.on_report_obtained(ledger.new_entry(_unit()), "R1", "IN_QUEUE", T0, reused=False)
    e = ledger.save(store, e)
    assert e.version == 1
    found = ledger.find_by_report(store, "R1")
    assert found is not None and found.key == e.key and found.status == "IN_QUEUE"
    assert ledger.find_by_report(store, "R1", account_id="someone-else") is None
    done = ledger.update(
        store, "acme", e.key, lambda x: ledger.on_status(x, "R1", "DONE", "DOC1", T0, cooldown=COOLDOWN)
    )
    assert done is not None and done.status == "DONE" and done.document_id == "DOC1"
    ing = ledger.update(
        store, "acme", e.key, lambda x: ledger.on_ingested(x, T0, rows=5, quarantined=1, raw_key="k")
    )
    assert ing is not None and ing.status == "INGESTED" and ing.rows == 5
    back = ledger.load(store, "acme", e.key)
    assert back == ing
    assert [x.key for x in ledger.entries(store)] == [e.key]  # index items are not entries


def test_stale_write_is_rejected(store: SqliteStateStore) -> None:
    e = ledger.save(
        store, ledger.on_report_obtained(ledger.new_entry(_unit()), "R1", "IN_QUEUE", T0, reused=False)
    )
    ledger.save(store, dataclasses.replace(e, polls=1))
    with pytest.raises(ConflictError):
        ledger.save(store, dataclasses.replace(e, polls=2))  # still holds version 1
    with pytest.raises(ConflictError):
        ledger.save(store, ledger.new_entry(_unit()))  # "must not exist"


def test_completion_is_idempotent_and_ignores_stale_report_ids(store: SqliteStateStore) -> None:
    e = ledger.on_report_obtained(ledger.new_entry(_unit()), "R2", "IN_PROGRESS", T0, reused=False)
    assert ledger.on_status(e, "OTHER", "DONE", "D", T0, cooldown=COOLDOWN) == e
    done = ledger.on_status(e, "R2", "DONE", "D", T0, cooldown=COOLDOWN)
    assert ledger.on_status(done, "R2", "DONE", "D", T0 + timedelta(minutes=5), cooldown=COOLDOWN) == done
    # a late FATAL notification cannot undo DONE
    assert ledger.on_status(done, "R2", "FATAL", None, T0, cooldown=COOLDOWN) == done


def test_fatal_records_reason_and_cools_down(store: SqliteStateStore) -> None:
    e = ledger.on_report_obtained(ledger.new_entry(_unit()), "R3", "IN_QUEUE", T0, reused=False)
    f = ledger.on_status(e, "R3", "FATAL", None, T0, cooldown=COOLDOWN)
    assert f.status == "FATAL" and f.reason and f.cooldown_until == T0 + COOLDOWN
    assert f.cooling_down(T0 + timedelta(minutes=29))
    assert not f.cooling_down(T0 + timedelta(minutes=31))
    c = ledger.on_status(e, "R3", "CANCELLED", None, T0, cooldown=COOLDOWN)
    assert c.status == "CANCELLED" and "no data" in (c.reason or "")


def test_poll_backoff_is_exponential_and_capped() -> None:
    e = ledger.on_report_obtained(ledger.new_entry(_unit()), "R4", "IN_QUEUE", T0, reused=False)
    delays = []
    for _ in range(8):
        e = ledger.on_poll(e, T0, 15.0, 300.0)
        assert e.next_check_at is not None
        delays.append((e.next_check_at - T0).total_seconds())
    assert delays[:5] == [15, 30, 60, 120, 240]
    assert max(delays) == 300


def _report(
    rid: str, status: str, created: datetime, start: str | None, end: str | None, **kw: object
) -> dict:
    r = {
        "reportId": rid,
        "reportType": "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
        "processingStatus": status,
        "createdTime": created.isoformat(),
        "marketplaceIds": [US],
    }
    if start:
        r["dataStartTime"] = start
        r["dataEndTime"] = end
    r.update(kw)
    return r


def test_reuse_rules() -> None:
    u = _unit()
    start, end = ledger.request_window(u, True)
    assert (start, end) == ("2026-11-20T00:00:00Z", "2026-11-20T23:59:59Z")
    six = timedelta(hours=6)
    inflight = _report("A", "IN_PROGRESS", T0 - timedelta(hours=3), start, end)
    old_done = _report("B", "DONE", T0 - timedelta(hours=7), start, end)
    other_window = _report("C", "DONE", T0, "2026-11-21T00:00:00Z", "2026-11-21T23:59:59Z")
    other_market = _report("D", "DONE", T0, start, end, marketplaceIds=["A2EUQ1WTGCTBG2"])
    fatal = _report("E", "FATAL", T0, start, end)

    def pick(reps, **kw):  # type: ignore[no-untyped-def]
        return ledger.choose_reusable(reps, u, T0, end_inclusive=True, reuse_done_within=six, **kw)

    assert pick([old_done, other_window, other_market, fatal]) is None
    assert pick([inflight, old_done])["reportId"] == "A"
    recent = _report(
        "F", "DONE", T0 - timedelta(hours=1), "2026-11-20T00:00:00+00:00", "2026-11-20T23:59:59+00:00"
    )
    assert pick([inflight, recent])["reportId"] == "F"  # DONE beats in flight; offsets normalised
    assert pick([inflight, recent], exclude=frozenset({"F"}))["reportId"] == "A"


def test_fresh_entries_are_not_rerequested_within_the_reuse_window() -> None:
    e = ledger.on_report_obtained(ledger.new_entry(_unit()), "R5", "IN_QUEUE", T0, reused=False)
    e = ledger.on_ingested(
        ledger.on_status(e, "R5", "DONE", "D", T0, cooldown=COOLDOWN), T0, rows=1, quarantined=0, raw_key=None
    )
    assert e.fresh(T0 + timedelta(hours=5), timedelta(hours=6))
    assert not e.fresh(T0 + timedelta(hours=7), timedelta(hours=6))


def test_cursor_advances_contiguously_with_conditional_writes(store: SqliteStateStore) -> None:
    d = lambda n: datetime(2026, 11, n, tzinfo=UTC)  # noqa: E731
    stream = "GET_X#US"
    assert cursors.advance(store, "acme", stream, d(1), Window(d(5), d(9))) is None
    assert cursors.advance(store, "acme", stream, d(1), Window(d(1), d(5))) == d(5)
    assert cursors.advance(store, "acme", stream, d(1), Window(d(5), d(9))) == d(9)
    assert cursors.advance(store, "acme", stream, d(1), Window(d(2), d(4))) == d(9)
    assert cursors.get_cursor(store, "acme", stream) == d(9)
    assert cursors.load_cursors(store, ["acme"]) == {("acme", stream): d(9)}


_EVENTS = st.lists(
    st.tuples(
        st.sampled_from(["R1", "R2"]),
        st.sampled_from(["IN_QUEUE", "IN_PROGRESS", "DONE", "FATAL", "CANCELLED"]),
        st.integers(min_value=0, max_value=3600),
    ),
    max_size=12,
)


@given(events=_EVENTS)
def test_completion_transition_properties(events) -> None:  # type: ignore[no-untyped-def]
    """Any sequence of (possibly stale, duplicated, reordered) completion events: a terminal status is never
    left, events for another report never apply, and re-applying the last event changes nothing."""
    e = ledger.on_report_obtained(ledger.new_entry(_unit()), "R1", "IN_QUEUE", T0, reused=False)
    terminal_seen: str | None = None
    for rid, status, secs in events:
        nxt = ledger.on_status(e, rid, status, "D", T0 + timedelta(seconds=secs), cooldown=COOLDOWN)
        if rid != "R1":
            assert nxt == e
        if terminal_seen:
            assert nxt.status == terminal_seen
        if nxt.status in ("DONE", "FATAL", "CANCELLED"):
            terminal_seen = terminal_seen or nxt.status
        assert ledger.on_status(nxt, rid, status, "D", T0 + timedelta(seconds=secs), cooldown=COOLDOWN) == nxt
        e = nxt
