"""Data Kiosk against the sandbox: declared sales & traffic and economics queries land into typed tables
(paginated results, no duplicates), a user's GraphQL query from the config lands into dk_<name>, and a
broken query fails naming Amazon's error document. Ground truth is computed from the world's orders."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from splake.items.data_kiosk import DataKioskQueryError, sync_data_kiosk, window
from splake.lake.query import QueryEngine
from splake.sandbox.orders import iter_orders
from tests.integration.items_helpers import local_env

FAST_SYNC = {"lookback_days": 3, "poll_initial_seconds": 0.02, "poll_max_seconds": 0.1}


def _truth(sb, start, end):
    """(marketplace, day) -> units and (marketplace, day, sku) -> (units, sales, fba units), from orders."""
    acct = sb.world.account("seller-na")
    now = datetime.now(UTC)
    by_day: dict[tuple[str, str], int] = defaultdict(int)
    by_sku: dict[tuple[str, str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0])
    for mp in acct.marketplace_ids:
        for o in iter_orders(sb.world.seed, acct, mp, start, end, sb.world.scale):
            st = o.status_at(now)
            if st is None or st[0] == "Cancelled" or not start <= o.purchase.date() <= end:
                continue
            d = o.purchase.date().isoformat()
            for i in o.items:
                by_day[(mp, d)] += i.quantity
                acc = by_sku[(mp, d, i.product.sku)]
                acc[0] += i.quantity
                acc[1] += i.unit_price * i.quantity
                acc[2] += i.quantity if o.fulfillment == "Amazon" else 0
    return by_day, by_sku


async def test_declared_queries_land_typed_rows(sandbox_factory, tmp_path: Path) -> None:
    # 40 records per document: economics (hundreds of SKU-days) spans many pages.
    sb = sandbox_factory(extra={"data_kiosk_page_records": 40})
    env = local_env(sb, tmp_path, sync=FAST_SYNC)
    try:
        now = datetime.now(UTC)
        res = await sync_data_kiosk(env, env.settings.accounts[0], now=now)
        start, end = window(now, 3)
        by_day, by_sku = _truth(sb, start, end)
        q = QueryEngine(env.lake.catalog, env.settings.lake.namespace)
        days = q.sql(
            "select marketplace_id, cast(start_date as varchar) as d, units_ordered, sessions, currency "
            "from dk_sales_traffic_by_date"
        ).to_pylist()
        mps = env.settings.accounts[0].marketplaces
        assert len(days) == 3 * len(mps) == res.queries["sales_traffic_by_date"]
        for r in days:
            assert r["units_ordered"] == by_day.get((r["marketplace_id"], r["d"]), 0)
            assert r["sessions"] > 0 and r["currency"] in ("USD", "CAD")
        econ = q.sql(
            "select marketplace_id, cast(start_date as varchar) as d, msku, units_ordered, "
            "ordered_product_sales as sales, fees_total, net_proceeds from dk_economics"
        ).to_pylist()
        assert len(res.query_ids["economics"]) > 1  # paginated
        assert len(econ) == len(by_sku) == res.queries["economics"]  # every page, nothing twice
        for r in econ:
            units, sales, fba_units = by_sku[(r["marketplace_id"], r["d"], r["msku"])]
            assert r["units_ordered"] == units and r["sales"] == pytest.approx(sales, abs=0.01)
            fees = round(sales * 0.15, 2) + round(fba_units * 3.22, 2)
            assert r["fees_total"] == pytest.approx(fees, abs=0.011)
            assert r["net_proceeds"] == pytest.approx(round(sales, 2) - fees, abs=0.011)
        # A second run over the same window replaces by key: still one row per key.
        await sync_data_kiosk(env, env.settings.accounts[0], now=now, names=("economics",))
        assert q.sql("select count(*) as n from dk_economics").to_pylist()[0]["n"] == len(by_sku)
    finally:
        await env.client.aclose()


async def test_user_query_from_config_and_fatal_query(sandbox, tmp_path: Path) -> None:
    user = {
        "name": "asin_traffic",
        "query": (
            "query { analytics_salesAndTraffic_2024_04_24 { salesAndTrafficByAsin(startDate: $startDate, "
            "endDate: $endDate, aggregateBy: SKU, marketplaceIds: $marketplaceIds) { startDate endDate "
            "marketplaceId parentAsin childAsin sku sales { unitsOrdered } traffic { sessions } } } }"
        ),
        "key": ["startDate", "endDate", "sku"],
    }
    broken = {
        "name": "broken",
        "query": (
            "query { analytics_economics_2024_03_15 { economics(startDate: $startDate, endDate: $endDate, "
            'marketplaceIds: ["A1PA6795UKMFR9"]) { msku } } }'
        ),
    }
    env = local_env(sandbox, tmp_path, sync=FAST_SYNC, data_kiosk={"declared": [], "queries": [user, broken]})
    try:
        now = datetime.now(UTC)
        res = await sync_data_kiosk(env, env.settings.accounts[0], now=now, names=("asin_traffic",))
        start, end = window(now, 3)
        _, by_sku = _truth(sandbox, start, end)
        skus = {(mp, sku) for (mp, _d, sku) in by_sku}
        q = QueryEngine(env.lake.catalog, env.settings.lake.namespace)
        rows = q.sql("select marketplace_id, record_key, record from dk_asin_traffic").to_pylist()
        assert len(rows) == len(skus) == res.queries["asin_traffic"]
        assert all('"sessions"' in r["record"] for r in rows)
        # A marketplace the seller does not sell in: the query ends FATAL with Amazon's error document.
        with pytest.raises(DataKioskQueryError, match="Invalid marketplaceIds"):
            await sync_data_kiosk(env, env.settings.accounts[0], now=now, names=("broken",))
        assert end == (now - timedelta(days=1)).date()
    finally:
        await env.client.aclose()
