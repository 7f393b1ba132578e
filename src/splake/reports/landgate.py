"""Which finished report lands next: documents of the same table together.

A sync notices hundreds of reports done within seconds of each other; they land a few at a time (downloads
and staging are bounded, see ``sync.DOCUMENTS_IN_FLIGHT``). Commits are grouped per table
(:mod:`splake.lake.groupcommit`): the committer of a table waits for the documents of that table still
landing and commits them in one Iceberg commit, whose cost hardly depends on how many documents it carries.
Admitted in the order they were noticed, the documents in flight belong to every table at once (a few of
each), so each commit carries a few documents. :class:`LandingGate` admits the documents of the tables
already landing first, then the table with the most documents waiting: the documents in flight share a
table or two, and their commits carry many documents each. A document never waits longer than
``max_wait`` seconds behind others (then it goes first, whatever its table).

:func:`pick_table` is the pure choice; :class:`LandingGate` the thin async layer (one per sync, one
event loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Waiter:
    seq: int  # arrival order
    table: str
    since: float  # monotonic seconds


def pick_table(
    heads: Mapping[str, Waiter],
    counts: Mapping[str, int],
    landing: Mapping[str, int],
    now: float,
    max_wait: float,
) -> str:
    """The table whose oldest waiting document is admitted next (pure). ``heads``: per table with
    documents waiting, its oldest; ``counts``: documents waiting per table; ``landing``: documents in
    flight per table."""
    oldest = min(heads.values(), key=lambda w: w.seq)
    if now - oldest.since >= max_wait:
        return oldest.table
    return min(heads, key=lambda t: (-landing.get(t, 0), -counts[t], heads[t].seq))


@dataclass
class LandingGate:
    """At most ``size`` documents landing at once, admitted by :func:`pick_table` (per table, in arrival
    order: choosing costs a look at each table, not at each waiting document)."""

    size: int
    max_wait: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _landing: Counter[str] = field(default_factory=Counter)
    _waiting: dict[str, deque[tuple[Waiter, asyncio.Future[None]]]] = field(default_factory=dict)
    _in_flight: int = 0
    _seq: int = 0

    def queued(self, table: str) -> int:
        """Documents of ``table`` waiting for a slot."""
        queue = self._waiting.get(table)
        return len(queue) if queue is not None else 0

    def queued_anywhere(self) -> int:
        """Documents of any table waiting for a slot."""
        return sum(len(q) for q in self._waiting.values())

    @contextlib.asynccontextmanager
    async def slot(self, table: str) -> AsyncIterator[Callable[[], None]]:
        """Hold a slot for a document of ``table``; the yielded callable gives it back early (e.g. once the
        document is staged and only waits for its grouped commit), else leaving the block does."""
        await self._enter(table)
        given_back = False

        def release() -> None:
            nonlocal given_back
            if not given_back:
                given_back = True
                self._leave(table)
                self._admit()

        try:
            yield release
        finally:
            release()

    def _land(self, table: str) -> None:
        self._landing[table] += 1
        self._in_flight += 1

    def _leave(self, table: str) -> None:
        self._landing[table] -= 1
        self._in_flight -= 1

    async def _enter(self, table: str) -> None:
        if self._in_flight < self.size and not self._waiting:
            self._land(table)
            return
        self._seq += 1
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (Waiter(self._seq, table, self.clock()), fut)
        self._waiting.setdefault(table, deque()).append(entry)
        try:
            await fut
        except BaseException:
            queue = self._waiting.get(table)
            if queue is not None and entry in queue:
                queue.remove(entry)
                if not queue:
                    del self._waiting[table]
            elif fut.done() and not fut.cancelled():  # admitted, then cancelled: hand the slot on
                self._leave(table)
                self._admit()
            raise

    def _admit(self) -> None:
        while self._waiting and self._in_flight < self.size:
            heads = {t: q[0][0] for t, q in self._waiting.items()}
            counts = {t: len(q) for t, q in self._waiting.items()}
            table = pick_table(heads, counts, self._landing, self.clock(), self.max_wait)
            queue = self._waiting[table]
            waiter, fut = queue.popleft()
            if not queue:
                del self._waiting[table]
            if fut.done():
                continue
            self._land(waiter.table)
            fut.set_result(None)
