"""The consumer on the local SQLite queue: poison messages reach the dead-letter queue (the queue's own
max_receive_count, or an explicit move), failures are retried, and good messages keep flowing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from splake.config import parse_config
from splake.items.registry import Registry
from splake.notifications.consumer import Handlers, consume
from splake.notifications.queue import SqliteQueue
from splake.state.sqlite import SqliteStateStore


class Ctx:
    def __init__(self, tmp_path: Path) -> None:
        self.settings = parse_config(
            {
                "lwa": {"client_id": "x"},
                "accounts": [{"id": "a", "region": "NA", "selling_partner_id": "S1", "marketplaces": ["US"]}],
            }
        )
        self.state = SqliteStateStore(tmp_path / "state.db")


def listing_msg(nid: str, sku: str = "SKU-1") -> str:
    return json.dumps(
        {
            "NotificationVersion": "1.0",
            "NotificationType": "LISTINGS_ITEM_STATUS_CHANGE",
            "PayloadVersion": "1.0",
            "EventTime": "2026-11-24T10:00:00Z",
            "Payload": {
                "SellerId": "S1",
                "MarketplaceId": "ATVPDKIKX0DER",
                "Sku": sku,
                "Status": ["BUYABLE"],
            },
            "NotificationMetadata": {"NotificationId": nid},
        }
    )


def recording_handlers(seen: list[Any], fail_skus: set[str] | None = None) -> Handlers:
    async def on_listing(ctx: Any, n: Any) -> Any:
        if fail_skus and n.sku in fail_skus:
            fail_skus.discard(n.sku)  # fail once, then succeed
            raise OSError("lake temporarily unavailable")
        seen.append(n.sku)
        return "done"

    async def on_report(ctx: Any, n: Any) -> Any:
        seen.append(n.report_id)
        return "done"

    return Handlers(report=on_report, listing=on_listing)


async def test_poison_message_goes_to_dlq_and_others_flow(tmp_path: Path) -> None:
    ctx = Ctx(tmp_path)
    q = SqliteQueue(tmp_path / "q.db", "n", max_receive_count=2)
    q.send(listing_msg("n1", "A"))
    q.send("{not json")
    q.send(listing_msg("n2", "B"))
    q.send(listing_msg("n1", "A"))  # duplicate delivery
    seen: list[Any] = []
    res = await consume(ctx, q, 20, visibility_timeout=0, handlers=recording_handlers(seen))
    assert seen == ["A", "B"]
    assert res.processed == 2 and res.duplicates == 1 and res.malformed == 2  # received twice, never deleted
    assert q.depth() == 0
    dlq = q.dead_letters()
    assert [m.body for m in dlq.receive(max_messages=10)] == ["{not json"]


async def test_explicit_move_when_the_queue_has_no_redrive(tmp_path: Path) -> None:
    ctx = Ctx(tmp_path)
    q = SqliteQueue(tmp_path / "q.db", "n")  # no max_receive_count
    dead = SqliteQueue(tmp_path / "q.db", "dead")
    q.send('{"NotificationType": "LISTINGS_ITEM_STATUS_CHANGE"}')
    q.send(listing_msg("n3", "C"))
    res = await consume(
        ctx, q, 20, visibility_timeout=0, dead_letter=dead, max_receives=3, handlers=recording_handlers([])
    )
    assert res.moved_to_dlq == 1 and res.malformed == 3 and res.processed == 1
    assert q.depth() == 0 and dead.depth() == 1


async def test_handler_failure_is_retried_not_lost(tmp_path: Path) -> None:
    ctx = Ctx(tmp_path)
    q = SqliteQueue(tmp_path / "q.db", "n", max_receive_count=5)
    q.send(listing_msg("n4", "D"))
    seen: list[Any] = []
    res = await consume(ctx, q, 5, visibility_timeout=0, handlers=recording_handlers(seen, {"D"}))
    assert res.failed == 1 and res.processed == 1 and seen == ["D"]
    assert q.depth() == 0
    # Recorded as handled: a late redelivery is a duplicate.
    q.send(listing_msg("n4", "D"))
    again = await consume(ctx, q, 5, handlers=recording_handlers(seen))
    assert again.duplicates == 1 and seen == ["D"]
    assert ctx.state.get("notifications", "n4", "-") is not None


async def test_listing_notifications_of_one_batch_are_fetched_and_landed_together(
    sandbox, tmp_path: Path
) -> None:
    from splake.lake.query import QueryEngine
    from splake.sandbox.catalog import products_for
    from tests.integration.items_helpers import local_env

    env = local_env(sandbox, tmp_path)
    try:
        acct = sandbox.world.account("seller-na")
        skus = [p.sku for p in products_for(sandbox.world.seed, acct, sandbox.world.scale)[:5]]
        q = SqliteQueue(tmp_path / "q.db", "n", max_receive_count=3)
        for i, sku in enumerate(skus):  # a status and an issues notification per SKU
            for kind in ("STATUS", "ISSUES"):
                doc = json.loads(listing_msg(f"{kind}-{i}", sku))
                doc["Payload"]["SellerId"] = acct.selling_partner_id
                if kind == "ISSUES":
                    doc["NotificationType"] = "LISTINGS_ITEM_ISSUES_CHANGE"
                    doc["Payload"]["Severities"] = ["WARNING"]
                q.send(json.dumps(doc))
        res = await consume(env, q, 10)
        assert res.processed == 10 and res.failed == 0
        assert sandbox.stats.requests_for("getListingsItem") == 5  # each SKU fetched once
        lake = QueryEngine(env.lake.catalog, env.settings.lake.namespace)
        assert lake.sql("select count(*) as n from listings_items_history").to_pylist()[0]["n"] == 5
        assert len(env.lake.table("listings_items_history").snapshots()) == 1  # one commit for the batch
        tracked = {i.value for i in Registry(env.state).items("seller-na", "sku")}
        assert tracked == set(skus)
        # New ASINs get their catalog data right away (one searchCatalogItems call for the 5).
        assert sandbox.stats.requests_for("searchCatalogItems") == 1
        asins = {p.asin for p in products_for(sandbox.world.seed, acct, sandbox.world.scale)[:5]}
        assert {r["asin"] for r in lake.sql("select asin from catalog_items").to_pylist()} == asins
        # The same SKUs again: ASINs are known now, so no further catalog calls.
        for i, sku in enumerate(skus):
            doc = json.loads(listing_msg(f"again-{i}", sku))
            doc["Payload"]["SellerId"] = acct.selling_partner_id
            q.send(json.dumps(doc))
        await consume(env, q, 10)
        assert sandbox.stats.requests_for("searchCatalogItems") == 1
    finally:
        await env.client.aclose()
