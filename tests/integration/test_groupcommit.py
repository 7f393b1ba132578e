"""Grouped commits (splake.lake.groupcommit): one shared suite run against both backends of the coordinator —
SQLite StateStore + the in-process table lock (the local runner), and DynamoDB StateStore + the DynamoDB
lease (the AWS runner; on a moto server that serialises requests, as DynamoDB's conditional writes are
atomic per item). The lake is a real local Iceberg lake in both; the reference for "same lake" is the
same documents landed one by one with ``CuratedLake.write``, in the same order."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from splake.errors import RetryableError
from splake.lake.catalog import open_local_catalog
from splake.lake.commitrecords import NAMESPACE, CommitLock, CommitTiming
from splake.lake.groupcommit import GroupCommitter
from splake.lake.iceberg import CuratedLake
from splake.lake.query import QueryEngine
from splake.lake.staged import StagedWrite
from splake.lake.tables import Provenance, TableSpec, WriteResult
from splake.ports import StateStore
from splake.state.sqlite import SqliteStateStore

TABLE = "listings"
SPEC = TableSpec(
    TABLE,
    pa.schema([("sku", pa.string()), ("price", pa.int64())]),
    key_columns=("sku",),
    replace="snapshot",
)
INGESTED = datetime(2026, 3, 1, tzinfo=UTC)
FAST = CommitTiming(wait_seconds=20.0, grace_seconds=2.0, poll_seconds=0.1)


@dataclass
class Clock:
    """Wall clock with an offset the test moves forward (records expire by it)."""

    offset: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Backend:
    name: str
    state: StateStore
    lock: Callable[[str], CommitLock]
    clock: Clock = field(default_factory=Clock)

    def committer(self, lake: Any, timing: CommitTiming = FAST) -> GroupCommitter:
        return GroupCommitter(self.state, lake, self.lock, self.clock, timing)


@pytest.fixture(params=["local", "aws"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "local":
        store = SqliteStateStore(tmp_path / "state.db")
        locks: dict[str, asyncio.Lock] = {}

        def local_lock(table: str) -> CommitLock:
            return locks.setdefault(f"table:{table}", asyncio.Lock())

        yield Backend("local", store, local_lock)
        store.close()
        return
    from splake.runners.aws.dynamo_state import DynamoStateStore
    from splake.runners.aws.locks import DynamoLock
    from tests.support.aws_fixtures import create_state_table, unique

    moto = request.getfixturevalue("moto_serial_server")
    table = create_state_table(moto, unique("splake-commits"))
    ddb = moto.client("dynamodb")

    def lease(name: str) -> CommitLock:  # as AwsContext.commit_lock: a fresh lease object, tried once
        return DynamoLock(ddb, table, f"table:{name}", lease_seconds=30.0, timeout_seconds=0)

    yield Backend("aws", DynamoStateStore(table, client=ddb), lease)


@pytest.fixture
def lake(tmp_path: Path) -> CuratedLake:
    return CuratedLake(open_local_catalog(tmp_path / "lake"), "spapi")


@pytest.fixture
def reference(tmp_path: Path) -> CuratedLake:
    return CuratedLake(open_local_catalog(tmp_path / "reference"), "spapi")


@dataclass(frozen=True)
class Doc:
    account: str
    version: int
    skus: int = 5

    @property
    def report_id(self) -> str:
        return f"R-{self.account}-{self.version}"

    def rows(self) -> pa.Table:
        return pa.table(
            {
                "sku": [f"{self.account}-sku-{i}" for i in range(self.skus)],
                "price": [self.version * 100 + i for i in range(self.skus)],
            }
        )

    def prov(self) -> Provenance:
        return Provenance(
            account_id=self.account,
            report_id=self.report_id,
            source_key=f"raw/{self.report_id}",
            ingested_at=INGESTED,
            marketplace_id="M1",
            marketplace_ids=("M1",),
        )


def stage(lake: CuratedLake, doc: Doc) -> StagedWrite:
    return lake.stage(SPEC, doc.rows(), doc.prov())


def rows_of(lake: CuratedLake) -> list[tuple[Any, ...]]:
    engine = QueryEngine(lake.catalog, "spapi")
    try:
        got = engine.sql(f"select account_id, sku, price, report_id, row_key from {TABLE}").to_pylist()
    finally:
        engine.close()
    return sorted(tuple(r.values()) for r in got)


def landed_in_order(reference: CuratedLake, docs: list[Doc]) -> list[tuple[Any, ...]]:
    for d in docs:
        reference.write(SPEC, d.rows(), d.prov())
    return rows_of(reference)


def files_exist(staged: StagedWrite) -> list[bool]:
    return [os.path.exists(f.removeprefix("file://")) for f in staged.files]


class GroupCommits(logging.Handler):
    """The coordinator's ``lake_group_commit`` events: documents per Iceberg commit."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.sizes: list[int] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "lake_group_commit":
            self.sizes.append(int(record.fields["documents"]))  # type: ignore[attr-defined]


