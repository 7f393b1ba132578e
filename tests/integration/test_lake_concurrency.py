"""Concurrent writers on one curated table: no lost documents, no duplicated row keys."""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from splake.lake.catalog import open_local_catalog
from splake.lake.iceberg import CuratedLake
from splake.lake.query import QueryEngine
from splake.lake.tables import Provenance, TableSpec

SPEC = TableSpec(
    "orders",
    pa.schema(
        [
            ("order_id", pa.string()),
            ("sku", pa.string()),
            ("writer", pa.string()),
            ("purchase_date", pa.timestamp("us", tz="UTC")),
        ]
    ),
    key_columns=("order_id", "sku"),
    replace="window",
    window_column="purchase_date",
)
PER_DAY = 4


def _day(n: int) -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n - 1)


def _doc(writer: str, first: int, last: int) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "order_id": f"{d}-{i}",
                "sku": "S",
                "writer": writer,
                "purchase_date": _day(d) + timedelta(hours=i),
            }
            for d in range(first, last + 1)
            for i in range(PER_DAY)
        ],
        schema=SPEC.schema,
    )


def _prov(account: str, rid: str, first: int, last: int) -> Provenance:
    return Provenance(
        account_id=account,
        report_id=rid,
        source_key=f"raw/{rid}",
        ingested_at=datetime.now(UTC),
        data_start=_day(first),
        data_end=_day(last + 1),
        marketplace_id="ATVPDKIKX0DER",
    )


def _writer(lake_dir: str, name: str, start_at: float, rounds: int, out: Any) -> None:
    lake = CuratedLake(open_local_catalog(lake_dir), "spapi")
    while time.time() < start_at:
        time.sleep(0.001)
    attempts = 0
    for r in range(rounds):
        # its own account: the same window each round (last one wins)
        attempts += lake.write(SPEC, _doc(name, 1, 3), _prov(f"own-{name}", f"{name}-own-{r}", 1, 3)).attempts
        # a shared account, overlapping windows written by both processes
        first = 1 + r % 2
        res = lake.write(
            SPEC, _doc(name, first, first + 2), _prov("shared", f"{name}-sh-{r}", first, first + 2)
        )
        attempts += res.attempts
    out.put((name, attempts))


def test_two_processes_writing_one_table(lake_dir: Path) -> None:
    CuratedLake(open_local_catalog(lake_dir), "spapi").write(
        SPEC, _doc("seed", 1, 1), _prov("seed", "s", 1, 1)
    )
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    start_at = time.time() + 3.0
    rounds = 6
    procs = [ctx.Process(target=_writer, args=(str(lake_dir), n, start_at, rounds, q)) for n in ("p1", "p2")]
    for p in procs:
        p.start()
    results = dict(q.get(timeout=240) for _ in procs)
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    print("commit attempts per writer (2 writes per round):", results)

    engine = QueryEngine(open_local_catalog(lake_dir), "spapi")
    rows = engine.sql("select account_id, order_id, sku, writer, row_key from orders").to_pylist()
    keys = [r["row_key"] for r in rows]
    assert len(keys) == len(set(keys)), "a row key is stored twice"
    by_account: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_account.setdefault(r["account_id"], []).append(r)
    assert len(by_account["seed"]) == PER_DAY
    for name in ("p1", "p2"):
        own = by_account[f"own-{name}"]
        assert len(own) == 3 * PER_DAY and {r["writer"] for r in own} == {name}
    shared = by_account["shared"]
    # windows [1,4) and [2,5) were replaced many times by both writers: every day 1..4 holds exactly one
    # document's rows, whoever committed last
    assert sorted((r["order_id"], r["sku"]) for r in shared) == sorted(
        (f"{d}-{i}", "S") for d in range(1, 5) for i in range(PER_DAY)
    )
    assert {r["writer"] for r in shared} <= {"p1", "p2"}


def test_a_commit_landing_mid_stream_is_replaced_not_duplicated(lake_dir: Path) -> None:
    """Writer A streams a document; while it is being staged, writer B commits an overlapping window.
    A's replace is planned at commit time, so B's overlapping rows are replaced instead of kept twice."""
    catalog = open_local_catalog(lake_dir)
    lake_a = CuratedLake(catalog, "spapi")
    lake_b = CuratedLake(open_local_catalog(lake_dir), "spapi")
    lake_a.write(SPEC, _doc("seed", 1, 5), _prov("acct", "seed", 1, 5))

    def stream() -> Iterator[pa.RecordBatch]:
        doc = _doc("A", 2, 4)
        yield from doc.slice(0, 5).to_batches()
        lake_b.write(SPEC, _doc("B", 3, 5), _prov("acct", "B", 3, 5))
        yield from doc.slice(5).to_batches()

    res = lake_a.write(SPEC, stream(), _prov("acct", "A", 2, 4))
    assert res.rows_written == 3 * PER_DAY
    rows = QueryEngine(catalog, "spapi").sql(
        "select cast(purchase_date as date) d, writer, count(*) n, count(distinct row_key) k from orders "
        "group by all order by d"
    )
    got = [(r["d"].day, r["writer"], r["n"], r["k"]) for r in rows.to_pylist()]
    assert got == [(1, "seed", 4, 4), (2, "A", 4, 4), (3, "A", 4, 4), (4, "A", 4, 4), (5, "B", 4, 4)]


def test_threads_sharing_one_lake_object(lake_dir: Path) -> None:
    """The reports/items runners call one CuratedLake from worker threads."""
    import threading

    lake = CuratedLake(open_local_catalog(lake_dir), "spapi")
    errors: list[BaseException] = []
    spec_by_table = {
        t: TableSpec(t, pa.schema([("k", pa.string()), ("v", pa.int64())]), key_columns=("k",), replace="key")
        for t in ("t0", "t1")
    }

    def worker(i: int) -> None:
        try:
            spec = spec_by_table[f"t{i % 2}"]
            for v in range(5):
                rows = pa.Table.from_pylist([{"k": f"x{n}", "v": v} for n in range(20)], schema=spec.schema)
                lake.write(spec, rows, _prov(f"acct{i}", f"r{i}-{v}", 1, 1))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    engine = QueryEngine(open_local_catalog(lake_dir), "spapi")
    for table in ("t0", "t1"):
        [row] = engine.sql(
            f"select count(*) n, count(distinct row_key) k, min(v) lo from {table}"
        ).to_pylist()
        assert row == {"n": 40, "k": 40, "lo": 4}  # 2 accounts x 20 keys, each at its last version
