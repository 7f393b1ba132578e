"""Finances 2024-06-19 listTransactions (cursor, nextToken expiry) and listFinancialEventGroups against the
sandbox, compared with ground truth computed from the sandbox world's orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from splake.items.transactions import sync_event_groups, sync_transactions
from splake.lake.query import QueryEngine
from splake.sandbox.orders import VAT, iter_orders
from tests.integration.items_helpers import local_env
from tests.support.contract import validate_response
from tests.support.sandbox_fixtures import SpCaller


def _shipped(sb, start: datetime, end: datetime) -> dict[str, float]:
    """Order id → net amount (principal + tax - 15 % commission - FBA fee per unit), independently."""
    acct = sb.world.account("seller-na")
    out: dict[str, float] = {}
    for mp in acct.marketplace_ids:
        for o in iter_orders(
            sb.world.seed, acct, mp, (start - timedelta(days=45)).date(), end.date(), sb.world.scale
        ):
            if o.ship_at is not None and start <= o.ship_at < end:
                net = 0.0
                for i in o.items:
                    gross = i.unit_price * i.quantity
                    net += (
                        round(gross, 2) + round(gross * VAT.get(o.currency, 0.0), 2) - round(gross * 0.15, 2)
                    )
                    if o.fulfillment == "Amazon":
                        net -= round(3.22 * i.quantity, 2)
                out[o.order_id] = net
    return out


async def test_transactions_cursor_restart_and_no_duplicates(sandbox_factory, tmp_path: Path) -> None:
    # time_scale 0.01: the modelled 180 s nextToken lifetime is 1.8 s; the first token used is expired.
    sb = sandbox_factory(time_scale=0.01, extra={"expire_first_token": True})
    env = local_env(sb, tmp_path, sync={"lookback_days": 4})
    try:
        acct = env.settings.accounts[0]
        now = datetime.now(UTC).replace(microsecond=0)
        res = await sync_transactions(env, acct, now=now, slice_days=2)  # > 100 per slice: 2+ pages
        # The first token used had expired (a busy machine may see a real expiry too: more restarts, the
        # same rows).
        assert res.restarts >= 1 and res.slices == 2
        assert res.after == now - timedelta(days=4) and res.before == now - timedelta(minutes=2)
        truth = _shipped(sb, res.after, res.before)
        assert len(truth) > 200  # several pages of 100
        q = QueryEngine(env.lake.catalog, env.settings.lake.namespace)
        rows = q.sql(
            "select transaction_id, amazon_order_id, total_amount.amount as amount, "
            "financial_event_group_id, len(items) as n_items from financial_transactions"
        ).to_pylist()
        assert len(rows) == len({r["transaction_id"] for r in rows}) == len(truth) == res.transactions
        by_order = {r["amazon_order_id"]: r for r in rows}
        assert set(by_order) == set(truth)
        for oid, net in truth.items():
            assert abs(by_order[oid]["amount"] - round(net, 2)) < 0.015, oid
        assert all(r["financial_event_group_id"] and r["n_items"] >= 1 for r in rows)
        # The next run re-reads the lookback (statuses may have moved) up to now: one row per transaction.
        later = datetime.now(UTC)
        again = await sync_transactions(env, acct, now=later, slice_days=2)
        assert again.after == later - timedelta(days=4) and again.transactions >= len(truth) - 5
        total = q.sql("select count(*) as n from financial_transactions").to_pylist()[0]["n"]
        assert total == len(_shipped(sb, res.after, again.before))
    finally:
        await env.client.aclose()


async def test_event_groups_land_and_match_transactions(sandbox, tmp_path: Path) -> None:
    env = local_env(sandbox, tmp_path)
    try:
        acct = env.settings.accounts[0]
        now = datetime.now(UTC).replace(microsecond=0)
        n = await sync_event_groups(env, acct, now=now, days=40)
        q = QueryEngine(env.lake.catalog, env.settings.lake.namespace)
        groups = q.sql(
            "select financial_event_group_id as id, processing_status as st, "
            "financial_event_group_start as s, financial_event_group_end as e, "
            "original_total.amount as total from financial_event_groups"
        ).to_pylist()
        assert len(groups) == n >= 2 * len(acct.marketplaces)  # ≥ 2 fortnightly periods per marketplace
        assert {g["st"] for g in groups} == {"Open", "Closed"}
        assert all((g["e"] is None) == (g["st"] == "Open") for g in groups)
        # A second run upserts by group id: still one row per group.
        await sync_event_groups(env, acct, now=datetime.now(UTC), days=40)
        assert q.sql("select count(*) as n from financial_event_groups").to_pylist()[0]["n"] == n
        # Transactions name the group they belong to; the sandbox responses follow the official model.
        sp = SpCaller(sandbox)
        closed = next(g for g in groups if g["st"] == "Closed")
        r = sp.get(
            "/finances/2024-06-19/transactions",
            {"relatedIdentifierName": "FINANCIAL_EVENT_GROUP_ID", "relatedIdentifierValue": closed["id"]},
        )
        validate_response("finances_2024-06-19.json", "listTransactions", 200, r.json())
        txs = r.json()["payload"]["transactions"]
        assert txs and all(
            closed["s"] <= datetime.fromisoformat(t["postedDate"].replace("Z", "+00:00")) < closed["e"]
            for t in txs
        )
    finally:
        await env.client.aclose()
