"""Two-phase lake writes (stage → StagedWrite → commit_staged) on a real SQLite catalog and real Parquet:
a group commit leaves exactly the table that committing the same documents one by one leaves; commits are
idempotent (also from the JSON hand-off, in a fresh lake object); crashes leave nothing visible."""

from __future__ import annotations

import json
import random
import threading
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from splake.errors import FatalError
from splake.lake.catalog import open_local_catalog
from splake.lake.iceberg import CuratedLake
from splake.lake.staged import STAGED_IDS_PROPERTY, StagedWrite
from splake.lake.tables import Provenance, ReplaceScope, TableSpec

US, CA = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"

WINDOW = TableSpec(
    "orders_w",
    pa.schema(
        [
            ("order_id", pa.string()),
            ("marketplace_id", pa.string()),
            ("version", pa.string()),
            ("qty", pa.int64()),
            ("last_updated", pa.timestamp("us", tz="UTC")),
        ]
    ),
    key_columns=("order_id",),
    replace="window",
    window_column="last_updated",
)
SNAPSHOT = TableSpec(
    "listings_s",
    pa.schema(
        [
            ("sku", pa.string()),
            ("marketplace_id", pa.string()),
            ("version", pa.string()),
            ("qty", pa.int64()),
        ]
    ),
    key_columns=("sku",),
    replace="snapshot",
)
KEY = TableSpec(
    "items_k",
    pa.schema(
        [
            ("asin", pa.string()),
            ("marketplace_id", pa.string()),
            ("version", pa.string()),
            ("qty", pa.int64()),
            ("day", pa.date32()),
        ]
    ),
    key_columns=("asin",),
    replace="key",
    window_column="day",
    partition_by=(("account_id", "identity"), ("day", "day")),
)
WINDOW_DATE = TableSpec(
    "traffic_d",
    pa.schema(
        [
            ("asin", pa.string()),
            ("marketplace_id", pa.string()),
            ("version", pa.string()),
            ("qty", pa.int64()),
            ("day", pa.date32()),
        ]
    ),
    key_columns=("asin", "day"),
    replace="window",
    window_column="day",
    partition_by=(("account_id", "identity"), ("marketplace_id", "identity"), ("day", "day")),
)
WINDOW_NAIVE = TableSpec(
    "orders_n",
    pa.schema(
        [
            ("order_id", pa.string()),
            ("marketplace_id", pa.string()),
            ("version", pa.string()),
            ("qty", pa.int64()),
            ("last_updated", pa.timestamp("us")),
        ]
    ),
    key_columns=("order_id",),
    replace="window",
    window_column="last_updated",
)
SPECS = {
    "window": WINDOW,
    "snapshot": SNAPSHOT,
    "key": KEY,
    "window_date": WINDOW_DATE,
    "window_naive": WINDOW_NAIVE,
}
BASE = datetime(2026, 3, 1, tzinfo=UTC)


def _day(n: int) -> datetime:
    return BASE + timedelta(days=n)


Doc = tuple[pa.Table, Provenance]


def random_doc(spec: TableSpec, rng: random.Random, name: str) -> Doc:
    """A document with keys from a small pool (shared keys across documents), rows inside and outside its
    window, one or two marketplaces, sometimes empty."""
    account = rng.choice(["acme", "acme", "beta"])
    markets = rng.choice([(US,), (CA,), (US, CA)])
    start = rng.randint(0, 40)
    length = rng.randint(1, 25)
    n = 0 if rng.random() < 0.12 else rng.randint(1, 12)
    keys = rng.sample(range(30), n)
    rows: list[dict[str, Any]] = []
    for k in keys:
        when = _day(rng.randint(start, start + length - 1) if rng.random() < 0.75 else rng.randint(0, 70))
        when += timedelta(hours=rng.randint(0, 23))
        row: dict[str, Any] = {
            spec.key_columns[0]: f"K{k}",
            "marketplace_id": rng.choice(markets),
            "version": name,
            "qty": rng.randint(0, 9),
        }
        if spec is WINDOW:
            row["last_updated"] = when
        elif spec is WINDOW_NAIVE:
            row["last_updated"] = when.replace(tzinfo=None)
        elif spec in (KEY, WINDOW_DATE):
            row["day"] = when.date()
        rows.append(row)
    prov = Provenance(
        account_id=account,
        report_id=name,
        source_key=f"raw/{account}/{name}",
        ingested_at=datetime(2026, 6, 1, tzinfo=UTC),
        data_start=_day(start),
        data_end=_day(start + length),
        marketplace_ids=markets,
    )
    return pa.Table.from_pylist(rows, schema=spec.schema), prov


