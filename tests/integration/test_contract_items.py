"""Contract of the items engineer's sandbox routes (catalog, listings, orders, finances, FBA inventory,
notifications): success and error bodies validate against Amazon's official models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from splake.sandbox import SandboxServer
from splake.sandbox.catalog import products_for
from tests.support.contract import validate_response
from tests.support.sandbox_fixtures import SpCaller, grantless_token

US = "ATVPDKIKX0DER"


def check(model: str, op: str, r: httpx.Response) -> None:
    validate_response(model, op, r.status_code, r.json() if r.content else None)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_catalog_and_listings(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox, "seller-na")
    p = products_for(sandbox.world.seed, sp.account, sandbox.world.scale)[3]
    model = "catalogItems_2022-04-01.json"
    all_data = "attributes,classifications,dimensions,identifiers,images,productTypes,relationships"
    all_data += ",salesRanks,summaries"
    r = sp.get(
        "/catalog/2022-04-01/items",
        {"marketplaceIds": US, "identifiers": p.asin, "identifiersType": "ASIN", "includedData": all_data},
    )
    assert r.status_code == 200, r.text
    check(model, "searchCatalogItems", r)
    check(
        model,
        "searchCatalogItems",
        sp.get("/catalog/2022-04-01/items", {"marketplaceIds": US, "keywords": "lantern"}),
    )
    check(model, "searchCatalogItems", sp.get("/catalog/2022-04-01/items", {"identifiers": p.asin}))  # 400
    r = sp.get(f"/catalog/2022-04-01/items/{p.asin}", {"marketplaceIds": US, "includedData": all_data})
    assert r.status_code == 200, r.text
    check(model, "getCatalogItem", r)
    check(model, "getCatalogItem", sp.get("/catalog/2022-04-01/items/B000000000", {"marketplaceIds": US}))

    model = "listingsItems_2021-08-01.json"
    seller = sp.account.selling_partner_id
    included = "summaries,attributes,issues,offers,fulfillmentAvailability"
    r = sp.get(
        f"/listings/2021-08-01/items/{seller}/{p.sku}", {"marketplaceIds": US, "includedData": included}
    )
    assert r.status_code == 200, r.text
    check(model, "getListingsItem", r)
    check(
        model,
        "getListingsItem",
        sp.get(f"/listings/2021-08-01/items/{seller}/NO-SUCH-SKU", {"marketplaceIds": US}),
    )


def test_orders_finances_inventory(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox, "seller-na")
    now = datetime.now(UTC)
    r = sp.get("/orders/v0/orders", {"MarketplaceIds": US, "CreatedAfter": iso(now - timedelta(days=2))})
    assert r.status_code == 200, r.text
    check("ordersV0.json", "getOrders", r)
    check("ordersV0.json", "getOrders", sp.get("/orders/v0/orders", {"MarketplaceIds": US}))  # 400
    order_id = r.json()["payload"]["Orders"][0]["AmazonOrderId"]
    items = sp.get(f"/orders/v0/orders/{order_id}/orderItems")
    assert items.status_code == 200, items.text
    check("ordersV0.json", "getOrderItems", items)
    rdt = sp.post(
        "/tokens/2021-03-01/restrictedDataToken",
        {
            "restrictedResources": [
                {"method": "GET", "path": f"/orders/v0/orders/{order_id}/address"},
                {"method": "GET", "path": f"/orders/v0/orders/{order_id}/buyerInfo"},
            ]
        },
    ).json()["restrictedDataToken"]
    pii = SpCaller(sandbox, "seller-na", token=rdt)
    for op, suffix in (("getOrderAddress", "address"), ("getOrderBuyerInfo", "buyerInfo")):
        r = pii.get(f"/orders/v0/orders/{order_id}/{suffix}")
        assert r.status_code == 200, r.text
        check("ordersV0.json", op, r)
        check("ordersV0.json", op, sp.get(f"/orders/v0/orders/{order_id}/{suffix}"))  # 403 without an RDT

    r = sp.get(
        "/finances/v0/financialEvents",
        {"PostedAfter": iso(now - timedelta(days=5)), "PostedBefore": iso(now - timedelta(minutes=5))},
    )
    assert r.status_code == 200, r.text
    check("financesV0.json", "listFinancialEvents", r)

    r = sp.get(
        "/fba/inventory/v1/summaries",
        {"granularityType": "Marketplace", "granularityId": US, "marketplaceIds": US, "details": "true"},
    )
    assert r.status_code == 200, r.text
    check("fbaInventory.json", "getInventorySummaries", r)
    check(
        "fbaInventory.json",
        "getInventorySummaries",
        sp.get("/fba/inventory/v1/summaries", {"granularityType": "Marketplace"}),
    )


def test_notifications_api(sandbox: SandboxServer) -> None:
    model = "notifications.json"
    g = SpCaller(sandbox, "seller-na", token=grantless_token(sandbox))
    seller = SpCaller(sandbox, "seller-na")
    arn = "arn:aws:sqs:us-east-1:123456789012:splake-contract"
    r = g.post(
        "/notifications/v1/destinations", {"name": "q", "resourceSpecification": {"sqs": {"arn": arn}}}
    )
    assert r.status_code == 200, r.text
    check(model, "createDestination", r)
    dest_id = r.json()["payload"]["destinationId"]
    check(model, "createDestination", g.post("/notifications/v1/destinations", {"name": "q"}))  # 400
    check(model, "getDestinations", g.get("/notifications/v1/destinations"))
    check(model, "getDestination", g.get(f"/notifications/v1/destinations/{dest_id}"))
    r = seller.post(
        "/notifications/v1/subscriptions/REPORT_PROCESSING_FINISHED",
        {"payloadVersion": "1.0", "destinationId": dest_id},
    )
    assert r.status_code == 200, r.text
    check(model, "createSubscription", r)
    sub_id = r.json()["payload"]["subscriptionId"]
    check(model, "getSubscription", seller.get("/notifications/v1/subscriptions/REPORT_PROCESSING_FINISHED"))
    check(
        model,
        "getSubscriptionById",
        g.get(f"/notifications/v1/subscriptions/REPORT_PROCESSING_FINISHED/{sub_id}"),
    )
    check(
        model,
        "deleteSubscriptionById",
        g.delete(f"/notifications/v1/subscriptions/REPORT_PROCESSING_FINISHED/{sub_id}"),
    )
    check(
        model, "getSubscription", seller.get("/notifications/v1/subscriptions/REPORT_PROCESSING_FINISHED")
    )  # 404
    check(model, "deleteDestination", g.delete(f"/notifications/v1/destinations/{dest_id}"))
