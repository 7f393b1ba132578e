"""Crash safety of the notification consumer: `splake notifications consume` SIGKILLed at random points
while REPORT_PROCESSING_FINISHED messages (real SQS on a moto server, published by the sandbox) are being
applied, then re-run until the queue is empty.

Then: no completion was lost (a report still in flight in the ledger still has its message in the queue,
invisible until the killed consumer's visibility timeout ends; when none is left the following sync never
polls getReport), the sync lands exactly what an uninterrupted polling run lands (same row keys, none
twice), and no ledger entry is left in flight. (The SIGKILL test of `splake sync` itself is
tests/e2e/test_crash_resume.py.)
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from splake.auth.secrets import LocalSecretStore
from splake.config import NotificationSettings, Settings, dump_config
from splake.notifications.setup import setup_notifications
from splake.notifications.sqs import ensure_queue
from splake.reports import ledger, pipeline
from splake.reports.sync import sync
from splake.runners.local import LocalContext, default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets
from splake.state.sqlite import SqliteStateStore

ACCOUNT = "seller-na"
TYPES = (
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
    "GET_MERCHANT_LISTINGS_ALL_DATA",
    "GET_SALES_AND_TRAFFIC_REPORT",
)
SPLAKE = str(Path(sys.executable).parent / "splake")
SEED = 5
TIME_SCALE = 0.005


def _settings(
    url: str, lake: Path, world: Any, notifications: NotificationSettings | None = None
) -> Settings:
    base = demo_settings(
        url,
        lake,
        (ACCOUNT,),
        world=world,
        start_date=(datetime.now(UTC) - timedelta(days=3)).date(),
        lookback_days=1,
    )
    accounts = tuple(a.model_copy(update={"report_types": TYPES}) for a in base.accounts)
    s = base.model_copy(update={"accounts": accounts})
    return s.model_copy(update={"notifications": notifications}) if notifications else s


def _write_toml(s: Settings, path: Path) -> None:
    path.write_text(dump_config(s.model_copy(update={"log_level": "WARNING"})))


def _lake_keys(settings: Settings) -> dict[str, list[str]]:
    ctx = LocalContext.open(settings)
    engine = ctx.query_engine()
    try:
        return {
            t: sorted(engine.sql(f"select row_key from {t}").column("row_key").to_pylist())
            for t in engine.tables()
            if not t.endswith("__quarantine")
        }
    finally:
        engine.close()
        ctx.state.close()  # type: ignore[attr-defined]


async def _sync(settings: Settings) -> Any:
    ctx = LocalContext.open(settings)
    try:
        return await sync(settings, ctx, max_wait_seconds=120)
    finally:
        await ctx.aclose()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """An uninterrupted polling run (own sandbox, same seed)."""
    root = tmp_path_factory.mktemp("consumer-reference")
    with SandboxServer(SandboxConfig(seed=SEED, time_scale=TIME_SCALE)) as sb:
        s = _settings(sb.url, root, sb.world)
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)
        summary = asyncio.run(_sync(s))
    assert summary.failures == []
    return _lake_keys(s)


def _messages_left(moto_url: str, queue_url: str) -> int:
    import boto3

    sqs = boto3.client(
        "sqs",
        region_name="us-east-1",
        endpoint_url=moto_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    attrs = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def _consume_cmd(cfg: Path) -> list[str]:
    return [SPLAKE, "notifications", "consume", "--config", str(cfg), "--max", "200", "--wait", "1"]


def _check_seed(seed: int, tmp: Path, moto_url: str, reference: dict[str, list[str]]) -> None:
    rng = random.Random(seed)
    q = ensure_queue(
        f"splake-crash-{uuid.uuid4().hex[:8]}", region="us-east-1", endpoint_url=moto_url, max_receive_count=5
    )
    notif = NotificationSettings(
        enabled=True, queue_url=q.url, queue_arn=q.arn, dlq_url=q.dlq_url, aws_endpoint_url=moto_url
    )
    with SandboxServer(SandboxConfig(seed=SEED, time_scale=TIME_SCALE, aws_endpoint_url=moto_url)) as sb:
        s = _settings(sb.url, tmp / "lake", sb.world, notif)
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)
        cfg = tmp / "splake.toml"
        _write_toml(s, cfg)

        async def request_all() -> int:
            ctx = LocalContext.open(s)
            try:
                await setup_notifications(ctx.client, s)  # type: ignore[arg-type]
                n = 0
                for unit in pipeline.plan(ctx, ctx.clock()):
                    if unit.kind == "request":
                        out = await pipeline.request(ctx, unit, ctx.clock())
                        n += out.entry.in_flight
                return n
            finally:
                await ctx.aclose()

        requested = asyncio.run(request_all())
        assert requested >= 5
        time.sleep(1.0)  # reports finish (0.15 s) and their notifications are published
        delays = []
        for _ in range(rng.choice([1, 2, 3])):
            proc = subprocess.Popen(_consume_cmd(cfg), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            delay = rng.uniform(0.8, 3.5)
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
            delays.append(delay)
        final = subprocess.run(_consume_cmd(cfg), capture_output=True, text=True, timeout=120)
        assert final.returncode == 0, (delays, final.stdout[-2000:], final.stderr[-2000:])

        # no completion lost: a report still in flight in the ledger must still have its message in the
        # queue (received by a killed consumer, invisible until its visibility timeout ends) — never deleted
        store = SqliteStateStore(Path(s.lake.path) / "state.db")
        try:
            stuck = [(e.key, e.status) for e in ledger.entries(store) if e.in_flight]
        finally:
            store.close()
        in_queue = _messages_left(moto_url, q.url)
        assert len(stuck) <= in_queue, (delays, stuck, in_queue)

        seller = sb.world.account(ACCOUNT).selling_partner_id
        polls_before = sb.stats.requests_for("getReport", seller)
        summary = asyncio.run(_sync(s))  # the polling fallback completes whatever is still in flight
        assert summary.failures == [], delays
        if not stuck:
            assert sb.stats.requests_for("getReport", seller) == polls_before, (
                "sync polled a completed report"
            )
    got = _lake_keys(s)
    for table, keys in got.items():
        assert len(keys) == len(set(keys)), f"duplicate row keys in {table} (delays {delays})"
    assert got == reference, delays
    store = SqliteStateStore(Path(s.lake.path) / "state.db")
    try:
        left = [(e.key, e.status) for e in ledger.entries(store) if e.status not in ("INGESTED", "CANCELLED")]
    finally:
        store.close()
    assert left == [], delays


def test_consumer_sigkill_and_rerun_loses_nothing(reference, moto_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _check_seed(int(time.time()) % 1000, tmp_path, moto_server.url, reference)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(8))
def test_consumer_sigkill_many_seeds(reference, moto_server, tmp_path: Path, seed: int) -> None:  # type: ignore[no-untyped-def]
    _check_seed(seed, tmp_path, moto_server.url, reference)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(8, 16))
def test_sync_sigkill_more_seeds(tmp_path: Path, seed: int) -> None:
    """More seeds for the sync crash test of tests/e2e/test_crash_resume.py (reusing its checker)."""
    from tests.e2e import test_crash_resume as crash

    ref_root = tmp_path / "ref"
    with SandboxServer(SandboxConfig(seed=5, time_scale=crash.TIME_SCALE)) as sb:
        s = crash._settings(sb.url, ref_root, sb.world)
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)
        summary = asyncio.run(_sync(s))
    assert summary.failures == []
    crash._check_crash_seed(seed, tmp_path / "run", crash._lake_keys(s))
