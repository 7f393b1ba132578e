"""`run_sync` (what `splake sync` runs): 429s seen by the client are kept in the state for the health
page, and accumulate across runs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from splake.auth.secrets import LocalSecretStore
from splake.insights.health import throttle_counts
from splake.runners.local import (
    THROTTLES_NAMESPACE,
    LocalContext,
    default_secrets_dir,
    record_throttles,
    run_sync,
)
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets
from splake.state.sqlite import SqliteStateStore

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def test_record_throttles_accumulates(tmp_path: Path) -> None:
    state = SqliteStateStore(tmp_path / "state.db")
    record_throttles(state, {("seller-na", "getReport"): 3, ("seller-na", "createReport"): 0}, NOW)
    record_throttles(state, {("seller-na", "getReport"): 2, ("seller-eu", "getReport"): 1}, NOW)
    items = {(i["account_id"], i["operation"]): i["throttled"] for i in state.scan(THROTTLES_NAMESPACE)}
    assert items == {("seller-na", "getReport"): 5, ("seller-eu", "getReport"): 1}
    assert sum(throttle_counts(state.scan(THROTTLES_NAMESPACE)).values()) == 6


@pytest.mark.slow  # a 429 before a rate header is known waits out the documented createReport rate (~60 s)
def test_run_sync_records_the_429s_the_sandbox_sent(tmp_path: Path) -> None:
    cfg = SandboxConfig(seed=3, time_scale=0.005, spurious_429_rate=0.3)
    with SandboxServer(cfg) as sb:
        base = demo_settings(
            sb.url,
            tmp_path,
            ("seller-jp",),
            world=sb.world,
            start_date=(datetime.now(UTC) - timedelta(days=1)).date(),
        )
        s = base.model_copy(
            update={
                "accounts": tuple(
                    a.model_copy(update={"report_types": ("GET_MERCHANT_LISTINGS_ALL_DATA",)})
                    for a in base.accounts
                ),
                "spapi": base.spapi.model_copy(update={"max_retries": 10}),
            }
        )
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)

        async def run() -> int:
            ctx = LocalContext.open(s)
            try:
                summary = await run_sync(s, ctx, max_wait_seconds=60)
                return summary.exit_code
            finally:
                await ctx.aclose()

        assert asyncio.run(run()) == 0
        sent = sum(sb.stats.throttled.values())
    state = SqliteStateStore(tmp_path / "state.db")
    recorded = sum(int(i["throttled"]) for i in state.scan(THROTTLES_NAMESPACE))
    assert sent > 0, "no 429 was injected; the test would prove nothing"
    assert recorded == sent
