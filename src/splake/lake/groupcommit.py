"""Grouped commits: the documents of one table that are ready at the same time go into ONE Iceberg commit,
whichever task, process or Lambda staged them.

A lander stages its document first (Parquet written, nothing committed: :meth:`CuratedLake.stage`), outside
any table lock, then calls :meth:`GroupCommitter.commit`:

1. it writes a durable **pending** record (StateStore namespace ``"commits"``, pk = table, sk = time#id)
   holding the staged write, its owner and an expiry;
2. it waits to become the committer: it takes the table lock (a short lease), re-reads its record — if a
   committer already committed it, it takes the result and goes; otherwise it **claims** (conditional
   update) every live record of the table, oldest first (up to ``max_group``), calls
   ``lake.commit_staged`` once for all of them, marks each record **committed** with its WriteResult and
   releases the lock;
3. the owner reads its result and deletes its record (then the caller marks its ledger entry).

Crash safety (SIGKILL anywhere, then a rerun: same lake, no duplicate, nothing lost, no older data over
newer):

- every transition is a conditional put on the record's version, so a record is claimed by at most one
  committer at a time or abandoned by its owner, never both;
- a **pending** record has never been handed to ``commit_staged``; when it expires (its owner died, or
  gave up waiting) it is discarded — its files are deleted — never committed;
- a **claimed** record may already be in the table (the committer may have died after the Iceberg commit):
  it is never discarded; the next holder of the table lock claims it again (a claim lives only as long as
  its committer's lease) and re-commits it with the newer records after it, in record order.
  ``commit_staged`` is idempotent by staged id, so a group that was committed already is a no-op;
- an owner that waits longer than ``wait_seconds`` abandons its pending record (conditionally) and raises
  :class:`RetryableError`; its step is retried and stages the document again.

The records and the decisions over them (:func:`~splake.lake.commitrecords.plan_round`,
:func:`~splake.lake.commitrecords.should_linger`, :func:`~splake.lake.commitrecords.owner_action`) are
pure, in :mod:`splake.lake.commitrecords`; :class:`GroupCommitter` does the I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar

from splake.errors import BadDataError, ConflictError, FatalError, RetryableError
from splake.lake.commitrecords import (
    CLAIMED,
    COMMITTED,
    DISCARDED,
    FAILED,
    LINGER_STEP_SECONDS,
    NAMESPACE,
    PENDING,
    CommitLock,
    CommitTiming,
    StagedCommits,
    error_from_json,
    error_to_json,
    iso,
    owner_action,
    pack_staged,
    plan_round,
    record_sk,
    result_from_json,
    result_to_json,
    should_linger,
    unpack_staged,
)
from splake.lake.staged import StagedWrite
from splake.lake.tables import WriteResult
from splake.logs import get_logger, log_event
from splake.ports import Item, StateStore

log = get_logger(__name__)
T = TypeVar("T")


def _in_parallel(calls: Sequence[Callable[[], T]], threads: int) -> list[T]:
    """Run ``calls`` (state-store writes: network round trips on DynamoDB), results in call order."""
    if len(calls) <= 1:
        return [c() for c in calls]
    with ThreadPoolExecutor(max_workers=min(threads, len(calls))) as pool:
        return list(pool.map(lambda c: c(), calls))


def _body(rec: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rec.items() if not k.startswith("_")}


# --- I/O --------------------------------------------------------------------------------------------


async def try_acquire(lock: CommitLock, seconds: float) -> bool:
    """Take ``lock`` within ``seconds``; False when it stayed held (a lease's own timeout counts too)."""
    try:
        await asyncio.wait_for(lock.acquire(), seconds)
    except (TimeoutError, RetryableError):
        return False
    return True


class GroupCommitter:
    """Commits staged writes, grouped per table (see the module docstring). One per context; safe to share
    between the tasks of a process. ``lock(table)`` gives the table's commit lock; ``clock`` the time that
    record expiries are written and judged in (wall clock: records are shared between processes)."""

    def __init__(
        self,
        state: StateStore,
        lake: StagedCommits,
        lock: Callable[[str], CommitLock],
        clock: Callable[[], datetime],
        timing: CommitTiming | None = None,
    ) -> None:
        self._state = state
        self._lake = lake
        self._lock = lock
        self._clock = clock
        self.timing = timing or CommitTiming()
        self.me = uuid.uuid4().hex  # this committer's id (claims name it)
        self.state_threads = 16  # claims and results of a group are written this many at a time
        self._landing: Counter[str] = Counter()  # documents per table this process is landing
        self._queued: Callable[[str], int] = lambda table: 0  # see :meth:`expect`
        self._queued_anywhere: Callable[[], int] = lambda: 0

    @contextlib.contextmanager
    def landing(self, table: str) -> Iterator[None]:
        """Around a document's download-to-staging in this process: a committer of ``table`` lingers for
        it (see :attr:`CommitTiming.linger_seconds`)."""
        self._landing[table] += 1
        try:
            yield
        finally:
            self._landing[table] -= 1

    def expect(self, queued: Callable[[str], int], queued_anywhere: Callable[[], int]) -> None:
        """``queued(table)``: documents of ``table`` this process will land after those landing now (the
        sync's landing gate), ``queued_anywhere()``: of any table; a committer of the table lingers for
        them too (see :func:`should_linger`)."""
        self._queued = queued
        self._queued_anywhere = queued_anywhere

    # --- the owner's side -----------------------------------------------------------------------

    async def commit(self, staged: StagedWrite) -> WriteResult:
        """Commit ``staged`` (grouped with whatever else of its table is ready) and return its result.
        Raises :class:`RetryableError` when it could not be committed in time (its files are deleted
        unless a committer took it, in which case that committer's successor commits it), or the
        :class:`BadDataError`/:class:`FatalError` the lake refused it with (nothing of it landed)."""
        table = staged.table
        created = self._clock()
        sk = record_sk(created, staged.id)
        t = self.timing
        self._state.put(
            NAMESPACE,
            table,
            sk,
            {
                "state": PENDING,
                **pack_staged(staged),
                "report_id": staged.report_id,
                "owner": self.me,
                "created_at": iso(created),
                "expires_at": iso(t.expires_at(created)),
            },
            expect_version=0,
        )
        deadline = created + timedelta(seconds=t.wait_seconds)
        give_up_at = deadline + timedelta(seconds=t.grace_seconds)
        where = f"commit of {table} (report {staged.report_id})"
        while True:
            rec = self._state.get(NAMESPACE, table, sk)
            action = owner_action(rec, self._clock(), deadline, give_up_at)
            if action == "done":
                assert rec is not None
                result = result_from_json(rec["result"])
                if result.data_files == 0 and not result.already_committed:
                    # nothing of it was added (every row superseded, or an empty document that replaced
                    # nothing): its files are nobody's
                    await asyncio.to_thread(self._lake.discard, staged)
                self._state.delete(NAMESPACE, table, sk)
                return result
            if action == "failed":
                assert rec is not None
                await asyncio.to_thread(self._lake.discard, staged)
                self._state.delete(NAMESPACE, table, sk)
                raise error_from_json(rec.get("error") or {})
            if action == "lost":
                raise RetryableError(
                    f"the staged write of report {staged.report_id} expired before it was committed",
                    where=where,
                    hint="nothing of it landed; the step is retried (the document is staged again)",
                )
            if action == "abandon":
                assert rec is not None
                try:
                    self._state.put(
                        NAMESPACE,
                        table,
                        sk,
                        {**_body(rec), "state": DISCARDED, "finished_at": iso(self._clock())},
                        expect_version=int(rec["_version"]),
                    )
                except ConflictError:
                    continue  # a committer claimed it meanwhile: wait for that commit
                await asyncio.to_thread(self._lake.discard, staged)
                self._state.delete(NAMESPACE, table, sk)
                log_event(
                    log, "group_commit_abandoned", logging.WARNING, table=table, report_id=staged.report_id
                )
                raise RetryableError(
                    f"no commit of table {table} within {t.wait_seconds:.0f}s",
                    where=where,
                    hint="nothing of this document landed; the step is retried later",
                )
            if action == "give_up":
                raise RetryableError(
                    f"the commit of table {table} that took this document did not finish in time",
                    where=where,
                    hint="the next commit of the table completes it; the step is retried later",
                )
            lock = self._lock(table)
            tried = time.monotonic()
            if not await try_acquire(lock, t.poll_seconds):
                left = t.poll_seconds - (time.monotonic() - tried)  # a lease tried once fails at once
                if left > 0:
                    await asyncio.sleep(left * (0.5 + random.random()))
                continue
            try:
                rec = self._state.get(NAMESPACE, table, sk)
                if rec is not None and rec.get("state") in (PENDING, CLAIMED):
                    lingered, queue_seen = time.monotonic(), False
                    while True:  # a bounded poll of two counters (see should_linger)
                        queued = self._queued(table)
                        queue_seen = queue_seen or queued > 0
                        waited = time.monotonic() - lingered
                        if not should_linger(
                            self._landing[table],
                            queued,
                            waited,
                            t,
                            queue_seen=queue_seen,
                            queued_anywhere=self._queued_anywhere(),
                        ):
                            break
                        await asyncio.sleep(LINGER_STEP_SECONDS)
                    await asyncio.to_thread(self.commit_round, table)
                retry = False
            except RetryableError as exc:  # e.g. commit conflicts: the records stay claimed; try again
                log_event(log, "group_commit_retry", logging.WARNING, table=table, error=exc.message[:200])
                retry = True
            finally:
                lock.release()
            if retry:
                await asyncio.sleep(t.poll_seconds)

    # --- the committer's side (holds the table lock) ----------------------------------------------

    async def recover(self, tables: Sequence[str] | None = None) -> int:
        """Finish what killed processes left: one round per table that has records (claims of a dead
        committer are committed again — a no-op where they landed —, expired pending records discarded,
        live ones committed, uncollected results forgotten). ``tables``: look only there (one query each;
        default: scan the namespace). A table whose lock is busy is skipped (its committer does this).
        The local sync calls it as the lake's only writer, before the crash-leftover sweep (which would
        otherwise delete the staged files those records refer to); AWS maintenance daily per table."""
        if tables is None:
            names = sorted({str(r["_pk"]) for r in self._state.scan(NAMESPACE)})
        else:
            names = [t for t in tables if self._state.query(NAMESPACE, t)]
        committed = 0
        for table in names:
            lock = self._lock(table)
            if not await try_acquire(lock, self.timing.poll_seconds):
                continue
            try:
                committed += await asyncio.to_thread(self.commit_round, table)
            except Exception as exc:  # e.g. a damaged table: its records wait, the other tables go on
                log_event(
                    log, "group_commit_recovery_failed", logging.WARNING, table=table, error=str(exc)[:300]
                )
            finally:
                lock.release()
        if names:
            log_event(log, "group_commit_recovered", tables=len(names), documents=committed)
        return committed

    def commit_round(self, table: str) -> int:
        """One round under the table lock: discard expired pending records, claim the live ones, commit
        them in one transaction, record the results. Returns the documents committed."""
        now = self._clock()
        plan = plan_round(self._state.query(NAMESPACE, table), now, self.timing)
        for rec in plan.discard:
            self._discard(table, rec, now)
        for rec in plan.forget:
            self._state.delete(NAMESPACE, table, str(rec["_sk"]))
        started = time.monotonic()
        claims = _in_parallel(
            [functools.partial(self._claim, table, rec, now) for rec in plan.claim], self.state_threads
        )
        claimed = [c for c in claims if c is not None]
        if not claimed:
            return 0
        staged = [unpack_staged(r) for r in claimed]
        claim_s = time.monotonic() - started
        # A transient error (conflict, I/O) propagates: the records stay claimed and the next holder of
        # the lock commits them. A refusal (bad data) is pinned on the document(s) that cause it.
        try:
            results: list[WriteResult | BaseException] = list(self._lake.commit_staged(table, staged))
        except (BadDataError, FatalError) as exc:
            results = [exc] if len(staged) == 1 else self._one_by_one(table, staged)
        commit_s = time.monotonic() - started - claim_s
        _in_parallel(
            [
                functools.partial(self._finish, table, rec, res)
                for rec, res in zip(claimed, results, strict=True)
            ],
            self.state_threads,
        )
        committed = sum(not isinstance(res, BaseException) for res in results)
        log_event(
            log,
            "lake_group_commit",
            table=table,
            documents=len(claimed),
            committed=committed,
            rows=sum(r.rows_written for r in results if isinstance(r, WriteResult)),
            claim_seconds=round(claim_s, 3),
            commit_seconds=round(commit_s, 3),
            seconds=round(time.monotonic() - started, 3),
        )
        return committed

    def _claim(self, table: str, rec: Item, now: datetime) -> Item | None:
        body = {**_body(rec), "state": CLAIMED, "claimer": self.me, "claimed_at": iso(now)}
        try:
            return self._state.put(
                NAMESPACE, table, str(rec["_sk"]), body, expect_version=int(rec["_version"])
            )
        except ConflictError:
            return None  # its owner abandoned it, or another process's committer took it first

    def _one_by_one(self, table: str, staged: Sequence[StagedWrite]) -> list[WriteResult | BaseException]:
        out: list[WriteResult | BaseException] = []
        for s in staged:
            try:
                out.extend(self._lake.commit_staged(table, [s]))
            except (BadDataError, FatalError) as exc:
                out.append(exc)
        return out

    def _finish(self, table: str, rec: Item, res: WriteResult | BaseException) -> None:
        now = iso(self._clock())
        body = _body(rec)
        if isinstance(res, BaseException):  # keeps the staged write: its files are deleted with it
            body.update(state=FAILED, error=error_to_json(res), finished_at=now)
        else:  # the files belong to the table now; the owner holds its staged write itself
            body = {k: v for k, v in body.items() if k not in ("staged", "staged_z")}
            body.update(state=COMMITTED, result=result_to_json(res), finished_at=now)
        try:
            self._state.put(NAMESPACE, table, str(rec["_sk"]), body, expect_version=int(rec["_version"]))
        except ConflictError:
            # another committer (this one had lost its lease) took the record over: it records the result
            log_event(log, "group_commit_record_taken", logging.WARNING, table=table, sk=rec["_sk"])

    def _discard(self, table: str, rec: Item, now: datetime) -> None:
        sk = str(rec["_sk"])
        if rec.get("state") == PENDING:
            try:
                self._state.put(
                    NAMESPACE,
                    table,
                    sk,
                    {**_body(rec), "state": DISCARDED, "finished_at": iso(now)},
                    expect_version=int(rec["_version"]),
                )
            except ConflictError:
                return  # claimed or abandoned meanwhile: not ours to discard
        self._lake.discard(unpack_staged(rec))
        self._state.delete(NAMESPACE, table, sk)
        log_event(
            log,
            "group_commit_discarded",
            logging.WARNING,
            table=table,
            report_id=rec.get("report_id"),
        )


def unfinished(state: StateStore) -> list[Item]:
    """Records whose staged files no commit has taken over yet (pending, claimed or failed): while any
    exists, a sweep of unreferenced files must not run (it would delete those files)."""
    return [r for r in state.scan(NAMESPACE) if r.get("state") in (PENDING, CLAIMED, FAILED, DISCARDED)]


def forget_table(state: StateStore, table: str) -> int:
    """Delete every record of ``table`` (``splake lake rebuild`` re-creates the table from the raw zone,
    with the staged files of those records gone; only while no lander runs). Returns the records."""
    recs = state.query(NAMESPACE, table)
    for rec in recs:
        state.delete(NAMESPACE, table, str(rec["_sk"]))
    return len(recs)
