"""Orders, Finances and FBA inventory against the sandbox, compared with the sandbox world's ground truth."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from splake.items.context import open_local_env
from splake.items.fba_inventory import sync_inventory
from splake.items.finances import sync_finances
from splake.items.orders import sync_orders
from splake.lake.query import QueryEngine
from splake.sandbox.catalog import products_for
from splake.sandbox.orders import iter_orders
from tests.integration.items_helpers import sandbox_settings, seed_secrets


async def _env(sb, tmp_path: Path, **account_extra):
    settings = sandbox_settings(sb, tmp_path / "lake", ("seller-na",), sync={"lookback_days": 2})
    if account_extra:
        acct = settings.accounts[0].model_copy(update=account_extra)
        settings = settings.model_copy(update={"accounts": (acct,)})
    return open_local_env(settings, seed_secrets(sb, settings, tmp_path / "secrets"))


def _truth_orders(sb, after: datetime, before: datetime) -> set[str]:
    acct = sb.world.account("seller-na")
    out = set()
    for mp in acct.marketplace_ids:
        for o in iter_orders(
            sb.world.seed, acct, mp, (after - timedelta(days=45)).date(), before.date(), sb.world.scale
        ):
            st = o.status_at(before)
            if st is not None and after <= st[2] < before:
                out.add(o.order_id)
    return out


@pytest.mark.parametrize("pii", [False, True])
async def test_orders_cursor_items_and_pii(sandbox, tmp_path: Path, pii: bool) -> None:
    env = await _env(sandbox, tmp_path, pii=pii)
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        res = await sync_orders(env, env.settings.accounts[0], now=now)
        assert res.after is not None and res.before == now - timedelta(minutes=2)
        truth = _truth_orders(sandbox, res.after, res.before)
        assert len(truth) > 20
        q = QueryEngine(env.lake.catalog, env.settings.lake.namespace)
        got = {r["amazon_order_id"] for r in q.sql("select amazon_order_id from orders_api").to_pylist()}
        assert got == truth and res.orders == len(truth)
        n_items = q.sql(
            "select count(*) as n, count(distinct amazon_order_id) as o from order_items_api"
        ).to_pylist()[0]
        assert n_items["o"] == len(truth) and n_items["n"] == res.order_items >= len(truth)
        pii_rows = q.sql(
            "select count(pii_shipping_address.address_line1) as a, count(pii_buyer_info.buyer_email) as b "
            "from orders_api"
        ).to_pylist()[0]
        # Orders 2026-01-01: items and (with pii) buyer/recipient come inline from searchOrders, with no
        # Restricted Data Token and no per-order calls.
        assert res.api_version == "2026-01-01" and sandbox.stats.requests_for("searchOrders") >= 1
        for per_order in ("getOrderItems", "getOrderAddress", "getOrders", "createRestrictedDataToken"):
            assert sandbox.stats.requests_for(per_order) == 0, per_order
        if pii:
            assert pii_rows == {"a": len(truth), "b": len(truth)}
        else:
            assert pii_rows == {"a": 0, "b": 0}
        # The raw zone never holds PII (only the curated pii_* columns do).
        raw = gzip.decompress(env.raw.store.get_bytes(res.raw_key)).decode()
        assert len(raw.splitlines()) == len(truth)
        # (searchOrders' orders as returned, less buyer data and the personal address fields)
        for pii_field in ('"buyer"', '"buyerEmail"', '"addressLine1"', '"name"', "@marketplace.amazon.com"):
            assert pii_field not in raw, pii_field
        assert '"city"' in raw and '"orderItems"' in raw  # the non-PII part of the address is kept
        # The cursor moved: the next run asks only for what changed since, and lands nothing twice.
        again = await sync_orders(env, env.settings.accounts[0], now=datetime.now(UTC))
        assert again.after == res.before and again.orders == len(
            _truth_orders(sandbox, again.after, again.before)
        )
        assert q.sql("select count(*) as n from orders_api").to_pylist()[0]["n"] == len(truth)
    finally:
        await env.client.aclose()


async def test_orders_v0_fallback_and_same_rows_across_versions(sandbox_factory, tmp_path: Path) -> None:
    """An app without Orders 2026-01-01 falls back to v0 (RDT for PII, getOrderItems per order); re-syncing
    the same window through the new API afterwards replaces the rows by the same keys: no duplicates."""
    sb = sandbox_factory(extra={"unavailable_operations": ["searchOrders"]})
    env = await _env(sb, tmp_path, pii=True)
    try:
        acct = env.settings.accounts[0]
        now = datetime.now(UTC).replace(microsecond=0)
        old = await sync_orders(env, acct, now=now)
        assert old.api_version == "v0" and old.after is not None and old.before is not None
        truth = _truth_orders(sb, old.after, old.before)
        assert len(truth) > 20 and old.orders == len(truth)
        assert sb.stats.requests_for("getOrderItems") == len(truth)
        assert sb.stats.requests_for("createRestrictedDataToken") >= 1
        q = QueryEngine(env.lake.catalog, env.settings.lake.namespace)
        cols = (
            "amazon_order_id, marketplace_id, purchase_date, last_update_date, order_status, "
            "fulfillment_channel, sales_channel, ship_service_level, order_total, number_of_items_shipped, "
            "number_of_items_unshipped, is_business_order, is_prime, shipping_address, pii_buyer_info, "
            "pii_shipping_address.address_line1 as line1"
        )
        item_cols = (
            "amazon_order_id, order_item_id, asin, seller_sku, title, quantity_ordered, quantity_shipped, "
            "item_price, item_tax, shipping_price, promotion_discount, promotion_ids"
        )
        v0_orders = q.sql(f"select {cols} from orders_api order by amazon_order_id").to_pylist()
        v0_items = q.sql(f"select {item_cols} from order_items_api order by 1, 2").to_pylist()
        # The application gets the new API; the same window is synced again through it.
        sb.state.config = dataclasses.replace(sb.state.config, extra={})
        await asyncio.to_thread(
            env.state.put, "cursors", acct.id, "api#orders", {"last_updated_before": old.after.isoformat()}
        )
        new = await sync_orders(env, acct, now=now)
        assert new.api_version == "2026-01-01" and (new.after, new.before) == (old.after, old.before)
        assert new.orders == len(truth)
        # Same keys, same values (the mapping keeps the columns' meaning), no duplicates.
        assert q.sql(f"select {cols} from orders_api order by amazon_order_id").to_pylist() == v0_orders
        assert q.sql(f"select {item_cols} from order_items_api order by 1, 2").to_pylist() == v0_items
    finally:
        await env.client.aclose()


async def test_finances_restart_slice_when_next_token_expires(sandbox_factory, tmp_path: Path) -> None:
    # time_scale 0.01: the modelled 180 s NextToken lifetime becomes 1.8 s (pages come much faster).
    sb = sandbox_factory(time_scale=0.01, extra={"expire_first_token": True})
    env = await _env(sb, tmp_path)
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        start = (now - timedelta(days=3)).replace(hour=0, minute=0, second=0)
        res = await sync_finances(env, env.settings.accounts[0], start, now, now=now, page_size=20)
        assert res.restarts == 1  # the first NextToken used had expired: that slice was fetched again
        acct = sb.world.account("seller-na")
        end = now - timedelta(minutes=2)
        truth = {
            o.order_id
            for mp in acct.marketplace_ids
            for o in iter_orders(
                sb.world.seed, acct, mp, (start - timedelta(days=45)).date(), end.date(), sb.world.scale
            )
            if o.ship_at is not None and start <= o.ship_at < end
        }
        assert len(truth) > 100  # several pages per slice
        q = QueryEngine(env.lake.catalog, env.settings.lake.namespace)
        rows = q.sql("select amazon_order_id, principal, fees from financial_shipment_events").to_pylist()
        assert len(rows) == len(truth) == res.events  # restarts added no duplicates
        assert {r["amazon_order_id"] for r in rows} == truth
        assert all(r["principal"] > 0 and r["fees"] < 0 for r in rows)
        items = q.sql(
            "select i.seller_sku as sku, i.quantity_shipped as qty "
            "from (select unnest(shipment_items) as i from financial_shipment_events)"
        ).to_pylist()
        assert items and all(x["sku"] and x["qty"] >= 1 for x in items)
        # Re-fetching a slice replaces its rows.
        await sync_finances(env, env.settings.accounts[0], start, start + timedelta(days=1), now=now)
        assert q.sql("select count(*) as n from financial_shipment_events").to_pylist()[0]["n"] == len(truth)
    finally:
        await env.client.aclose()


async def test_inventory_snapshot_and_expired_token_restart(sandbox_factory, tmp_path: Path) -> None:
    # time_scale 0.05: the 30 s nextToken lifetime becomes 1.5 s, enough between pages on a busy machine.
    sb = sandbox_factory(time_scale=0.05, extra={"expire_first_token": True})
    env = await _env(sb, tmp_path)
    try:
        now = datetime.now(UTC)
        res = await sync_inventory(env, env.settings.accounts[0], now=now)
        assert res.restarts == 1
        acct = sb.world.account("seller-na")
        afn = {p.sku for p in products_for(sb.world.seed, acct, sb.world.scale) if p.fulfillment == "AFN"}
        q = QueryEngine(env.lake.catalog, env.settings.lake.namespace)
        for mp in acct.marketplace_ids:
            skus = [
                r["seller_sku"]
                for r in q.sql(
                    f"select seller_sku from fba_inventory_summaries where marketplace_id = '{mp}'"
                ).to_pylist()
            ]
            assert sorted(skus) == sorted(afn)
        bad = q.sql(
            "select count(*) as n from fba_inventory_summaries "
            "where total_quantity < inventory_details.fulfillable_quantity"
        ).to_pylist()[0]["n"]
        assert bad == 0
        await sync_inventory(env, env.settings.accounts[0], now=now + timedelta(minutes=1))
        n = q.sql("select count(*) as n from fba_inventory_summaries").to_pylist()[0]["n"]
        assert n == len(afn) * len(acct.marketplace_ids)  # the snapshot was replaced, not appended
        hist = q.sql(
            "select count(*) as n, count(distinct fetched_at) as f from fba_inventory_summaries_history"
        )
        assert hist.to_pylist()[0] == {"n": 2 * n, "f": 2}  # history keeps every fetch
    finally:
        await env.client.aclose()
