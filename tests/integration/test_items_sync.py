"""Items sync against the sandbox: registry → catalog + listings fetch → raw zone + curated tables."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from splake.items.registry import Registry, TrackedItem
from splake.items.sync import sync_items
from splake.lake.query import QueryEngine
from splake.sandbox.catalog import products_for
from tests.integration.items_helpers import local_env

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
US = "ATVPDKIKX0DER"


@pytest.fixture
async def env(sandbox, tmp_path: Path):
    e = local_env(sandbox, tmp_path)
    yield e
    await e.client.aclose()


async def test_sync_lands_catalog_and_listings(sandbox, env) -> None:
    acct = sandbox.world.account("seller-na")
    products = products_for(sandbox.world.seed, acct, sandbox.world.scale)[:45]
    reg = Registry(env.state)
    # 40 SKUs (ASIN unknown: looked up by SKU) + 5 explicit ASINs, plus one SKU that does not exist.
    reg.add([TrackedItem("seller-na", US, "sku", p.sku, None, ("user",)) for p in products[:40]], NOW)
    reg.add([TrackedItem("seller-na", US, "asin", p.asin, None, ("user",)) for p in products[40:]], NOW)
    reg.add([TrackedItem("seller-na", US, "sku", "NO-SUCH-SKU", None, ("user",))], NOW)
    # A SKU with a comma cannot go into searchListingsItems' comma-delimited identifiers.
    reg.add([TrackedItem("seller-na", US, "sku", "NO,SUCH", None, ("user",))], NOW)

    summary = await sync_items(env, clock=lambda: NOW)

    assert summary.catalog_calls == 1 + 3  # 5 ASINs in one call, 42 SKUs in 3 calls of ≤ 20
    # 41 SKUs in 3 searchListingsItems calls of ≤ 20, the comma SKU through getListingsItem.
    assert summary.listings_calls == 3 + 1
    assert sandbox.stats.requests_for("searchListingsItems") == 3
    assert sandbox.stats.requests_for("getListingsItem") == 1
    assert summary.listings_found == 40 and summary.listings_missing == 2
    assert summary.catalog_items == 45
    # ASINs learned from listings are remembered, so the next sync searches by ASIN.
    assert {p.asin for p in products[:40]} <= set(reg.asins("seller-na", US))

    q = QueryEngine(env.lake.catalog, env.settings.lake.namespace)
    cat = q.sql(
        "select asin, item_name, sales_rank, summary.brand as brand, len(images) as n_images, "
        "sales_ranks.display_group_ranks[1].rank as dg_rank, marketplace_id from catalog_items order by asin"
    ).to_pylist()
    assert len(cat) == 45
    want = {p.asin: p.title("en") for p in products}
    for row in cat:
        assert row["item_name"] == want[row["asin"]]
        assert row["marketplace_id"] == US
        assert row["n_images"] == 2
        assert row["sales_rank"] is not None and row["sales_rank"] <= row["dg_rank"]
    lst = q.sql(
        "select sku, found, asin, status, buyable, price_amount, summary.item_name as title "
        "from listings_items order by sku"
    ).to_pylist()
    assert len(lst) == 42
    by_sku = {r["sku"]: r for r in lst}
    assert by_sku["NO-SUCH-SKU"]["found"] is False and by_sku["NO,SUCH"]["found"] is False
    for p in products[:40]:
        r = by_sku[p.sku]
        assert r["found"] and r["asin"] == p.asin and r["title"] == p.title("en")
        assert r["buyable"] == ("BUYABLE" in r["status"])
        assert float(r["price_amount"]) == pytest.approx(p.price("USD"))

    # Raw zone keeps every response as NDJSON.gz with a provenance sidecar.
    for key in summary.raw_keys:
        assert key.endswith(".ndjson.gz")
        records = [json.loads(line) for line in gzip.decompress(env.raw.store.get_bytes(key)).splitlines()]
        meta = json.loads(env.raw.store.get_bytes(key + ".meta.json"))
        assert meta["records"] == len(records) and meta["account_id"] == "seller-na"


async def test_second_sync_keeps_latest_one_row_and_history_every_fetch(sandbox, env) -> None:
    acct = sandbox.world.account("seller-na")
    products = products_for(sandbox.world.seed, acct, sandbox.world.scale)[:5]
    Registry(env.state).add(
        [TrackedItem("seller-na", US, "sku", p.sku, p.asin, ("user",)) for p in products], NOW
    )
    later = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    await sync_items(env, clock=lambda: NOW)
    s2 = await sync_items(env, clock=lambda: later)
    assert s2.catalog_calls == 1  # all ASINs known: one ASIN batch
    q = QueryEngine(env.lake.catalog, env.settings.lake.namespace)
    assert q.sql("select count(*) as n from catalog_items").to_pylist()[0]["n"] == 5
    assert q.sql("select count(*) as n from listings_items").to_pylist()[0]["n"] == 5
    hist = q.sql(
        "select count(*) as n, count(distinct fetched_at) as f from catalog_items_history"
    ).to_pylist()[0]
    assert hist == {"n": 10, "f": 2}
    assert q.sql("select count(*) as n from listings_items_history").to_pylist()[0]["n"] == 10


async def test_failed_calls_are_reported_and_the_rest_lands(sandbox_factory, tmp_path: Path) -> None:
    # Every 4th call on average fails with 500/503 and the client may not retry: failures are listed,
    # everything else is landed, and nothing is counted twice.
    sb = sandbox_factory(error_rate=0.25)
    env = local_env(sb, tmp_path, spapi={"endpoint_override": sb.url, "max_retries": 0})
    try:
        products = products_for(sb.world.seed, sb.world.account("seller-na"), sb.world.scale)[:400]
        assert len(products) == 400
        Registry(env.state).add(
            [TrackedItem("seller-na", US, "sku", p.sku, p.asin, ("user",)) for p in products], NOW
        )
        s = await sync_items(env, clock=lambda: NOW, marketplace_ids=[US])
        failed_listings = [f for f in s.failures if f.startswith("searchListingsItems")]
        failed_batches = [f for f in s.failures if f.startswith("searchCatalogItems")]
        assert s.listings_calls == 20 and s.catalog_calls == 20
        assert failed_listings or failed_batches, "with a 25% error rate some of the 40 calls must fail"
        assert s.listings_found == 20 * (20 - len(failed_listings)) > 0
        assert s.catalog_items == 20 * (20 - len(failed_batches))
        q = QueryEngine(env.lake.catalog, env.settings.lake.namespace)
        assert q.sql("select count(*) as n from listings_items").to_pylist()[0]["n"] == s.listings_found
    finally:
        await env.client.aclose()


async def test_get_catalog_item_one_asin(sandbox, env) -> None:
    from splake.items.catalog import get_item
    from splake.items.rows import catalog_row

    acct = env.settings.account("seller-na")
    p = products_for(sandbox.world.seed, sandbox.world.account("seller-na"), sandbox.world.scale)[7]
    item = await get_item(env.client, acct, p.asin, US)
    assert item is not None and item["asin"] == p.asin
    assert catalog_row(item, US, NOW)["item_name"] == p.title("en")
    assert await get_item(env.client, acct, "B000000000", US) is None  # 404 → None
