"""A lake copied (`cp -a`) or moved (`mv`) with the config pointing at its new place: syncing the copy
three times leaves every byte of the original unchanged and both answer queries; the moved lake answers
queries and syncs (before location independence, the copy's commits landed in the original's warehouse
and expired its current metadata)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from splake.auth.secrets import LocalSecretStore
from splake.config import LakeSettings, Settings
from splake.reports.sync import sync
from splake.runners.local import LocalContext, default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets

TYPES = ("GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL", "GET_MERCHANT_LISTINGS_ALL_DATA")


def _settings(url: str, lake: Path, world: Any) -> Settings:
    base = demo_settings(
        url, lake, ("seller-jp",), world=world, start_date=(datetime.now(UTC) - timedelta(days=2)).date()
    )
    accounts = tuple(a.model_copy(update={"report_types": TYPES}) for a in base.accounts)
    # re-request every run (no reuse of fresh reports), so each sync commits to the lake again
    return base.model_copy(
        update={"accounts": accounts, "sync": base.sync.model_copy(update={"reuse_done_within_hours": 0})}
    )


def _at(s: Settings, lake: Path) -> Settings:
    return s.model_copy(update={"lake": LakeSettings(path=str(lake))})


def _sync(s: Settings) -> None:
    async def run() -> Any:
        ctx = LocalContext.open(s)
        try:
            return await sync(s, ctx, max_wait_seconds=60)
        finally:
            await ctx.aclose()

    summary = asyncio.run(run())
    assert summary.failures == [], summary.failures


def _counts(s: Settings) -> dict[str, int]:
    ctx = LocalContext.open(s)
    engine = ctx.query_engine()
    try:
        return {t: int(engine.sql(f"select count(*) from {t}").column(0)[0].as_py()) for t in engine.tables()}
    finally:
        engine.close()
        ctx.state.close()  # type: ignore[attr-defined]


def _digest(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            p = Path(dirpath) / name
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def sandbox():  # type: ignore[no-untyped-def]
    with SandboxServer(SandboxConfig(seed=3, time_scale=0.002)) as sb:
        yield sb


def test_copied_lake_synced_three_times_leaves_original_untouched(sandbox, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = tmp_path / "lakeA"
    s_a = _settings(sandbox.url, a, sandbox.world)
    seed_demo_secrets(LocalSecretStore(default_secrets_dir(s_a)), sandbox.world, s_a)
    _sync(s_a)
    counts_a = _counts(s_a)
    assert set(counts_a) >= {"orders_by_order_date", "merchant_listings"}
    before = _digest(a)
    b = tmp_path / "lakeB"
    shutil.copytree(a, b, symlinks=True)  # cp -a
    s_b = _at(s_a, b)
    for _ in range(3):
        _sync(s_b)
        ctx = LocalContext.open(s_b)
        try:
            ctx.lake.expire_snapshots(datetime.now(UTC) + timedelta(days=1), retain_last=1)
        finally:
            ctx.state.close()  # type: ignore[attr-defined]
    assert _digest(a) == before, "syncing the copy changed the original"
    assert _counts(s_a) == counts_a
    assert _counts(s_b) == counts_a  # same sandbox data, re-landed: same live rows


def test_moved_lake_answers_queries_and_syncs(sandbox, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = tmp_path / "here"
    s_a = _settings(sandbox.url, a, sandbox.world)
    seed_demo_secrets(LocalSecretStore(default_secrets_dir(s_a)), sandbox.world, s_a)
    _sync(s_a)
    counts = _counts(s_a)
    b = tmp_path / "elsewhere" / "lake"
    b.parent.mkdir()
    a.rename(b)  # mv, then the config's [lake].path points at the new place
    s_b = _at(s_a, b)
    assert _counts(s_b) == counts
    _sync(s_b)
    assert _counts(s_b) == counts
    assert not a.exists()
