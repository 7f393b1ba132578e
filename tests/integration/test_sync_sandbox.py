"""Sync against the sandbox: FATAL handling + cooldown (never loops), the shared completion transition fed
like a REPORT_PROCESSING_FINISHED notification, and the CLI commands around sync."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from splake.auth.secrets import LocalSecretStore
from splake.cli import app
from splake.config import Settings, starter_config
from splake.reports import ledger, pipeline
from splake.reports.sync import sync
from splake.runners.local import LocalContext, default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets

ST = "GET_SALES_AND_TRAFFIC_REPORT"
LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"


def _settings(sb: Any, root: Path, types: tuple[str, ...]) -> Settings:
    base = demo_settings(
        sb.url,
        root,
        ("seller-jp",),
        world=sb.world,
        start_date=(datetime.now(UTC) - timedelta(days=1)).date(),
    )
    accounts = tuple(a.model_copy(update={"report_types": types}) for a in base.accounts)
    s = base.model_copy(update={"accounts": accounts})
    seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)
    return s


def _run(s: Settings, **kw: Any):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        ctx = LocalContext.open(s)
        try:
            return await sync(s, ctx, max_wait_seconds=60, **kw)
        finally:
            await ctx.aclose()

    return asyncio.run(go())


def _creates(sb: Any) -> int:
    return sum(n for (_, op), n in sb.stats.requests.items() if op == "createReport")


def test_fatal_is_recorded_explained_cooled_down_and_never_looped(tmp_path: Path) -> None:
    with SandboxServer(SandboxConfig(seed=3, time_scale=0.005, fatal_report_types=(ST,))) as sb:
        s = _settings(sb, tmp_path, (ST,))
        first = _run(s)
        assert first.exit_code == 1
        assert first.failures and all("FATAL" in f for _, _, f in first.failures)
        # the FATAL document's explanation is recorded as the reason
        assert any("internal error" in f.lower() for _, _, f in first.failures), first.failures
        creates = _creates(sb)
        store_ctx = LocalContext.open(s)
        entries = ledger.entries(store_ctx.state)
        store_ctx.state.close()  # type: ignore[attr-defined]
        assert entries and all(e.status == "FATAL" and e.cooldown_until for e in entries)
        # a re-run inside the cooldown requests nothing and does not fail again
        second = _run(s)
        assert _creates(sb) == creates
        assert second.exit_code == 0
        assert sum(st.cooldown for st in second.streams.values()) == len(entries)


def test_notification_style_completion_feeds_the_same_ledger_transition(tmp_path: Path) -> None:
    with SandboxServer(SandboxConfig(seed=4, time_scale=0.005)) as sb:
        s = _settings(sb, tmp_path, (LISTINGS,))

        async def go() -> None:
            ctx = LocalContext.open(s)
            try:
                now = ctx.clock()
                (unit,) = pipeline.plan(ctx, now)
                out = await pipeline.request(ctx, unit, now)
                assert out.action == "created" and out.entry.report_id
                rid = out.entry.report_id
                # the sandbox finishes the report; we learn it the way a REPORT_PROCESSING_FINISHED message
                # tells it (reportId, status, documentId) — no getReport polling
                deadline = time.monotonic() + 20
                while not sb.state.reports[rid].finalized:
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.05)
                rec = sb.state.reports[rid]
                polls_before = sb.stats.requests.get((rec.selling_partner_id, "getReport"), 0)
                done = pipeline.complete(ctx, rid, rec.status, rec.document_id, account_id="seller-jp")
                assert done is not None and done.status == "DONE"
                again = pipeline.complete(ctx, rid, "DONE", rec.document_id, account_id="seller-jp")
                assert again == done  # duplicate notification: no-op
                assert pipeline.complete(ctx, "no-such-report", "DONE", "x") is None
                res = await pipeline.ingest(ctx, done)
                assert res.rows > 0 and res.entry.status == "INGESTED"
                assert sb.stats.requests.get((rec.selling_partner_id, "getReport"), 0) == polls_before
                # ingest is idempotent
                res2 = await pipeline.ingest(ctx, done)
                assert res2.skipped and res2.rows == res.rows
                assert ctx.lake.table_stats()["merchant_listings"] == res.rows
            finally:
                await ctx.aclose()

        asyncio.run(go())


@pytest.fixture
def synced_cfg(tmp_path: Path):  # type: ignore[no-untyped-def]
    with SandboxServer(SandboxConfig(seed=6, time_scale=0.005)) as sb:
        s = _settings(sb, tmp_path / "lake", (LISTINGS,))
        cfg = tmp_path / "splake.toml"
        a = s.accounts[0]
        cfg.write_text(
            "\n".join(
                [
                    "[lake]",
                    f'path = "{s.lake.path}"',
                    "[lwa]",
                    f'client_id = "{s.lwa.client_id}"',
                    f'token_url = "{s.lwa.token_url}"',
                    "[spapi]",
                    f'endpoint_override = "{s.spapi.endpoint_override}"',
                    "[sync]",
                    "poll_initial_seconds = 0.2",
                    "[[accounts]]",
                    f'id = "{a.id}"',
                    f'region = "{a.region}"',
                    f'selling_partner_id = "{a.selling_partner_id}"',
                    'marketplaces = ["JP"]',
                    f'report_types = ["{LISTINGS}"]',
                ]
            )
            + "\n"
        )
        yield cfg, sb


def test_cli_sync_status_query(synced_cfg) -> None:  # type: ignore[no-untyped-def]
    cfg, _ = synced_cfg
    runner = CliRunner()
    r = runner.invoke(app, ["sync", "--config", str(cfg), "--quiet"])
    assert r.exit_code == 0, r.output
    assert "merchant_listings" in r.output and "rows landed" in r.output
    r = runner.invoke(app, ["reports", "status", "--config", str(cfg)])
    assert r.exit_code == 0 and "seller-jp" in r.output and "merchant_listings" in r.output
    r = runner.invoke(app, ["reports", "status", "--config", str(cfg), "--json"])
    assert '"status": "INGESTED"' in r.output
    r = runner.invoke(
        app,
        ["query", "--config", str(cfg), "--format", "json", "select count(*) as n from merchant_listings"],
    )
    assert r.exit_code == 0 and '"n": ' in r.output and '"n": 0' not in r.output
    r = runner.invoke(app, ["query", "--config", str(cfg), "select * from no_such_table"])
    assert r.exit_code != 0


def test_cli_errors_are_actionable(tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["sync", "--config", str(tmp_path / "missing.toml")])
    assert r.exit_code == 2 and "splake init" in r.output
    r = runner.invoke(app, ["init", "--print"])
    assert r.exit_code == 0 and r.output == starter_config()
    target = tmp_path / "splake.toml"
    r = runner.invoke(app, ["init", "--path", str(target)])
    assert r.exit_code == 0 and target.read_text() == starter_config()
    r = runner.invoke(app, ["init", "--path", str(target)])
    assert r.exit_code == 2 and "--force" in r.output


def test_report_unknown_at_amazon_is_given_up_not_polled_forever(tmp_path: Path) -> None:
    with SandboxServer(SandboxConfig(seed=8, time_scale=0.005)) as sb:
        s = _settings(sb, tmp_path, (LISTINGS,))

        async def go() -> None:
            ctx = LocalContext.open(s)
            try:
                now = ctx.clock()
                (unit,) = pipeline.plan(ctx, now)
                ghost = ledger.on_report_obtained(
                    ledger.new_entry(unit), "99999999999", "IN_QUEUE", now, reused=False
                )
                ghost = ledger.save(ctx.state, ghost)
                out = await pipeline.check(ctx, ghost, now)
                assert out.status == "FATAL" and "404" in (out.reason or "")
                assert out.cooldown_until is not None and out.cooldown_until > now
            finally:
                await ctx.aclose()

        asyncio.run(go())


def test_localized_jp_headers_and_vendor_latency(tmp_path: Path) -> None:
    """JP Seller Central headers (repeated 適用外 labels) map to the English columns by position, and vendor
    windows stop 72 h before now, so a sandbox that FATALs too-recent vendor data never fails the sync."""
    cfg = SandboxConfig(seed=12, time_scale=0.005, localized_headers=True, vendor_data_delay_hours=72)
    with SandboxServer(cfg) as sb:
        base = demo_settings(
            sb.url,
            tmp_path,
            ("seller-jp", "vendor-na"),
            world=sb.world,
            start_date=(datetime.now(UTC) - timedelta(days=6)).date(),
        )
        types = {"seller": (LISTINGS,), "vendor": ("GET_VENDOR_SALES_REPORT",)}
        s = base.model_copy(
            update={
                "accounts": tuple(a.model_copy(update={"report_types": types[a.type]}) for a in base.accounts)
            }
        )
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)
        summary = _run(s)
        assert summary.failures == [], summary.failures
        ctx = LocalContext.open(s)
        try:
            (e,) = [x for x in ledger.entries(ctx.state, "seller-jp") if x.status == "INGESTED"]
            assert e.created_time is not None
            truth = sb.world.report_rows(
                LISTINGS, s.account("seller-jp").selling_partner_id, list(e.unit.marketplace_ids),
                e.created_time, e.created_time, {}, as_of=e.created_time,
            )  # fmt: skip
            engine = ctx.query_engine()
            try:
                got = engine.sql("select seller_sku, item_name, price from merchant_listings").to_pylist()
                cols = engine.sql("select * from merchant_listings limit 0").column_names
            finally:
                engine.close()
            assert {r["seller_sku"]: r["item_name"] for r in got} == {
                r["seller-sku"]: r["item-name"] for r in truth
            }
            assert all(r["price"] is not None for r in got)
            assert not any(not c.isascii() for c in cols)  # no Japanese column names leaked into the schema
            docs = [d for d in ctx.raw.iter_documents("raw/") if d.meta.get("report_type") == LISTINGS]
            with docs[0].open_decoded() as fh:
                header = fh.readline().decode("cp932")
            assert header.startswith("商品名\t")  # the document really had the localized header
            vendor = [x for x in ledger.entries(ctx.state, "vendor-na")]
            assert vendor and all(x.status == "INGESTED" for x in vendor)
        finally:
            ctx.state.close()  # type: ignore[attr-defined]