def contents(lake: CuratedLake, name: str) -> list[dict[str, Any]]:
    data = lake.table(name).scan().to_arrow()
    return sorted(data.to_pylist(), key=lambda r: r["row_key"])


def assert_unique_keys(rows: list[dict[str, Any]]) -> None:
    keys = [r["row_key"] for r in rows]
    assert len(keys) == len(set(keys))


def new_lake(path: Path) -> CuratedLake:
    path.mkdir(parents=True, exist_ok=True)
    return CuratedLake(open_local_catalog(path), "spapi")


def compare_group(
    one_by_one: CuratedLake, grouped: CuratedLake, mode: str, seed: int, base: int, group: int
) -> None:
    """Random documents: the first ``base`` written one by one into both lakes, the next ``group`` one by
    one into ``one_by_one`` and as ONE group into ``grouped``; tables and per-document figures must match."""
    spec = SPECS[mode]
    rng = random.Random(seed)
    docs = [random_doc(spec, rng, f"d{i:02d}") for i in range(base + group)]
    singles = [one_by_one.write(spec, data, prov) for data, prov in docs]
    for data, prov in docs[:base]:
        grouped.write(spec, data, prov)
    staged = [grouped.stage(spec, data, prov) for data, prov in docs[base:]]
    snapshots = len(grouped.table(spec.name).metadata.snapshots)
    results = grouped.commit_staged(spec.name, [StagedWrite.from_json(s.to_json()) for s in staged])
    assert len(results) == group and not any(r.already_committed for r in results)
    expected, got = contents(one_by_one, spec.name), contents(grouped, spec.name)
    assert_unique_keys(expected)
    assert got == expected, f"{mode} seed {seed}"
    # per document, the figures a one-by-one commit reports
    figures = [(r.rows_written, r.rows_deleted, r.rows_superseded) for r in results]
    assert figures == [(r.rows_written, r.rows_deleted, r.rows_superseded) for r in singles[base:]]
    # one transaction: at most a rewrite, a delete (+ its overwrite) and an append
    assert len(grouped.table(spec.name).metadata.snapshots) - snapshots <= 4


def run_case(tmp_path: Path, mode: str, seed: int, base: int, group: int) -> None:
    one_by_one = new_lake(tmp_path / f"seq-{mode}-{seed}")
    grouped = new_lake(tmp_path / f"grp-{mode}-{seed}")
    compare_group(one_by_one, grouped, mode, seed, base, group)


@pytest.mark.parametrize("mode", ["window", "snapshot", "key", "window_date"])
def test_a_group_commit_equals_committing_one_by_one(tmp_path: Path, mode: str) -> None:
    run_case(tmp_path, mode, 2, base=4, group=6)


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(SPECS))
@pytest.mark.parametrize("seed", [1, *range(3, 15)])
def test_a_group_commit_equals_committing_one_by_one_more_seeds(tmp_path: Path, mode: str, seed: int) -> None:
    run_case(tmp_path, mode, seed, base=seed % 5, group=4 + seed % 9)


def _orders(version: str, days: range, account: str = "acme") -> Doc:
    rows = [
        {
            "order_id": f"{d}-{i}",
            "marketplace_id": US,
            "version": version,
            "qty": i,
            "last_updated": _day(d) + timedelta(hours=i),
        }
        for d in days
        for i in range(3)
    ]
    prov = Provenance(
        account_id=account,
        report_id=version,
        source_key=f"raw/{version}",
        ingested_at=datetime(2026, 6, 1, tzinfo=UTC),
        data_start=_day(days.start),
        data_end=_day(days.stop),
        marketplace_id=US,
    )
    return pa.Table.from_pylist(rows, schema=WINDOW.schema), prov


def test_the_json_hand_off_round_trips_and_stays_small(curated_lake: CuratedLake) -> None:
    data, prov = _orders("v1", range(0, 40))
    staged = curated_lake.stage(WINDOW, data, prov)
    text = json.dumps(staged.to_json())
    assert len(text) < 50_000
    back = StagedWrite.from_json(json.loads(text))
    assert back == staged
    assert [d.file_path for d in back.to_data_files()] == list(staged.files)
    assert len(staged.files) == 2 and staged.rows == 120  # March and April partitions


