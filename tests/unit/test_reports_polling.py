"""The poll schedule (reports/polling.py): pure decisions with the clock passed in."""

from __future__ import annotations

import heapq
from datetime import UTC, datetime, timedelta

from splake.reports import ledger
from splake.reports.planner import Window, WorkUnit
from splake.reports.polling import PollParams, ProcessingTimes, Waiting, next_poll, processing_seconds

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
P = PollParams(initial=0.2, maximum=2.0, rate=1.8)


def s(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_without_expectation_only_the_oldest_report_follows_its_backoff() -> None:
    old = Waiting("a", s(0), next_check_at=s(0.4))
    young = Waiting("b", s(0.1), next_check_at=s(0.5))
    members = [old, young]
    assert next_poll(old, members, s(0.2), P) == s(0.4)
    # the others wait for a completion to teach an expectation; meanwhile own backoff, >= 4*n/rate apart
    assert next_poll(young, members, s(0.2), P) == s(0.1 + 4.0 * 2 / 1.8)
    many = [Waiting(str(i), s(i / 100), next_check_at=s(0)) for i in range(15)]
    assert next_poll(many[3], many, s(1), P) == s(0.03 + 4.0 * 15 / 1.8)


def test_a_slow_leader_does_not_hold_the_others_for_poll_max() -> None:
    """Real defaults (poll 15 s .. 300 s, 2 r/s): a seller's first sync, its oldest report a long backfill.
    A report behind it follows its own backoff (next check 60 s) -- not poll_max (300 s) -- and the waiting
    reports between them poll at most a quarter of the budget."""
    real = PollParams(initial=15.0, maximum=300.0, rate=2.0)
    leader = Waiting("backfill", s(0), next_check_at=s(120))
    quick = Waiting("listings", s(1), next_check_at=s(61), last_poll=s(31))
    assert next_poll(quick, [leader, quick], s(40), real) == s(61)
    crowd = [Waiting(str(i), s(0), next_check_at=s(15)) for i in range(40)]
    assert next_poll(crowd[5], crowd, s(1), real) == s(4.0 * 40 / 2.0), "40 waiting: 80 s apart, not 15"


def test_with_expectation_first_poll_at_expected_completion() -> None:
    me = Waiting("a", s(0), next_check_at=s(0.2), expected=30.0)
    assert next_poll(me, [me], s(1), P) == s(30), "not before it can be done, whatever the ledger backoff"
    assert next_poll(me, [me], s(40), P) == s(30), "due in the past = poll now"
    polled_early = Waiting("a", s(0), next_check_at=s(3), expected=30.0, last_poll=s(2))
    assert next_poll(polled_early, [polled_early], s(2), P) == s(30)


def test_overdue_reports_back_off_with_how_late_they_are_within_bounds_and_budget() -> None:
    just = Waiting("a", s(0), None, expected=30.0, last_poll=s(30))
    assert next_poll(just, [just], s(30), P) == s(30.2), "polled at its due, a hair early: one step later"
    due_together = [Waiting(str(i), s(0), None, expected=30.0, last_poll=s(30.1)) for i in range(15)]
    assert next_poll(due_together[0], due_together, s(30.1), P) == s(30.3), "not yet sharing the budget"
    late = Waiting("a", s(0), None, expected=30.0, last_poll=s(31))
    assert next_poll(late, [late], s(31), P) == s(32)
    very_late = Waiting("a", s(0), None, expected=30.0, last_poll=s(100))
    assert next_poll(very_late, [very_late], s(100), P) == s(102), "never rarer than poll_max"
    crowd = [Waiting(str(i), s(0), None, expected=30.0, last_poll=s(30.5)) for i in range(15)]
    assert next_poll(crowd[0], crowd, s(30.5), P) == s(30.5 + 15 / 1.8), "15 overdue reports share 1.8 r/s"


def test_processing_times_learn_per_type_and_fall_back_to_any_type() -> None:
    t = ProcessingTimes()
    assert t.expected("ORDERS") is None
    assert t.record("ORDERS", 30.0) is True, "the first time is news"
    assert t.expected("ORDERS") == 30.0
    assert t.expected("LISTINGS") == 30.0, "a type never seen borrows the others' times"
    assert t.record("ORDERS", 31.0) is False, "30 -> 30.5: not a significant change"
    assert t.record("LISTINGS", 120.0) is True
    assert t.expected("LISTINGS") == 120.0 and t.expected("ORDERS") == 30.5
    assert t.record("ORDERS", 90.0) is True, "ORDERS barely moves (30.5 -> 31), the any-type median does"
    assert t.expected("ORDERS") == 31.0


def _entry(**kw: object) -> ledger.LedgerEntry:
    unit = WorkUnit("acme", "GET_X", ("M",), Window(s(-3600), s(0)))
    return ledger.LedgerEntry(account_id="acme", key=unit.key, unit=unit, **kw)  # type: ignore[arg-type]


def test_processing_seconds_prefers_amazons_timestamps() -> None:
    amazon = _entry(created_time=s(1), processed_at=s(31), requested_at=s(0), completed_at=s(40))
    assert processing_seconds(amazon) == 30.0
    ours = _entry(requested_at=s(0), completed_at=s(40))
    assert processing_seconds(ours) == 40.0
    assert processing_seconds(_entry()) is None


def test_a_seller_with_15_reports_is_polled_within_its_budget_and_noticed_soon() -> None:
    """Simulation: 15 reports requested 0.05 s apart, each done 30 s after its request (as the sandbox).
    The schedule must never ask for more than the bucket holds (burst 15 + 2/s) and notice every report
    within the leader's backoff cap of finishing; the ledger's backoff is the real on_poll."""
    done_at = {str(i): s(i * 0.05 + 30.0) for i in range(15)}
    members = {k: Waiting(k, s(int(k) * 0.05), next_check_at=s(int(k) * 0.05)) for k in done_at}
    entries = {k: _entry(requested_at=s(int(k) * 0.05)) for k in done_at}
    times = ProcessingTimes()
    polls: list[float] = []
    per_report: dict[str, int] = {}
    noticed: dict[str, float] = {}
    now = T0
    while members:
        expected = times.expected("GET_X")
        view = [
            Waiting(m.key, m.requested_at, m.next_check_at, expected, m.last_poll) for m in members.values()
        ]
        due = [(next_poll(m, view, now, P), m.key) for m in view]
        heapq.heapify(due)
        at, key = due[0]
        now = max(now, at)
        polls.append((now - T0).total_seconds())
        per_report[key] = per_report.get(key, 0) + 1
        if done_at[key] <= now:
            noticed[key] = (now - done_at[key]).total_seconds()
            times.record("GET_X", (done_at[key] - members[key].requested_at).total_seconds())
            del members[key]
        else:
            entries[key] = ledger.on_poll(entries[key], now, P.initial, P.maximum)
            members[key] = Waiting(key, members[key].requested_at, entries[key].next_check_at, None, now)
        now += timedelta(milliseconds=1)  # one request at a time
    for start in polls:
        window = [p for p in polls if start <= p < start + 5.0]
        assert len(window) <= 15 + 2 * 5.0, f"{len(window)} polls in 5 s from {start:.1f} s"
    assert len(polls) <= 15 + 20, f"{len(polls)} polls for 15 reports"
    assert max(noticed.values()) <= P.maximum + 0.1
    # once the oldest was seen done, the others were expected: each polled once, none before it was done
    assert [per_report[str(i)] for i in range(1, 15)] == [1] * 14


def test_processing_times_are_remembered_between_runs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from splake.reports.polling import load_times, save_times
    from splake.state.sqlite import SqliteStateStore

    state = SqliteStateStore(tmp_path / "state.db")
    assert load_times(state).expected("ORDERS") is None
    first = ProcessingTimes()
    first.record("ORDERS", 60.0)
    first.record("ORDERS", 70.0)
    save_times(state, first, first.learned, T0)
    again = load_times(state)
    assert again.expected("ORDERS") == 65.0
    assert again.expected("LISTINGS") == 65.0, "a type never seen borrows what was learned"
    assert again.learned == set(), "nothing new to save from a run that learned nothing"


def test_a_jittered_backoff_takes_between_half_and_all_of_the_step() -> None:
    e = _entry(requested_at=T0, polls=5)  # the step is capped: 2 s
    for jitter, want in ((0.0, 1.0), (0.5, 1.5), (1.0, 2.0)):
        nxt = ledger.on_poll(e, T0, P.initial, P.maximum, jitter).next_check_at
        assert nxt is not None and (nxt - T0).total_seconds() == want


def test_leaders_requested_together_do_not_poll_in_lockstep() -> None:
    """20 sellers' first reports, requested together, all done at 30 s, each polled on its own backoff: in
    lockstep the first completion is seen only at the next common step; jittered, one of the 20 polls
    soon after it."""
    import random

    def first_seen(jitter: list[float]) -> float:
        best = float("inf")
        for seller in range(20):
            e, t, i = _entry(requested_at=T0), T0, 0
            while t < s(30.0):
                e = ledger.on_poll(e, t, P.initial, P.maximum, jitter[(seller * 97 + i) % len(jitter)])
                assert e.next_check_at is not None
                t, i = e.next_check_at, i + 1
            best = min(best, (t - s(30.0)).total_seconds())
        return best

    rnd = random.Random(3)
    lockstep, jittered = first_seen([1.0]), first_seen([rnd.random() for _ in range(997)])
    assert lockstep >= 0.5
    assert jittered < lockstep / 3
