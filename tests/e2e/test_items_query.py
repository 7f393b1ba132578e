"""End to end: listings report (reports pipeline) → registry → catalog + listings sync → one SQL question.

"Title, sales rank and listing status per SKU" is answered by joining the curated listings report table
with catalog_items and listings_items through the real QueryEngine (DuckDB over the Iceberg tables), and
checked against the sandbox's ground truth.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from splake.cli import app
from splake.items.feed import feed_from_listings_report, listings_report_table
from splake.items.registry import Registry
from splake.items.sync import sync_items
from splake.reports.sync import sync as sync_reports
from splake.runners.local import LocalContext
from splake.sandbox.catalog import language_of, products_for
from tests.integration.items_helpers import sandbox_settings, seed_secrets

US = "ATVPDKIKX0DER"


async def test_title_rank_and_status_per_sku(sandbox_factory, tmp_path: Path) -> None:
    sb = sandbox_factory(scale=0.05)  # a small world: 75 SKUs per seller
    settings = sandbox_settings(
        sb,
        tmp_path / "lake",
        ("seller-na",),
        sync={"poll_initial_seconds": 0.05, "poll_max_seconds": 0.2, "lookback_days": 1},
    )
    secrets = seed_secrets(sb, settings, tmp_path / "secrets")
    ctx = LocalContext.open(settings, secrets=secrets)
    try:
        summary = await sync_reports(
            settings, ctx, report_types=["GET_MERCHANT_LISTINGS_ALL_DATA"], max_wait_seconds=60
        )
        assert summary.rows > 0, summary
        table = listings_report_table()
        q = ctx.query_engine()
        changed = feed_from_listings_report(Registry(ctx.state), q, ["seller-na"], datetime.now(UTC))
        assert changed > 0
        items = await sync_items(ctx)
        assert items.listings_missing == 0

        sql = f"""
            select r.seller_sku as sku, c.item_name as title, c.sales_rank, l.status as listing_status,
                   r.marketplace_id
            from "{table}" r
            join catalog_items c on c.asin = r.asin1 and c.marketplace_id = r.marketplace_id
                                and c.account_id = r.account_id
            join listings_items l on l.sku = r.seller_sku and l.marketplace_id = r.marketplace_id
                                and l.account_id = r.account_id
            where r.account_id = 'seller-na'
            order by sku, r.marketplace_id
            """
        rows = q.sql(sql).to_pylist()
        acct = sb.world.account("seller-na")
        products = {p.sku: p for p in products_for(sb.world.seed, acct, sb.world.scale)}
        report_rows = q.sql(
            f"select count(*) as n from \"{table}\" where account_id = 'seller-na'"
        ).to_pylist()[0]["n"]
        assert len(rows) == report_rows > 0
        # The same question through the CLI (`splake query`) on a config file for this lake.
        cfg = tmp_path / "splake.toml"
        a = sb.world.account("seller-na")
        cfg.write_text(
            f'[lake]\npath = "{settings.lake.path}"\n[lwa]\nclient_id = "x"\n[[accounts]]\nid = "seller-na"\n'
            f'region = "NA"\nselling_partner_id = "{a.selling_partner_id}"\nmarketplaces = ["US", "CA"]\n',
            encoding="utf-8",
        )
        cli = CliRunner().invoke(app, ["query", sql, "-c", str(cfg), "-f", "json"])
        assert cli.exit_code == 0, cli.output
        cli_rows = [json.loads(line) for line in cli.output.splitlines() if line.startswith("{")]
        assert [(r["sku"], r["title"], r["sales_rank"]) for r in cli_rows] == [
            (r["sku"], r["title"], r["sales_rank"]) for r in rows
        ]
        for r in rows:
            p = products[r["sku"]]
            assert r["title"] == p.title(language_of(r["marketplace_id"]))
            assert isinstance(r["sales_rank"], int) and r["sales_rank"] > 0
            assert r["listing_status"] and set(r["listing_status"]) <= {"BUYABLE", "DISCOVERABLE"}
    finally:
        await ctx.aclose()
