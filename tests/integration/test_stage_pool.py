"""Documents staged in a worker process (splake.runners.stagepool) through the real ingest path
(sandbox-served documents, local lake): they land exactly as staged in a thread would, a held document is
held (its error crosses the process boundary), the worker's log events reach this process's handlers, and
a worker killed mid-run costs nothing but the pool: that document is staged in a thread, the next one
starts a new pool."""

from __future__ import annotations

import itertools
import logging
import os
import pickle
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from splake.errors import BadDataError, RetryableError
from splake.reports.hold import DocumentHeldError
from splake.runners.stagepool import MIN_DOCUMENTS, StagePool, _portable, worth_it
from tests.support.conformance import REAL, ConformanceLab, parse_amazon_time, read_flat

DE = "A1PA6795UKMFR9"
LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def events(self, name: str) -> list[logging.LogRecord]:
        return [r for r in self.records if r.getMessage() == name]


@pytest.fixture
def records() -> Iterator[_Records]:
    lg = logging.getLogger("splake")
    level, handler = lg.level, _Records()
    lg.setLevel(logging.INFO)  # (workers log at the level this process has when they start)
    lg.addHandler(handler)
    yield handler
    lg.removeHandler(handler)
    lg.setLevel(level)


def _corrupt_dates(body: bytes, keep: int) -> bytes:
    lines = body.decode("utf-8").split("\n")
    col = lines[0].split("\t").index("open-date")
    out = [lines[0]]
    for i, line in enumerate(lines[1:]):
        f = line.split("\t")
        if len(f) > col and i >= keep:
            f[col] = "31/31/2020 99:00:00 MEST"
        out.append("\t".join(f))
    return "\n".join(out).encode("utf-8")


def _workers(pool: StagePool) -> list[int]:
    assert pool._pool is not None
    return [p.pid for p in pool._pool._processes.values() if p.pid is not None]  # type: ignore[attr-defined]


def test_staged_in_a_worker_lands_held_and_survives_a_killed_worker(
    tmp_path: Path, records: _Records
) -> None:
    de = REAL["GET_MERCHANT_LISTINGS_ALL_DATA/saleweaver-de.txt"]
    ff = read_flat(de.path)
    sku, opened = ff.header.index("seller-sku"), ff.header.index("open-date")
    want = {f[sku]: parse_amazon_time(f[opened]) for _, f in ff.rows}
    with ConformanceLab(tmp_path) as lab:
        assert lab.ctx is not None and isinstance(lab.ctx.stager, StagePool)
        pool = lab.ctx.stager
        assert pool.start()  # (a sync starts it only when worth it; forced here)

        good = lab.land(de)
        assert good.status == "INGESTED"
        rows = lab.sql(f"select seller_sku, open_date from merchant_listings where marketplace_id='{DE}'")
        assert {r["seller_sku"]: r["open_date"] for r in rows} == want
        # staged in the worker: its events (the table it created) reached this process's handlers
        (created,) = [
            r
            for r in records.events("lake_table_created")
            if r.fields["table"].endswith(".merchant_listings")  # type: ignore[attr-defined]
        ]
        assert created.process != os.getpid() and created.process in _workers(pool)

        bad = lab.land_bytes(
            _corrupt_dates(de.path.read_bytes(), keep=30),
            report_type=LISTINGS,
            marketplaces=("DE",),
            content_type="text/plain",
        )
        assert bad.status == "HELD"  # DocumentHeldError crossed the process boundary
        assert bad.entry.quarantined == 11 and "open_date" in (bad.entry.reason or "")
        assert len(lab.quarantine("merchant_listings", bad.report_id)) == 11
        again = lab.sql(f"select seller_sku, open_date from merchant_listings where marketplace_id='{DE}'")
        assert sorted(again, key=str) == sorted(rows, key=str)  # the table kept its rows

        old = _workers(pool)
        for pid in old:
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in old) and time.monotonic() < deadline:
            time.sleep(0.05)
        third = lab.land(de)  # the pool is broken: staged in a thread
        assert third.status == "INGESTED"
        assert len(records.events("stage_pool_broken")) == 1
        fourth = lab.land(de)  # a new pool
        assert fourth.status == "INGESTED"
        assert pool.started and _workers(pool) and not set(_workers(pool)) & set(old)
        final = lab.sql(
            f"select seller_sku, open_date, report_id from merchant_listings where marketplace_id='{DE}'"
        )
        assert {r["seller_sku"]: r["open_date"] for r in final} == want
        assert {r["report_id"] for r in final} == {fourth.report_id}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_errors_cross_the_process_boundary_with_their_kind() -> None:
    held = DocumentHeldError(rows=3, quarantined=7, max_share=0.05, reasons=["bad date"], where="report 1")
    back = pickle.loads(pickle.dumps(held))
    assert type(back) is DocumentHeldError and (back.rows, back.quarantined) == (3, 7)
    assert back.message == held.message and back.where == held.where and back.hint == held.hint

    class Odd(RetryableError):  # a local class cannot be pickled: its kind and text still arrive
        pass

    moved = _portable(Odd("disk hiccup", where="stage", hint="retry"))
    assert type(moved) is RetryableError and (moved.message, moved.where, moved.hint) == (
        "disk hiccup",
        "stage",
        "retry",
    )
    bad = BadDataError("x")
    assert _portable(bad) is bad