@pytest.fixture
def commits() -> Iterator[GroupCommits]:
    handler = GroupCommits()
    logger = logging.getLogger("splake.lake.groupcommit")
    old = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old)


async def until(predicate: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


def records(backend: Backend) -> list[dict[str, Any]]:
    return backend.state.query(NAMESPACE, TABLE)


# --- grouping -------------------------------------------------------------------------------------


def test_concurrent_landers_share_commits_and_land_the_same_lake(
    backend: Backend, lake: CuratedLake, reference: CuratedLake, commits: GroupCommits
) -> None:
    docs = [Doc(f"acct-{i}", 1) for i in range(6)]
    staged = [stage(lake, d) for d in docs]

    async def scenario() -> list[WriteResult]:
        # one coordinator per lander, as one Lambda per report on AWS
        return await asyncio.gather(*(backend.committer(lake).commit(s) for s in staged))

    results = asyncio.run(scenario())
    assert [r.rows_written for r in results] == [5] * 6
    assert sum(commits.sizes) == 6 and len(commits.sizes) < 6, commits.sizes
    assert rows_of(lake) == landed_in_order(reference, docs)
    assert records(backend) == []  # every owner collected its result


def test_records_pile_up_while_a_commit_runs_and_go_in_the_next_commit(
    backend: Backend, lake: CuratedLake, reference: CuratedLake, commits: GroupCommits
) -> None:
    first = Doc("acct-0", 1)
    later = [Doc(f"acct-{i}", 1) for i in range(1, 6)]
    first_staged = stage(lake, first)
    later_staged = [stage(lake, d) for d in later]

    async def scenario() -> None:
        await backend.committer(lake).commit(first_staged)
        lock = backend.lock(TABLE)  # the next commit is running (holds the table lock) ...
        await lock.acquire()
        tasks = [asyncio.create_task(backend.committer(lake).commit(s)) for s in later_staged]
        await until(lambda: len(records(backend)) == len(later))  # ... while the later records pile up
        lock.release()
        await asyncio.gather(*tasks)

    asyncio.run(scenario())
    assert commits.sizes == [1, 5], commits.sizes
    assert rows_of(lake) == landed_in_order(reference, [first, *later])


def test_a_newer_snapshot_in_the_same_group_wins(
    backend: Backend, lake: CuratedLake, commits: GroupCommits
) -> None:
    old, new = Doc("acct-1", 1), Doc("acct-1", 2)
    old_staged, new_staged = stage(lake, old), stage(lake, new)

    async def scenario() -> None:
        lock = backend.lock(TABLE)
        await lock.acquire()
        a = asyncio.create_task(backend.committer(lake).commit(old_staged))
        await until(lambda: len(records(backend)) == 1)
        b = asyncio.create_task(backend.committer(lake).commit(new_staged))
        await until(lambda: len(records(backend)) == 2)
        lock.release()
        await asyncio.gather(a, b)

    asyncio.run(scenario())
    assert commits.sizes == [2]
    assert {r[3] for r in rows_of(lake)} == {new.report_id}


# --- crashes --------------------------------------------------------------------------------------


def test_a_dead_landers_expired_record_is_discarded_not_committed(
    backend: Backend, lake: CuratedLake, reference: CuratedLake
) -> None:
    dead, live = Doc("acct-dead", 1), Doc("acct-live", 1)
    dead_staged, live_staged = stage(lake, dead), stage(lake, live)
    short = CommitTiming(wait_seconds=5.0, grace_seconds=1.0, poll_seconds=0.1)

    async def scenario() -> None:
        lock = backend.lock(TABLE)
        await lock.acquire()
        lander = asyncio.create_task(backend.committer(lake, short).commit(dead_staged))
        await until(lambda: len(records(backend)) == 1)
        lander.cancel()  # the lander dies after writing its pending record (no cleanup runs)
        with pytest.raises(asyncio.CancelledError):
            await lander
        lock.release()
        backend.clock.offset = timedelta(seconds=7)  # its record expired
        await backend.committer(lake, short).commit(live_staged)

    asyncio.run(scenario())
    assert rows_of(lake) == landed_in_order(reference, [live])
    assert files_exist(dead_staged) == [False] * len(dead_staged.files)  # discarded: files deleted
    assert all(files_exist(live_staged))
    assert records(backend) == []


class Killed(BaseException):
    """The committer's process dies here (nothing after it runs, no except clause catches it)."""


@dataclass
class DiesInCommit:
    """The real lake, with the committing process killed right before or right after the Iceberg commit."""

    lake: CuratedLake
    after: bool

    def commit_staged(self, table: str, staged: Any) -> list[WriteResult]:
        if self.after:
            self.lake.commit_staged(table, staged)
        raise Killed

    def discard(self, staged: StagedWrite) -> None:
        self.lake.discard(staged)


@pytest.mark.parametrize("after_commit", [False, True], ids=["before-commit", "after-commit"])
def test_a_dead_committers_claim_is_committed_by_the_next_lander(
    backend: Backend, lake: CuratedLake, reference: CuratedLake, after_commit: bool
) -> None:
    a, b, c = Doc("acct-1", 1), Doc("acct-2", 1), Doc("acct-1", 2)  # c: a newer snapshot than a
    sa, sb, sc = stage(lake, a), stage(lake, b), stage(lake, c)

    async def scenario() -> list[WriteResult]:
        lock = backend.lock(TABLE)
        await lock.acquire()  # held by the committer that is about to die
        owners = [asyncio.create_task(backend.committer(lake).commit(s)) for s in (sa, sb)]
        await until(lambda: len(records(backend)) == 2)
        doomed = backend.committer(DiesInCommit(lake, after_commit))
        with pytest.raises(Killed):
            await asyncio.to_thread(doomed.commit_round, TABLE)  # claims a and b, dies in the commit
        assert sorted(r["state"] for r in records(backend)) == ["claimed", "claimed"]
        lock.release()  # its lease ran out
        # a newer document of a's scope arrives; the next committer commits the stale claims first, in order
        result_c = await backend.committer(lake).commit(sc)
        return [*(await asyncio.gather(*owners)), result_c]

    result_a, result_b, result_c = asyncio.run(scenario())
    for r in (result_a, result_b):
        assert r.already_committed is after_commit
        assert r.rows_written == (0 if after_commit else 5)
    assert result_c.rows_written == 5 and not result_c.already_committed
    assert rows_of(lake) == landed_in_order(reference, [a, b, c])  # c over a, not a over c
    assert records(backend) == []


def test_recommitting_a_committed_write_is_a_no_op(
    backend: Backend, lake: CuratedLake, reference: CuratedLake
) -> None:
    doc = Doc("acct-1", 1)
    staged = stage(lake, doc)
    lake.commit_staged(TABLE, [staged])  # committed, then the process died before its record said so
    result = asyncio.run(backend.committer(lake).commit(staged))
    assert result.already_committed and result.rows_written == 0
    assert all(files_exist(staged))  # the table's files: never discarded
    assert rows_of(lake) == landed_in_order(reference, [doc])


def test_an_owner_that_waits_too_long_abandons_its_record_and_nothing_is_lost(
    backend: Backend, lake: CuratedLake, reference: CuratedLake
) -> None:
    doc = Doc("acct-1", 1)
    staged = stage(lake, doc)
    impatient = CommitTiming(wait_seconds=1.0, grace_seconds=0.5, poll_seconds=0.1)

    async def scenario() -> None:
        lock = backend.lock(TABLE)
        await lock.acquire()  # a commit that never ends (a stuck committer still holding its lease)
        try:
            with pytest.raises(RetryableError, match="no commit of table listings"):
                await backend.committer(lake, impatient).commit(staged)
        finally:
            lock.release()
        assert records(backend) == []
        assert files_exist(staged) == [False] * len(staged.files)
        # the step is retried: the document is staged again and lands
        await backend.committer(lake, impatient).commit(stage(lake, doc))

    asyncio.run(scenario())
    assert rows_of(lake) == landed_in_order(reference, [doc])


def test_a_large_staged_write_is_stored_packed_and_commits(
    backend: Backend,
    lake: CuratedLake,
    reference: CuratedLake,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from splake.lake import parquet_writer, staging

    # many small data files (20-row batches, a file per row group): a large StagedWrite JSON
    monkeypatch.setattr(staging, "CHUNK_ROWS", 20)
    monkeypatch.setattr(parquet_writer, "ROW_GROUP_ROWS", 20)
    monkeypatch.setattr(parquet_writer, "TARGET_FILE_BYTES", 1)
    doc = Doc("acct-1", 1, skus=2000)
    staged = stage(lake, doc)
    assert len(staged.files) >= 100
    assert len(json.dumps(staged.to_json())) > 100_000

    async def scenario() -> None:
        lock = backend.lock(TABLE)
        await lock.acquire()
        owner = asyncio.create_task(backend.committer(lake).commit(staged))
        await until(lambda: len(records(backend)) == 1)
        [rec] = records(backend)
        assert "staged_z" in rec and "staged" not in rec
        assert len(json.dumps(rec)) < len(json.dumps(staged.to_json())) / 3
        lock.release()
        await owner

    asyncio.run(scenario())
    assert rows_of(lake) == landed_in_order(reference, [doc])


def test_recovery_finishes_a_dead_groups_commit_and_forgets_it_later(
    backend: Backend, lake: CuratedLake, reference: CuratedLake
) -> None:
    """Committer and owners all died (no further document of the table arrives): the recovery round (local
    sync start, AWS daily maintenance) commits the claimed group; uncollected results are forgotten after
    ``keep_seconds``."""
    a, b = Doc("acct-1", 1), Doc("acct-2", 1)
    sa, sb = stage(lake, a), stage(lake, b)

    async def scenario() -> None:
        lock = backend.lock(TABLE)
        await lock.acquire()
        owners = [asyncio.create_task(backend.committer(lake).commit(s)) for s in (sa, sb)]
        await until(lambda: len(records(backend)) == 2)
        for o in owners:  # the owners die
            o.cancel()
        await asyncio.gather(*owners, return_exceptions=True)
        with pytest.raises(Killed):  # and so does their committer
            await asyncio.to_thread(backend.committer(DiesInCommit(lake, False)).commit_round, TABLE)
        lock.release()
        assert await backend.committer(lake).recover([TABLE, "other_table"]) == 2
        assert sorted(r["state"] for r in records(backend)) == ["committed", "committed"]
        backend.clock.offset = timedelta(seconds=FAST.keep_seconds + 1)
        assert await backend.committer(lake).recover([TABLE]) == 0
        assert records(backend) == []

    asyncio.run(scenario())
    assert rows_of(lake) == landed_in_order(reference, [a, b])


def test_the_committer_lingers_for_a_document_this_process_is_still_landing(
    backend: Backend, lake: CuratedLake, reference: CuratedLake, commits: GroupCommits
) -> None:
    first, second = Doc("acct-1", 1), Doc("acct-2", 1)
    s1 = stage(lake, first)

    async def scenario() -> None:
        committer = backend.committer(lake, dataclasses.replace(FAST, linger_seconds=10.0))
        with committer.landing(TABLE):  # the second document is being downloaded/parsed/staged here
            owner1 = asyncio.create_task(committer.commit(s1))
            await until(lambda: len(records(backend)) == 1)
            await asyncio.sleep(0.3)  # the first owner holds the lock now, lingering
            s2 = await asyncio.to_thread(stage, lake, second)
            owner2 = asyncio.create_task(committer.commit(s2))
            await until(lambda: len(records(backend)) == 2)
        await asyncio.gather(owner1, owner2)

    asyncio.run(scenario())
    assert commits.sizes == [2]
    assert rows_of(lake) == landed_in_order(reference, [first, second])


def test_the_committer_lingers_for_a_document_queued_to_land_then_stops_when_none_is(
    backend: Backend, lake: CuratedLake, reference: CuratedLake, commits: GroupCommits
) -> None:
    """A document of the table queued at the sync's landing gate (not landing yet): the committer waits
    for it past ``linger_seconds`` (up to ``queue_linger_seconds``) and commits both at once; with nothing
    queued or landing it commits at once."""
    first, second, third = Doc("acct-1", 1), Doc("acct-2", 1), Doc("acct-3", 1)
    s1 = stage(lake, first)
    queued = {TABLE: 1}

    async def scenario() -> None:
        timing = dataclasses.replace(FAST, linger_seconds=0.0, queue_linger_seconds=10.0)
        committer = backend.committer(lake, timing)
        committer.expect(lambda table: queued.get(table, 0), lambda: sum(queued.values()))
        owner1 = asyncio.create_task(committer.commit(s1))
        await until(lambda: len(records(backend)) == 1)
        await asyncio.sleep(0.5)  # past linger_seconds: still lingering for the queued one
        assert not owner1.done()
        s2 = await asyncio.to_thread(stage, lake, second)  # it lands (staged, its commit asked for) ...
        owner2 = asyncio.create_task(committer.commit(s2))
        await until(lambda: len(records(backend)) == 2)
        queued[TABLE] = 0  # ... and nothing of the table is queued any more
        await asyncio.gather(owner1, owner2)
        started = asyncio.get_running_loop().time()
        await committer.commit(await asyncio.to_thread(stage, lake, third))  # nothing queued: no wait
        assert asyncio.get_running_loop().time() - started < 5.0

    asyncio.run(scenario())
    assert commits.sizes == [2, 1]
    assert rows_of(lake) == landed_in_order(reference, [first, second, third])


def test_a_staged_write_whose_files_are_gone_is_refused_alone_and_retried(
    backend: Backend, lake: CuratedLake, reference: CuratedLake
) -> None:
    """Files of a staged write deleted before its commit (a crash-leftover sweep after its committer died):
    the lake refuses it (here its key pass reads them: a newer snapshot of an account already in the
    table), the group commits the others, the owner gets a retryable error, nothing of it lands, its rerun
    does."""
    first, lost, fine = Doc("acct-1", 1), Doc("acct-1", 2), Doc("acct-fine", 1)
    lake.write(SPEC, first.rows(), first.prov())
    s_lost, s_fine = stage(lake, lost), stage(lake, fine)
    for f in s_lost.files:
        os.unlink(f.removeprefix("file://"))

    async def scenario() -> None:
        lock = backend.lock(TABLE)
        await lock.acquire()
        owners = [asyncio.create_task(backend.committer(lake).commit(s)) for s in (s_lost, s_fine)]
        await until(lambda: len(records(backend)) == 2)
        lock.release()
        got = await asyncio.gather(*owners, return_exceptions=True)
        assert isinstance(got[0], RetryableError) and "gone" in got[0].message, got[0]
        assert isinstance(got[1], WriteResult) and got[1].rows_written == 5
        assert records(backend) == []
        await backend.committer(lake).commit(stage(lake, lost))  # the retried step stages it again

    asyncio.run(scenario())
    assert rows_of(lake) == landed_in_order(reference, [first, fine, lost])
