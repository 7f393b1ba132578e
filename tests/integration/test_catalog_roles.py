"""A report type needing a role the seller's authorization lacks ends once, with a message naming the roles
that grant it: Amazon answers 403 and splake does not retry (no loop), while the other types still land."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from splake.auth.secrets import LocalSecretStore
from splake.reports import ledger
from splake.reports.sync import sync
from splake.runners.demo import all_types_settings
from splake.runners.local import LocalContext, default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets

BA = "GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT"
FEES = "GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA"


def test_missing_role_fails_once_with_the_roles_to_add(tmp_path: Path) -> None:
    roles = {"seller-na": ("Amazon Fulfillment", "Inventory and Order Tracking")}  # no Brand Analytics
    with SandboxServer(SandboxConfig(seed=3, time_scale=0.005, account_roles=roles)) as sb:
        base = demo_settings(
            sb.url,
            tmp_path,
            ("seller-na",),
            world=sb.world,
            start_date=(datetime.now(UTC) - timedelta(days=4)).date(),
            lookback_days=0,
        )
        base = base.model_copy(
            update={
                "accounts": tuple(
                    a.model_copy(update={"marketplaces": ("ATVPDKIKX0DER",)}) for a in base.accounts
                )
            }
        )
        settings = all_types_settings(base, (BA, FEES))
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(settings)), sb.world, settings)

        async def run():  # type: ignore[no-untyped-def]
            ctx = LocalContext.open(settings)
            try:
                return await sync(settings, ctx, max_wait_seconds=60)
            finally:
                await ctx.aclose()

        summary = asyncio.run(run())
        calls: dict[str, int] = {}
        for (_, op), n in sb.stats.requests.items():
            calls[op] = calls.get(op, 0) + n
    failures = [f for _acct, t, f in summary.failures if t == BA]
    assert failures, summary.failures
    text = " ".join(failures)
    assert "HTTP 403" in text and "lacks the role" in text
    assert "Brand Analytics" in text and "authorize it again" in text
    # the denied type is asked once for all its windows (no loop, no retry), and nothing was created for it
    ctx = LocalContext.open(settings)
    try:
        entries = ledger.entries(ctx.state)
    finally:
        ctx.state.close()
    assert not [e for e in entries if e.unit.report_type == BA and e.report_id]
    assert [e.status for e in entries if e.unit.report_type == FEES] == ["INGESTED"]
    assert calls.get("createReport", 0) == 1  # the fee report only
    assert (
        calls.get("getReports", 0) <= 3
    )  # one listing per type (+ the fee report's reconciliation), no loop
    assert [t for _a, t, _f in summary.failures] == [BA]  # one failure for its two windows