def test_only_syncs_landing_many_documents_start_workers() -> None:
    assert not worth_it(MIN_DOCUMENTS - 1, 2)
    assert worth_it(MIN_DOCUMENTS, 1)
    assert not worth_it(10_000, 0)


def test_a_sync_of_many_documents_stages_them_in_a_worker_started_once_requested(
    tmp_path: Path, records: _Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    """25 reports (>= MIN_DOCUMENTS): the workers start after the last createReport was sent (their
    start-up would compete with the requests for the CPU), and every report lands, staged in a worker.
    With every document counted as large, the two workers never stage two at once (memory)."""
    import asyncio

    from splake.reports import ingest

    monkeypatch.setattr(ingest, "LARGE_DOCUMENT_BYTES", 1)
    from datetime import UTC, datetime, timedelta

    from splake.auth.secrets import LocalSecretStore
    from splake.reports.sync import sync
    from splake.runners.local import LocalContext, default_secrets_dir
    from splake.sandbox import SandboxConfig, SandboxServer
    from splake.sandbox.demo import demo_settings, seed_demo_secrets

    types = (
        "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
        "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
        "GET_MERCHANT_LISTINGS_ALL_DATA",
        "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
        "GET_SALES_AND_TRAFFIC_REPORT",
    )
    # reports take 3 s: every stream has sent its requests before the first one finishes (else that
    # stream's documents land in threads of this process until the workers start)
    with SandboxServer(SandboxConfig(seed=7, time_scale=0.1)) as sb:
        start = (datetime.now(UTC) - timedelta(days=1)).date()
        base = demo_settings(
            sb.url,
            tmp_path / "lake",
            ("seller-na", "seller-eu"),
            world=sb.world,
            start_date=start,
            lookback_days=1,
        )
        accounts = tuple(a.model_copy(update={"report_types": types}) for a in base.accounts)
        settings = base.model_copy(update={"accounts": accounts})
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(settings)), sb.world, settings)

        async def run() -> tuple[int, int, int]:
            ctx = LocalContext.open(settings)
            try:
                summary = await sync(settings, ctx, max_wait_seconds=120)
                landed = sum(s.ingested + s.cancelled for s in summary.streams.values())
                return sum(s.units for s in summary.streams.values()), landed, len(summary.failures)
            finally:
                await ctx.aclose()

        units, landed, failures = asyncio.run(run())
    assert units == 25 >= MIN_DOCUMENTS and landed == 25 and failures == 0
    events = [r.getMessage() for r in records.records]
    started = events.index("stage_pool_started")
    assert events.count("stage_pool_started") == 1
    assert "report_created" in events and "report_created" not in events[started:]
    staged_here = {r.process for r in records.events("lake_table_created")}
    assert staged_here and os.getpid() not in staged_here  # every table was created by a worker
    # every document staged: the workers retired then (their exit overlaps the last commits), once
    assert events.count("stage_pool_retired") == 1
    retired = events.index("stage_pool_retired")
    assert retired > max(i for i, e in enumerate(events) if e == "document_staged")
    assert retired < max(i for i, e in enumerate(events) if e == "report_ingested")
    staged = records.events("document_staged")
    assert len(staged) == 25 and len({r.process for r in staged}) == 2  # both workers took documents
    spans = sorted((r.created - getattr(r, "fields")["seconds"], r.created) for r in staged)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start >= end - 0.005  # one large document at a time (5 ms: two clocks, log timestamps)


def test_corrupt_deflate_data_is_a_retryable_corrupt_document(tmp_path: Path) -> None:
    """A gzip body whose deflate stream is damaged mid-way (zlib: "invalid distance too far back", not an
    OSError) is a CorruptDocumentError (retryable: downloaded again), in a worker as in a thread."""
    from splake.reports.decode import CorruptDocumentError

    de = REAL["GET_MERCHANT_LISTINGS_ALL_DATA/saleweaver-de.txt"]
    with ConformanceLab(tmp_path) as lab:
        assert lab.ctx is not None and isinstance(lab.ctx.stager, StagePool)
        for in_worker in (False, True):
            if in_worker:
                lab.ctx.stager.start()
            entry = lab.prepare(
                de.path.read_bytes(), report_type=LISTINGS, marketplaces=("DE",), content_type="text/plain"
            )
            served = lab.sandbox.state.documents[entry.document_id or ""].path
            gz = bytearray(served.read_bytes())
            gz[len(gz) // 2 : len(gz) // 2 + 64] = bytes(64)
            served.write_bytes(bytes(gz))
            landed = lab.ingest(entry)
            assert isinstance(landed.error, CorruptDocumentError), landed.error
            assert landed.status == "DONE"  # not landed, not failed: the next attempt downloads it again
