"""Vendor Orders against the sandbox: purchase orders, their lines and status land once per key, a second
run moves the cursors and lands nothing twice; ground truth from the sandbox world's PO generator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from splake.items.vendor_orders import sync_vendor_orders
from splake.lake.query import QueryEngine
from splake.sandbox.apis.vendor_orders import purchase_orders
from tests.integration.items_helpers import local_env
from tests.support.contract import validate_response
from tests.support.sandbox_fixtures import SpCaller

MODEL = "vendorOrders.json"


async def test_vendor_purchase_orders_and_status(sandbox, tmp_path: Path) -> None:
    env = local_env(sandbox, tmp_path, ("vendor-na",), sync={"lookback_days": 14})
    try:
        acct = env.settings.accounts[0]
        now = datetime.now(UTC).replace(microsecond=0)
        res = await sync_vendor_orders(env, acct, now=now)
        after = now - timedelta(days=14)
        va = sandbox.world.account("vendor-na")
        world = purchase_orders(
            sandbox.world.seed, va, va.marketplace_ids[0], (after - timedelta(days=11)).date(), now.date()
        )
        changed = {po.number: po for po in world if po.created <= now and after <= po.state_at(now)[1] <= now}
        assert len(changed) > 20 and res.purchase_orders == len(changed)
        q = QueryEngine(env.lake.catalog, env.settings.lake.namespace)
        pos = {
            r["n"]: r
            for r in q.sql(
                "select purchase_order_number as n, purchase_order_state as st, item_count "
                "from vendor_purchase_orders"
            ).to_pylist()
        }
        assert set(pos) == set(changed)
        for n, po in changed.items():
            assert pos[n]["st"] == po.state_at(now)[0] and pos[n]["item_count"] == len(po.items)
        lines = q.sql("select count(*) as n from vendor_purchase_order_items").to_pylist()[0]["n"]
        assert lines == sum(len(po.items) for po in changed.values()) == res.items
        status = q.sql(
            "select purchase_order_number as n, item_sequence_number as s, confirmation_status as c, "
            "accepted_quantity as a, received_quantity as r from vendor_purchase_order_status"
        ).to_pylist()
        assert len(status) == res.status_lines == lines
        for row in status:
            po = changed[row["n"]]
            item = po.items[int(row["s"]) - 1]
            state = po.state_at(now)[0]
            assert row["c"] == (
                "UNCONFIRMED"
                if state == "New"
                else ("ACCEPTED" if item.accepted == item.quantity else "PARTIALLY_ACCEPTED")
            )
            assert row["r"] == (item.accepted if state == "Closed" else 0)
        # Second run: the cursor moved; rows stay one per PO (those changed since are upserted).
        later = datetime.now(UTC)
        again = await sync_vendor_orders(env, acct, now=later)
        assert again.after == now
        since = {po.number for po in world if now <= po.state_at(later)[1] <= later and po.created <= later}
        assert again.purchase_orders == len(since)
        total = q.sql("select count(*) as n from vendor_purchase_orders").to_pylist()[0]["n"]
        assert total == len(set(changed) | since)
        # The sandbox's answers follow the official model.
        sp = SpCaller(sandbox, "vendor-na")
        lst = sp.get(
            "/vendor/orders/v1/purchaseOrders",
            {"changedAfter": after.strftime("%Y-%m-%dT%H:%M:%SZ"), "limit": 5},
        )
        validate_response(MODEL, "getPurchaseOrders", 200, lst.json())
        one = sp.get(f"/vendor/orders/v1/purchaseOrders/{next(iter(changed))}")
        validate_response(MODEL, "getPurchaseOrder", 200, one.json())
        st = sp.get(
            "/vendor/orders/v1/purchaseOrdersStatus",
            {"updatedAfter": after.strftime("%Y-%m-%dT%H:%M:%SZ"), "limit": 5},
        )
        validate_response(MODEL, "getPurchaseOrdersStatus", 200, st.json())
    finally:
        await env.client.aclose()


@pytest.mark.parametrize("pii", [False, True])
async def test_vendor_direct_fulfillment_orders(sandbox, tmp_path: Path, pii: bool) -> None:
    import gzip

    from splake.items.vendor_df_orders import sync_vendor_df_orders
    from splake.sandbox.apis.vendor_df_orders import df_orders

    env = local_env(sandbox, tmp_path, ("vendor-na",), sync={"lookback_days": 3})
    if pii:
        acct = env.settings.accounts[0].model_copy(update={"pii": True})
        env.settings = env.settings.model_copy(update={"accounts": (acct,)})
    try:
        acct = env.settings.accounts[0]
        now = datetime.now(UTC).replace(microsecond=0)
        res = await sync_vendor_df_orders(env, acct, now=now)
        va = sandbox.world.account("vendor-na")
        truth = {
            o.number: o
            for o in df_orders(
                sandbox.world.seed, va, "ATVPDKIKX0DER", (now - timedelta(days=3)).date(), now.date()
            )
            if now - timedelta(days=3) <= o.created <= now
        }
        assert len(truth) >= 9 and res.orders == len(truth)
        q = QueryEngine(env.lake.catalog, env.settings.lake.namespace)
        got = q.sql(
            "select purchase_order_number as n, order_status as st, ship_to.city as city, "
            "pii_ship_to.name as name, item_count from vendor_df_orders"
        ).to_pylist()
        assert {r["n"] for r in got} == set(truth)
        for r in got:
            o = truth[r["n"]]
            assert r["st"] == o.status_at(now) and r["city"] == o.city and r["item_count"] == len(o.items)
            assert r["name"] == (o.name if pii else None)
        assert q.sql("select count(*) as n from vendor_df_order_items").to_pylist()[0]["n"] == res.items
        # The raw zone never holds the customer's name or street.
        keys = [
            i.key
            for i in env.raw.store.list("")
            if "vendor-df-orders" in i.key and i.key.endswith(".ndjson.gz")
        ]
        assert len(keys) == 1
        raw = gzip.decompress(env.raw.store.get_bytes(keys[0])).decode()
        assert "Customer " not in raw and "Pine St" not in raw and '"city"' in raw
        sp = SpCaller(sandbox, "vendor-na")
        r = sp.get(
            "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders",
            {
                "createdAfter": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "createdBefore": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
        validate_response("vendorDirectFulfillmentOrders_2021-12-28.json", "getOrders", 200, r.json())
    finally:
        await env.client.aclose()
