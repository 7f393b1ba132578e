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

:func:`pick` is the pure choice; :class:`LandingGate` the thin async layer (one per sync, one event loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Waiter:
    seq: int  # arrival order
    table: str
    since: float  # monotonic seconds


def pick(waiting: Sequence[Waiter], landing: Mapping[str, int], now: float, max_wait: float) -> int:
    """Index in ``waiting`` of the document to admit next (``landing``: documents in flight per table)."""
    oldest = min(range(len(waiting)), key=lambda i: waiting[i].seq)
    if now - waiting[oldest].since >= max_wait:
        return oldest
    counts = Counter(w.table for w in waiting)

    def rank(i: int) -> tuple[int, int, int]:
        w = waiting[i]
        return (-landing.get(w.table, 0), -counts[w.table], w.seq)

    return min(range(len(waiting)), key=rank)


@dataclass
class LandingGate:
    """At most ``size`` documents landing at once, admitted by :func:`pick`."""

    size: int
    max_wait: float = 60.0
    clock: Callable[[], float] = time.monotonic
    _landing: Counter[str] = field(default_factory=Counter)
    _waiting: list[tuple[Waiter, asyncio.Future[None]]] = field(default_factory=list)
    _seq: int = 0

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
                self._landing[table] -= 1
                self._admit()

        try:
            yield release
        finally:
            release()

    async def _enter(self, table: str) -> None:
        if sum(self._landing.values()) < self.size and not self._waiting:
            self._landing[table] += 1
            return
        self._seq += 1
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (Waiter(self._seq, table, self.clock()), fut)
        self._waiting.append(entry)
        try:
            await fut
        except BaseException:
            if entry in self._waiting:
                self._waiting.remove(entry)
            elif fut.done() and not fut.cancelled():  # admitted, then cancelled: hand the slot on
                self._landing[table] -= 1
                self._admit()
            raise

    def _admit(self) -> None:
        while self._waiting and sum(self._landing.values()) < self.size:
            i = pick([w for w, _ in self._waiting], self._landing, self.clock(), self.max_wait)
            waiter, fut = self._waiting.pop(i)
            if fut.done():
                continue
            self._landing[waiter.table] += 1
            fut.set_result(None)