def test_commit_is_idempotent_also_from_json_in_a_fresh_lake(lake_dir: Path) -> None:
    lake = CuratedLake(open_local_catalog(lake_dir), "spapi")
    docs = [_orders("v1", range(0, 5)), _orders("v2", range(3, 8)), _orders("v3", range(0, 2), "beta")]
    staged = [lake.stage(WINDOW, d, p) for d, p in docs]
    first = lake.commit_staged(WINDOW.name, staged)
    before = contents(lake, WINDOW.name)
    snapshots = len(lake.table(WINDOW.name).metadata.snapshots)
    # another process: only the JSON, a fresh catalog connection
    other = CuratedLake(open_local_catalog(lake_dir), "spapi")
    again = other.commit_staged(WINDOW.name, [StagedWrite.from_json(s.to_json()) for s in staged])
    assert [r.already_committed for r in first] == [False, False, False]
    assert [r.already_committed for r in again] == [True, True, True]
    assert contents(other, WINDOW.name) == before
    assert len(other.table(WINDOW.name).metadata.snapshots) == snapshots
    # a write listed twice lands once
    dup = lake.stage(WINDOW, *_orders("v4", range(20, 22)))
    twice = lake.commit_staged(WINDOW.name, [dup, staged[0], dup])
    assert [(r.already_committed, r.rows_written) for r in twice] == [(False, 6), (True, 0), (True, 0)]
    before = contents(lake, WINDOW.name)
    # discarding a committed write deletes nothing
    for s in [*staged, dup]:
        other.discard(s)
    assert contents(other, WINDOW.name) == before
    assert [r["version"] for r in before].count("v2") == 15 and len(before) == 15 + 9 + 6 + 6


def test_a_crash_between_stage_and_commit_leaves_an_invisible_orphan(lake_dir: Path) -> None:
    clean = new_lake(lake_dir / "clean")
    crashy = new_lake(lake_dir / "crashy")
    base, doc = _orders("v1", range(0, 6)), _orders("v2", range(4, 9))
    for lake in (clean, crashy):
        lake.write(WINDOW, *base)
    clean.commit_staged(WINDOW.name, [clean.stage(WINDOW, *doc)])
    lost = crashy.stage(WINDOW, *doc)  # "crash": the StagedWrite is dropped, its files stay behind
    del lost
    crashy.commit_staged(WINDOW.name, [crashy.stage(WINDOW, *doc)])
    assert contents(crashy, WINDOW.name) == contents(clean, WINDOW.name)
    files = list((lake_dir / "crashy").rglob("*.parquet"))
    live = {t.file.file_path for t in crashy.table(WINDOW.name).scan().plan_files()}
    assert len(files) > len(live)  # the orphan is on disk, not in the table


def test_schema_evolution_between_stage_and_commit(curated_lake: CuratedLake) -> None:
    old = curated_lake.stage(WINDOW, *_orders("v1", range(0, 3)))
    data, prov = _orders("v2", range(10, 12))
    wider = data.append_column("is_business", pa.array([True] * data.num_rows))
    [r2] = curated_lake.commit_staged(WINDOW.name, [curated_lake.stage(WINDOW, wider, prov)])
    [r1] = curated_lake.commit_staged(WINDOW.name, [old])
    assert (r1.rows_written, r2.rows_written) == (9, 6)
    rows = contents(curated_lake, WINDOW.name)
    assert sorted((r["version"], r["is_business"]) for r in rows) == [("v1", None)] * 9 + [("v2", True)] * 6


def test_a_group_mixing_files_from_before_and_after_a_schema_change(tmp_path: Path) -> None:
    """The older document's staged file predates a new column; a later member of the group replaces part
    of it (its staged file is rewritten under the evolved schema) and moves a key out of it."""
    data, prov = _orders("v2", range(2, 4))
    wider = data.append_column("is_business", pa.array([True] * data.num_rows))
    docs = [_orders("v1", range(0, 4)), (wider, prov)]
    one_by_one = new_lake(tmp_path / "seq")
    for doc in docs:
        one_by_one.write(WINDOW, *doc)
    lake = new_lake(tmp_path / "grp")
    old = lake.stage(WINDOW, *docs[0])
    new = lake.stage(WINDOW, *docs[1])
    results = lake.commit_staged(WINDOW.name, [old, new])
    assert [(r.rows_written, r.rows_deleted) for r in results] == [(12, 0), (6, 6)]
    assert contents(lake, WINDOW.name) == contents(one_by_one, WINDOW.name)
    assert {r["is_business"] for r in contents(lake, WINDOW.name)} == {None, True}


