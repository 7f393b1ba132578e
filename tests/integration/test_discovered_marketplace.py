"""A settlement Amazon lists for a marketplace the account does not configure (a CA settlement of a unified
NA account configured for US only) lands under its real marketplace, never relabelled as the first
configured one. Ground truth: the sandbox world's settlement periods (their marketplace)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from splake.auth.secrets import LocalSecretStore
from splake.reports.attribution import attribute
from splake.reports.sync import sync
from splake.runners.local import LocalContext, default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets

SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
US, CA = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"


def test_unlisted_marketplace_settlement_lands_under_its_own_marketplace(tmp_path: Path) -> None:
    with SandboxServer(SandboxConfig(seed=7, time_scale=0.0)) as sb:
        base = demo_settings(
            sb.url,
            tmp_path,
            ("seller-na",),
            world=sb.world,
            start_date=(datetime.now(UTC) - timedelta(days=30)).date(),
        )
        accounts = tuple(
            a.model_copy(update={"marketplaces": (US,), "report_types": (SETTLEMENT,)}) for a in base.accounts
        )
        s = base.model_copy(update={"accounts": accounts})
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)

        async def go():  # type: ignore[no-untyped-def]
            ctx = LocalContext.open(s)
            try:
                return await sync(s, ctx, max_wait_seconds=60)
            finally:
                await ctx.aclose()

        summary = asyncio.run(go())
        assert summary.exit_code == 0, summary.failures
        spid = sb.world.account("seller-na").selling_partner_id
        periods = sb.world.settlements(spid, datetime.now(UTC) - timedelta(days=90), datetime.now(UTC))
        truth = {p.settlement_id: p.marketplace_id for p in periods}
        assert CA in truth.values() and US in truth.values()  # the world has both

        ctx = LocalContext.open(s)
        try:
            engine = ctx.query_engine()
            landed = engine.sql("select distinct settlement_id, marketplace_id from settlements").to_pylist()
            engine.close()
        finally:
            asyncio.run(ctx.aclose())
        assert landed, "no settlement landed"
        got = {r["settlement_id"]: r["marketplace_id"] for r in landed}
        assert len(got) == len(landed)  # one marketplace per settlement
        assert CA in got.values()
        for sid, mid in got.items():
            assert truth[sid] == mid, f"settlement {sid} landed as {mid}, is {truth[sid]}"


def test_attribution_rules() -> None:
    assert attribute({"reportId": "1", "marketplaceIds": [CA]}, (US,)).marketplace_ids == (CA,)
    note = attribute({"reportId": "1", "marketplaceIds": [CA]}, (US,)).note
    assert note is not None and "CA" in note
    assert attribute({"reportId": "2", "marketplaceIds": [US]}, (US,)).note is None
    skipped = attribute({"reportId": "3"}, (US, CA))
    assert skipped.marketplace_ids == () and skipped.note and "skipped" in skipped.note
