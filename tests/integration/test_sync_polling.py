"""Polling against the real-time sandbox (official getReport rate: 2/s, burst 15 per seller): a seller with
15 reports in flight notices each one soon after Amazon finished it, without a 429 and without spending
its getReport budget on reports that cannot be done yet."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from splake.auth.secrets import LocalSecretStore
from splake.reports import ledger
from splake.reports.polling import load_times
from splake.reports.sync import sync
from splake.runners.local import LocalContext, default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets
from splake.state.sqlite import SqliteStateStore

TYPES = (
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
    "GET_MERCHANT_LISTINGS_ALL_DATA",
    "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
    "GET_SALES_AND_TRAFFIC_REPORT",
)
PROCESSING = 8.0  # seconds, real time


def test_fifteen_reports_of_a_seller_are_noticed_soon_after_they_finish(tmp_path: Path) -> None:
    with SandboxServer(SandboxConfig(seed=5, time_scale=1.0, processing_seconds=PROCESSING)) as sb:
        base = demo_settings(
            sb.url,
            tmp_path,
            ("seller-eu",),
            world=sb.world,
            start_date=(datetime.now(UTC) - timedelta(days=1)).date(),
            lookback_days=1,
        )
        s = base.model_copy(
            update={"accounts": tuple(a.model_copy(update={"report_types": TYPES}) for a in base.accounts)}
        )
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)

        async def go() -> int:
            ctx = LocalContext.open(s)
            try:
                return len((await sync(s, ctx, max_wait_seconds=120)).failures)
            finally:
                await ctx.aclose()

        assert asyncio.run(go()) == 0
        requests = {op: n for (_, op), n in sb.stats.requests.items()}
        throttled = sum(sb.stats.throttled.values())
    state = SqliteStateStore(tmp_path / "state.db")
    entries = [e for e in ledger.entries(state) if e.report_id]
    assert len(entries) == 15 and requests["createReport"] == 15
    assert throttled == 0
    # Amazon's processingEndTime is whole seconds (the report finished up to 1 s after it): noticed within
    # ~2 s of finishing. Polling each report on its own 0.2..2 s backoff queued 15 reports behind one
    # 2 r/s bucket: a finished report waited up to 15 / 2 s = 7.5 s for its turn.
    late = sorted((e.completed_at - e.processed_at).total_seconds() for e in entries)  # type: ignore[operator]
    assert late[-1] <= 3.0, late
    # the 15 reports once each, plus the oldest's backoff polls while nothing was known (0.2 s doubling,
    # capped at 2 s: about 8 in 8 s), plus a few re-polls of reports polled a moment too early (measured:
    # 22; each report on its own backoff: 44)
    assert requests["getReport"] <= 30, requests
    # the next sync starts knowing how long each type takes (Amazon's timestamps: whole seconds)
    remembered = load_times(state)
    for name in TYPES:
        expected = remembered.expected(name)
        assert expected is not None and PROCESSING - 1.5 <= expected <= PROCESSING + 1.5, (name, expected)