def test_two_threads_committing_groups_to_one_table(tmp_path: Path) -> None:
    base = _orders("v0", range(0, 20))
    docs_a = [_orders(f"a{i}", range(i * 4, i * 4 + 6)) for i in range(3)]
    docs_b = [_orders(f"b{i}", range(i * 4 + 2, i * 4 + 7)) for i in range(3)]
    # the two possible serial orders, one by one, as references
    references = []
    for name, order in (("ab", docs_a + docs_b), ("ba", docs_b + docs_a)):
        ref = new_lake(tmp_path / name)
        for doc in [base, *order]:
            ref.write(WINDOW, *doc)
        references.append(contents(ref, WINDOW.name))
    lake = new_lake(tmp_path / "lake")
    lake.write(WINDOW, *base)
    groups = [[lake.stage(WINDOW, *d) for d in docs] for docs in (docs_a, docs_b)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def commit(group: list[StagedWrite]) -> None:
        try:
            barrier.wait()
            CuratedLake(open_local_catalog(tmp_path / "lake"), "spapi").commit_staged(WINDOW.name, group)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=commit, args=(g,)) for g in groups]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    rows = contents(lake, WINDOW.name)
    assert_unique_keys(rows)
    assert rows in references
    again = lake.commit_staged(WINDOW.name, groups[0] + groups[1])
    assert all(r.already_committed for r in again)


