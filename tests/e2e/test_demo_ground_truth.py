"""End to end: the demo accounts synced from the sandbox land every report type, and the curated tables hold
exactly the sandbox's ground truth (``World.report_rows``) — including Japanese titles decoded from cp932."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from splake.auth.secrets import LocalSecretStore
from splake.reports import ledger
from splake.reports.planner import floor_time
from splake.reports.sync import sync
from splake.reports.types import REPORT_TYPES, snake_case
from splake.runners.demo import DEMO_ACCOUNTS, DEMO_TYPES, all_types_settings
from splake.runners.local import LocalContext, default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets

JP = "A1VC38T7YXB528"


def _expected_rows(world: Any, e: ledger.LedgerEntry, spid: str) -> list[dict[str, Any]]:
    spec = REPORT_TYPES[e.unit.report_type]
    assert e.created_time is not None, f"no createdTime recorded for {e.key}"
    w = e.unit.window
    if w.start is None:  # snapshot: Amazon uses "now" (the creation time) for both ends
        start = end = e.created_time
    elif e.unit.kind == "discover":
        start, end = w.start, w.end
    else:
        start, end = w.start, w.end - timedelta(seconds=1) if spec.end_inclusive else w.end
    return world.report_rows(
        e.unit.report_type,
        spid,
        list(e.unit.marketplace_ids),
        start,
        end,
        dict(e.unit.options),
        as_of=e.created_time,
    )


def _key(spec: Any, mp: str, row: dict[str, Any]) -> tuple[Any, ...]:
    by_snake = {snake_case(k): v for k, v in row.items()}
    return (mp, *(by_snake.get(k) or None for k in spec.key_columns))


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("demo")
    with SandboxServer(SandboxConfig(seed=11, time_scale=0.01)) as sb:
        start = (datetime.now(UTC) - timedelta(days=4)).date()  # vendor data lags 72 h
        settings = all_types_settings(
            demo_settings(sb.url, root, DEMO_ACCOUNTS, world=sb.world, start_date=start, lookback_days=1)
        )
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(settings)), sb.world, settings)

        async def run():  # type: ignore[no-untyped-def]
            ctx = LocalContext.open(settings)
            try:
                return await sync(settings, ctx, max_wait_seconds=240)
            finally:
                await ctx.aclose()

        summary = asyncio.run(run())
        ctx = LocalContext.open(settings)
        yield sb.world, settings, summary, ctx
        ctx.state.close()


def test_every_report_type_lands_without_failures(synced) -> None:  # type: ignore[no-untyped-def]
    _world, _settings, summary, ctx = synced
    assert summary.failures == []
    assert summary.exit_code == 0
    counts = ctx.lake.table_stats()
    for spec in (REPORT_TYPES[n] for n in DEMO_TYPES):
        assert counts.get(spec.table, 0) > 0, f"{spec.name} landed no rows"
    entries = ledger.entries(ctx.state)
    assert entries and all(e.status in ("INGESTED", "CANCELLED") for e in entries), [
        (e.key, e.status, e.reason) for e in entries if e.status not in ("INGESTED", "CANCELLED")
    ]


def test_row_counts_equal_ground_truth(synced) -> None:  # type: ignore[no-untyped-def]
    world, settings, _summary, ctx = synced
    spid = {a.id: a.selling_partner_id for a in settings.accounts}
    expected: dict[str, set[tuple[Any, ...]] | int] = {}
    for e in ledger.entries(ctx.state):
        if e.status != "INGESTED":
            continue
        spec = REPORT_TYPES[e.unit.report_type]
        rows = _expected_rows(world, e, spid[e.account_id])
        assert len(rows) == e.rows + e.quarantined, e.key
        if spec.format == "tsv":
            # documents can overlap (an order updated again lands in two by-last-update windows): the lake
            # keeps one row per key, occurrence-numbered for exact repeats
            keys = expected.setdefault(spec.table, set())
            assert isinstance(keys, set)
            seen: dict[tuple[Any, ...], int] = {}
            for r in rows:
                k = _key(spec, e.unit.marketplace_ids[0], r)
                seen[k] = seen.get(k, 0) + 1
                keys.add((e.account_id, *k, seen[k]))
        else:
            expected[spec.table] = int(expected.get(spec.table, 0)) + len(rows)  # type: ignore[arg-type]
    counts = ctx.lake.table_stats()
    got = {t: counts.get(t, 0) for t in expected}
    want = {t: (len(v) if isinstance(v, set) else v) for t, v in expected.items()}
    assert got == want


def test_lake_has_no_duplicate_row_keys(synced) -> None:  # type: ignore[no-untyped-def]
    _, _, _, ctx = synced
    engine = ctx.query_engine()
    try:
        for spec in (REPORT_TYPES[n] for n in DEMO_TYPES):
            dup = engine.sql(f"select count(*) - count(distinct row_key) as d from {spec.table}").column("d")[
                0
            ]
            assert dup.as_py() == 0, spec.table
    finally:
        engine.close()


def test_japanese_titles_round_trip(synced) -> None:  # type: ignore[no-untyped-def]
    world, settings, _, ctx = synced
    e = next(
        e
        for e in ledger.entries(ctx.state, "seller-jp")
        if e.unit.report_type == "GET_MERCHANT_LISTINGS_ALL_DATA" and e.status == "INGESTED"
    )
    truth = {
        r["seller-sku"]: r["item-name"]
        for r in _expected_rows(world, e, settings.account("seller-jp").selling_partner_id)
    }
    assert any(any("\u3040" <= ch <= "\u9fff" for ch in t) for t in truth.values())  # real Japanese text
    engine = ctx.query_engine()
    try:
        got = engine.sql(f"select seller_sku, item_name from merchant_listings where marketplace_id = '{JP}'")
    finally:
        engine.close()
    assert (
        dict(zip(got.column("seller_sku").to_pylist(), got.column("item_name").to_pylist(), strict=True))
        == truth
    )


def test_second_run_requests_nothing_new(synced, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Re-running right away reuses the ledger: no createReport (except a snapshot whose refresh slot rolled
    over between the runs), no failures, and the lake keeps its row counts."""
    _world, settings, first, ctx = synced
    before = ctx.lake.table_stats()
    with SandboxServer(SandboxConfig(seed=11, time_scale=0.01)) as sb:
        s2 = settings.model_copy(
            update={
                "spapi": settings.spapi.model_copy(update={"endpoint_override": sb.url}),
                "lwa": settings.lwa.model_copy(update={"token_url": sb.url + "/auth/o2/token"}),
            }
        )

        async def run():  # type: ignore[no-untyped-def]
            c2 = LocalContext.open(s2)
            try:
                return await sync(s2, c2, max_wait_seconds=60)
            finally:
                await c2.aclose()

        summary = asyncio.run(run())
        creates = sum(n for (_, op), n in sb.stats.requests.items() if op == "createReport")
    rolled = {
        name
        for name, spec in REPORT_TYPES.items()
        if name in DEMO_TYPES
        and not spec.windowed
        and floor_time(first.started_at, spec.refresh_interval)
        != floor_time(summary.started_at, spec.refresh_interval)
    }
    unexpected = [(k, v.created) for k, v in summary.streams.items() if v.created and k[1] not in rolled]
    assert unexpected == []
    assert creates == summary.created
    assert summary.failures == []
    after = ctx.lake.table_stats()
    assert {t: n for t, n in after.items() if t not in {REPORT_TYPES[r].table for r in rolled}} == {
        t: n for t, n in before.items() if t not in {REPORT_TYPES[r].table for r in rolled}
    }
