"""Kills during the request phase never make a report be requested twice: `splake sync` SIGKILLed right as
createReport calls reach the sandbox (the report exists at "Amazon", the ledger may not know it yet), then
re-run to the end, makes exactly as many createReport calls as an uninterrupted run — the intent recorded
before each call makes the restart find the report with getReports instead of requesting it again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from splake.auth.secrets import LocalSecretStore
from splake.reports.sync import sync
from splake.runners.local import LocalContext, default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import seed_demo_secrets
from tests.e2e.test_crash_resume import TIME_SCALE, _settings, _sync_cmd, _write_toml

SEED = 5
SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
KILL_AT = (1, 2, 4, 5)  # kill as the n-th createReport reaches the sandbox


def _created(sb: Any) -> int:
    """Reports created at "Amazon" by createReport (settlements are only discovered). A call cut off by
    the kill before the sandbox created anything, or answered 429, creates no report and is not one."""
    return sum(1 for r in sb.state.reports.values() if r.report_type != SETTLEMENT)


def _calls(sb: Any) -> int:
    return int(sb.stats.requests_for("createReport"))


@pytest.fixture(scope="module")
def reference_creates(tmp_path_factory: pytest.TempPathFactory) -> int:
    root = tmp_path_factory.mktemp("reference-requests")
    with SandboxServer(SandboxConfig(seed=SEED, time_scale=TIME_SCALE)) as sb:
        s = _settings(sb.url, root, sb.world)
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)

        async def run() -> Any:
            ctx = LocalContext.open(s)
            try:
                return await sync(s, ctx, max_wait_seconds=120)
            finally:
                await ctx.aclose()

        assert asyncio.run(run()).failures == []
        return _created(sb)


def _kill_at_create(cfg: Path, sb: Any, target: int, deadline_s: float = 60.0) -> None:
    """Run `splake sync` and SIGKILL it the moment the sandbox has seen ``target`` createReport calls."""
    proc = subprocess.Popen(_sync_cmd(cfg), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    try:
        while proc.poll() is None and time.monotonic() - t0 < deadline_s:
            if _calls(sb) >= target:
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.002)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.slow  # ~50 s: two full syncs and four kills
def test_kills_during_request_phase_request_nothing_twice(reference_creates: int, tmp_path: Path) -> None:
    assert reference_creates >= 4
    with SandboxServer(SandboxConfig(seed=SEED, time_scale=TIME_SCALE)) as sb:
        s = _settings(sb.url, tmp_path / "lake", sb.world)
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)
        cfg = tmp_path / "splake.toml"
        _write_toml(s, cfg)
        for target in KILL_AT:
            _kill_at_create(cfg, sb, max(target, _calls(sb) + 1))
        final = subprocess.run(_sync_cmd(cfg), capture_output=True, text=True, timeout=240)
        assert final.returncode == 0, final.stdout[-3000:] + final.stderr[-3000:]
        assert _created(sb) == reference_creates


def test_pending_intent_reconciles_with_a_fresh_listing(tmp_path: Path) -> None:
    """The answer of a createReport was lost (the intent is in the ledger, the report exists at Amazon)
    while this run's getReports listing is cached from before: request() lists afresh and adopts it."""
    from datetime import UTC, datetime

    from splake.reports import ledger, pipeline, requesting

    with SandboxServer(SandboxConfig(seed=SEED, time_scale=0)) as sb:
        s = _settings(sb.url, tmp_path / "lake", sb.world)
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)

        async def run() -> tuple[str, str, str]:
            ctx = LocalContext.open(s)
            try:
                now = datetime.now(UTC)
                unit = next(
                    u for u in pipeline.plan(ctx, now) if u.report_type == "GET_SALES_AND_TRAFFIC_REPORT"
                )
                await pipeline.list_reports(  # this run's cached listing: taken before the call
                    ctx, unit.account_id, unit.report_type, requesting._listing_since(ctx, now)
                )
                ledger.save(ctx.state, ledger.on_create_intent(ledger.new_entry(unit), now))
                start, end = ledger.request_window(unit, True)
                body = {
                    "reportType": unit.report_type,
                    "marketplaceIds": list(unit.marketplace_ids),
                    "dataStartTime": start,
                    "dataEndTime": end,
                    **({"reportOptions": dict(unit.options)} if unit.options else {}),
                }
                lost = await ctx.client.call(ctx.account(unit.account_id), "createReport", json=body)
                out = await pipeline.request(ctx, unit, now)
                return str(lost.body["reportId"]), str(out.entry.report_id), out.action
            finally:
                await ctx.aclose()

        lost_id, adopted_id, action = asyncio.run(run())
        assert (adopted_id, action) == (lost_id, "reused")
        assert _created(sb) == 1
