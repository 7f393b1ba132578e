"""Sync under injected faults (5xx, spurious 429s, truncated downloads, corrupt gzip): everything is retried
within the run and the lake still equals the sandbox's ground truth."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from splake.auth.secrets import LocalSecretStore
from splake.reports import ledger
from splake.reports.sync import sync
from splake.reports.types import REPORT_TYPES
from splake.runners.local import LocalContext, default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets

TYPES = (
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
    "GET_MERCHANT_LISTINGS_ALL_DATA",
    "GET_SALES_AND_TRAFFIC_REPORT",
)


def test_sync_converges_under_faults(tmp_path: Path) -> None:
    cfg = SandboxConfig(
        seed=9,
        time_scale=0.005,
        error_rate=0.08,
        spurious_429_rate=0.08,
        truncate_download_rate=0.15,
        corrupt_gzip_rate=0.15,
    )
    with SandboxServer(cfg) as sb:
        base = demo_settings(
            sb.url,
            tmp_path,
            ("seller-jp",),
            world=sb.world,
            start_date=(datetime.now(UTC) - timedelta(days=2)).date(),
        )
        s = base.model_copy(
            update={
                "accounts": tuple(a.model_copy(update={"report_types": TYPES}) for a in base.accounts),
                "spapi": base.spapi.model_copy(update={"max_retries": 8}),
            }
        )
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)

        async def run():  # type: ignore[no-untyped-def]
            ctx = LocalContext.open(s)
            try:
                return await sync(s, ctx, max_wait_seconds=90)
            finally:
                await ctx.aclose()

        summary = asyncio.run(run())
        faults = dict(sb.stats.faults)
    assert summary.failures == [], summary.failures
    assert sum(faults.values()) > 0, "no fault was injected; the test would prove nothing"
    ctx = LocalContext.open(s)
    try:
        spid = s.accounts[0].selling_partner_id
        expected: dict[str, int] = {}
        for e in ledger.entries(ctx.state):
            assert e.status in ("INGESTED", "CANCELLED"), (e.key, e.status, e.reason)
            if e.status != "INGESTED":
                continue
            assert e.created_time is not None
            w = e.unit.window
            start, end = (
                (e.created_time, e.created_time)
                if w.start is None
                else (w.start, w.end - timedelta(seconds=1))
            )
            rows = sb.world.report_rows(
                e.unit.report_type,
                spid,
                list(e.unit.marketplace_ids),
                start,
                end,
                dict(e.unit.options),
                as_of=e.created_time,
            )
            table = REPORT_TYPES[e.unit.report_type].table
            expected[table] = expected.get(table, 0) + len(rows)
        counts = ctx.lake.table_stats()
        assert {t: counts.get(t, 0) for t in expected} == expected
    finally:
        ctx.state.close()  # type: ignore[attr-defined]
