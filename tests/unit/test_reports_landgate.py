"""Landing order (reports/landgate.py): documents of a table already landing go first."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence

from splake.reports.landgate import LandingGate, Waiter, pick_table


def pick(waiting: Sequence[Waiter], landing: Mapping[str, int], now: float, max_wait: float) -> int:
    """Index in ``waiting`` of the document the gate admits next: of the table :func:`pick_table`
    chooses, the document that arrived first."""
    heads: dict[str, Waiter] = {}
    for w in waiting:
        if w.table not in heads or w.seq < heads[w.table].seq:
            heads[w.table] = w
    table = pick_table(heads, Counter(w.table for w in waiting), landing, now, max_wait)
    return waiting.index(heads[table])


def test_pick_prefers_tables_landing_then_the_most_waiting_then_arrival() -> None:
    waiting = [Waiter(1, "orders", 0.0), Waiter(2, "listings", 0.0), Waiter(3, "listings", 0.0)]
    assert pick(waiting, {"orders": 3}, 1.0, 60.0) == 0, "orders is landing: its document goes first"
    assert pick(waiting, {}, 1.0, 60.0) == 1, "nothing landing: the table with most waiting, oldest first"
    assert pick([Waiter(5, "a", 0.0), Waiter(4, "b", 0.0)], {}, 1.0, 60.0) == 1, "a tie: arrival order"


def test_pick_never_lets_a_document_wait_longer_than_max_wait() -> None:
    waiting = [Waiter(1, "fees", 0.0), Waiter(2, "orders", 50.0), Waiter(3, "orders", 50.0)]
    assert pick(waiting, {"orders": 5}, 59.0, 60.0) == 1
    assert pick(waiting, {"orders": 5}, 60.0, 60.0) == 0, "waited 60 s: goes first whatever its table"


def test_gate_admits_at_most_size_and_clusters_tables() -> None:
    order: list[str] = []
    running = [0]
    peak = [0]

    async def land(gate: LandingGate, table: str, release: asyncio.Event) -> None:
        async with gate.slot(table):
            order.append(table)
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            await release.wait()
            running[0] -= 1

    async def go() -> None:
        gate = LandingGate(2)
        release = asyncio.Event()
        tables = ["a", "b", "c", "a", "b", "b", "a", "c", "b"]
        tasks = [asyncio.create_task(land(gate, t, release)) for t in tables]
        await asyncio.sleep(0.01)
        assert order == ["a", "b"] and peak[0] == 2
        release.set()
        await asyncio.gather(*tasks)

    asyncio.run(go())
    # arrival order a b c a b b a c b; admitted after the first two: each table in one run (b was still
    # landing when a's slot freed, so b's follow; then c and a tie on 2 waiting: c arrived first)
    assert order == ["a", "b", "b", "b", "b", "c", "c", "a", "a"]
    assert peak[0] == 2


def test_gate_hands_on_the_slot_of_a_cancelled_waiter() -> None:
    async def go() -> list[str]:
        gate = LandingGate(1)
        got: list[str] = []
        hold = asyncio.Event()

        async def land(table: str) -> None:
            async with gate.slot(table):
                got.append(table)
                await hold.wait()

        first = asyncio.create_task(land("a"))
        await asyncio.sleep(0)
        doomed = asyncio.create_task(land("b"))
        last = asyncio.create_task(land("c"))
        await asyncio.sleep(0.01)
        doomed.cancel()
        hold.set()
        await asyncio.gather(first, last)
        return got

    assert asyncio.run(go()) == ["a", "c"]


def test_a_slot_given_back_early_admits_the_next_document_once() -> None:
    """A staged document waiting for its grouped commit hands its slot on (the next one downloads and
    stages meanwhile); leaving the block afterwards does not hand it on a second time."""
    admitted: list[str] = []

    async def land(gate: LandingGate, name: str, staged: asyncio.Event, committed: asyncio.Event) -> None:
        async with gate.slot("orders") as release:
            admitted.append(name)
            await staged.wait()
            release()
            release()  # idempotent
            await committed.wait()

    async def go() -> None:
        gate = LandingGate(1)
        staged = [asyncio.Event() for _ in range(3)]
        committed = asyncio.Event()
        tasks = [asyncio.create_task(land(gate, f"d{i}", staged[i], committed)) for i in range(3)]
        await asyncio.sleep(0.01)
        assert admitted == ["d0"]
        staged[0].set()  # d0 staged: d1 is admitted while d0 still waits for its commit
        await asyncio.sleep(0.01)
        assert admitted == ["d0", "d1"]
        assert sum(gate._landing.values()) == 1  # only d1 holds a slot
        committed.set()  # d0 leaves its block: no second hand-on, d2 still waits for d1
        await asyncio.sleep(0.01)
        assert admitted == ["d0", "d1"]
        staged[1].set()
        await asyncio.sleep(0.01)
        assert admitted == ["d0", "d1", "d2"]
        staged[2].set()
        await asyncio.gather(*tasks)
        assert sum(gate._landing.values()) == 0

    asyncio.run(go())


def test_pick_table_agrees_with_ranking_every_waiting_document() -> None:
    """The per-table choice admits exactly the document a ranking of every waiting document would
    (landing tables first, then the most waiting, then arrival; or whoever waited max_wait)."""
    import random
    from collections import Counter

    rnd = random.Random(7)
    for _ in range(500):
        waiting = [
            Waiter(seq, rnd.choice("abcde"), rnd.uniform(0.0, 100.0))
            for seq in rnd.sample(range(1000), rnd.randint(1, 30))
        ]
        landing = {t: rnd.randint(0, 3) for t in "abcde" if rnd.random() < 0.5}
        now = rnd.uniform(50.0, 200.0)
        counts = Counter(w.table for w in waiting)
        oldest = min(waiting, key=lambda w: w.seq)
        if now - oldest.since >= 60.0:
            want = oldest
        else:
            want = min(waiting, key=lambda w: (-landing.get(w.table, 0), -counts[w.table], w.seq))
        assert waiting[pick(waiting, landing, now, 60.0)] is want


def test_the_gate_counts_the_documents_queued_per_table() -> None:
    gate = LandingGate(1)

    async def scenario() -> list[int]:
        async with gate.slot("a"):
            waiters = [asyncio.create_task(_hold(gate, t)) for t in ("b", "b", "c")]
            await asyncio.sleep(0)
            seen = [gate.queued("a"), gate.queued("b"), gate.queued("c")]
        await asyncio.gather(*waiters)
        return [*seen, gate.queued("b")]

    assert asyncio.run(scenario()) == [0, 2, 1, 0]


async def _hold(gate: LandingGate, table: str) -> None:
    async with gate.slot(table):
        await asyncio.sleep(0)