def test_two_committers_racing_on_the_same_group_land_it_once(tmp_path: Path) -> None:
    """A coordinator whose lease expired and its successor may commit the same staged writes at once."""
    docs = [_orders("v1", range(0, 6)), _orders("v2", range(3, 9)), _orders("v3", range(5, 7), "beta")]
    reference = new_lake(tmp_path / "ref")
    for doc in docs:
        reference.write(WINDOW, *doc)
    lake = new_lake(tmp_path / "lake")
    staged = [lake.stage(WINDOW, *doc) for doc in docs]  # v2 replaces part of v1: v1's file is rewritten
    barrier = threading.Barrier(2)
    outcomes: list[list[bool]] = []
    errors: list[BaseException] = []

    def commit() -> None:
        try:
            other = CuratedLake(open_local_catalog(tmp_path / "lake"), "spapi")
            group = [StagedWrite.from_json(s.to_json()) for s in staged]
            barrier.wait()
            outcomes.append([r.already_committed for r in other.commit_staged(WINDOW.name, group)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=commit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(outcomes) == [[False, False, False], [True, True, True]]
    assert contents(lake, WINDOW.name) == contents(reference, WINDOW.name)


def test_discard_deletes_uncommitted_files(curated_lake: CuratedLake, lake_dir: Path) -> None:
    staged = curated_lake.stage(WINDOW, *_orders("v1", range(0, 3)))
    paths = [Path(p.removeprefix("file://")) for p in staged.files]
    assert all(p.exists() for p in paths)
    curated_lake.discard(staged)
    assert not any(p.exists() for p in paths)
    assert curated_lake.table(WINDOW.name).scan().to_arrow().num_rows == 0


def test_window_scope_still_required_at_stage(curated_lake: CuratedLake) -> None:
    data, prov = _orders("v1", range(0, 3))
    from dataclasses import replace

    with pytest.raises(Exception, match="no window"):
        curated_lake.stage(WINDOW, data, replace(prov, data_start=None), ReplaceScope())


def test_no_delete_did_not_match_warning_from_concurrent_first_landings(lake_dir: Path) -> None:
    """pyiceberg warns when a delete matches nothing (every first landing of a scope). The lake used to
    silence it with ``warnings.catch_warnings()``, which is process-global: with two landings in threads one
    thread restored the filters while the other's delete ran, and the warning escaped. Now no such delete is
    issued at all."""
    lake = CuratedLake(open_local_catalog(lake_dir), "spapi")
    lake.write(WINDOW, *_orders("v0", range(0, 2)))  # the table exists; every later scope is new

    def land(account: str) -> None:
        for i in range(4):
            lake.write(WINDOW, *_orders(f"{account}{i}", range(10 * i, 10 * i + 3), account))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        threads = [threading.Thread(target=land, args=(a,)) for a in ("t1", "t2")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not [w for w in caught if "did not match any records" in str(w.message)]
    assert len(contents(lake, WINDOW.name)) == 6 + 2 * 4 * 9


def test_a_commit_whose_answer_is_lost_keeps_its_files(
    lake_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalog takes the commit but the answer never arrives (network): write() raises, and must not
    delete the staged files the table now references; a re-run of the same staged write is a no-op."""
    catalog = open_local_catalog(lake_dir)
    lake = CuratedLake(catalog, "spapi")
    lake.write(WINDOW, *_orders("v1", range(0, 3)))
    real_commit = catalog.commit_table

    def commit_then_lose_the_answer(*args: Any, **kwargs: Any) -> Any:
        real_commit(*args, **kwargs)
        raise ConnectionError("connection reset after the request was sent")

    monkeypatch.setattr(catalog, "commit_table", commit_then_lose_the_answer)
    staged = lake.stage(WINDOW, *_orders("v2", range(2, 5)))
    with pytest.raises(ConnectionError):
        lake.commit_staged(WINDOW.name, [staged])
    with pytest.raises(ConnectionError):
        lake.write(WINDOW, *_orders("v3", range(10, 12)))
    monkeypatch.undo()
    rows = contents(lake, WINDOW.name)  # every referenced data file is still there
    assert sorted({r["version"] for r in rows}) == ["v1", "v2", "v3"] and len(rows) == 6 + 9 + 6
    [again] = lake.commit_staged(WINDOW.name, [StagedWrite.from_json(staged.to_json())])
    assert again.already_committed and contents(lake, WINDOW.name) == rows


def test_a_staged_write_whose_files_are_gone_fails_fatally_and_lands_nothing(
    curated_lake: CuratedLake,
) -> None:
    curated_lake.write(WINDOW, *_orders("v0", range(0, 3)))
    good = curated_lake.stage(WINDOW, *_orders("v1", range(1, 4)))
    lost = curated_lake.stage(WINDOW, *_orders("v2", range(5, 6)))
    Path(lost.files[0].removeprefix("file://")).unlink()  # e.g. swept as a leftover by mistake
    before = contents(curated_lake, WINDOW.name)
    with pytest.raises(FatalError, match="are gone"):
        curated_lake.commit_staged(WINDOW.name, [good, lost])
    assert contents(curated_lake, WINDOW.name) == before
    with pytest.raises(FatalError):
        curated_lake.commit_staged(WINDOW.name, [lost])
    [r] = curated_lake.commit_staged(WINDOW.name, [good])
    assert (r.rows_written, r.rows_deleted) == (9, 6)


@pytest.mark.parametrize("group", [False, True])
def test_a_gone_file_is_refused_even_where_the_key_pass_would_not_read_it(
    curated_lake: CuratedLake, group: bool
) -> None:
    """The first document of a table (and of an account) has no live rows to match, so no key pass opens
    its staged files: the commit must still refuse files that are gone instead of pointing the table at
    them (every later read of the table would fail)."""
    docs = [_orders("v1", range(0, 3))] + ([_orders("v2", range(3, 5), "beta")] if group else [])
    staged = [curated_lake.stage(WINDOW, *doc) for doc in docs]
    Path(staged[-1].files[0].removeprefix("file://")).unlink()
    with pytest.raises(FatalError, match="are gone"):
        curated_lake.commit_staged(WINDOW.name, staged)
    if group:  # the intact member still lands on its own, and the table reads
        curated_lake.commit_staged(WINDOW.name, staged[:1])
        assert len(contents(curated_lake, WINDOW.name)) == staged[0].rows > 0


def test_a_group_too_big_to_replay_in_memory_is_committed_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import splake.lake.commit

    monkeypatch.setattr(splake.lake.commit, "MAX_REPLAY_ROWS", 3)
    docs = [_orders("v1", range(0, 6)), _orders("v2", range(3, 9)), _orders("v3", range(5, 7), "beta")]
    reference = new_lake(tmp_path / "ref")
    singles = [reference.write(WINDOW, *doc) for doc in docs]
    lake = new_lake(tmp_path / "lake")
    results = lake.commit_staged(WINDOW.name, [lake.stage(WINDOW, *doc) for doc in docs])
    assert contents(lake, WINDOW.name) == contents(reference, WINDOW.name)
    assert [(r.rows_written, r.rows_deleted) for r in results] == [
        (r.rows_written, r.rows_deleted) for r in singles
    ]
    recorded = [
        s.summary.additional_properties[STAGED_IDS_PROPERTY]
        for s in lake.table(WINDOW.name).metadata.snapshots
        if s.summary and STAGED_IDS_PROPERTY in s.summary.additional_properties
    ]
    # one commit per document (a group commit records all ids together, comma-joined, once)
    assert all("," not in r for r in recorded) and len(set(recorded)) == 3
