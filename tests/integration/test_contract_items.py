"""Contract of the items engineer's sandbox routes (catalog, listings, orders, finances, FBA inventory,
notifications): success and error bodies validate against Amazon's official models."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx

from splake.sandbox import SandboxServer
from splake.sandbox.catalog import products_for
from tests.support.contract import validate_notification, validate_response
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


# --- paging, errors and the notifications lifecycle (items engineer) ---------------------------------

CATALOG = "catalogItems_2022-04-01.json"
LISTINGS = "listingsItems_2021-08-01.json"
ORDERS = "ordersV0.json"
FINANCES = "financesV0.json"
FBA = "fbaInventory.json"
NOTIFICATIONS = "notifications.json"
ALL_CATALOG = (
    "attributes,classifications,dimensions,identifiers,images,productTypes,relationships,salesRanks,summaries"
)
ALL_LISTING = (
    "summaries,attributes,issues,offers,fulfillmentAvailability,procurement,relationships,productTypes"
)


def check_status(model: str, op: str, r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    validate_response(model, op, r.status_code, body)
    return body


def test_catalog_listings_paging_and_errors(sandbox) -> None:
    sp = SpCaller(sandbox, "seller-na")
    products = products_for(sandbox.world.seed, sp.account, sandbox.world.scale)[:25]
    asins = [p.asin for p in products]
    body = check_status(
        CATALOG,
        "searchCatalogItems",
        sp.get(
            "/catalog/2022-04-01/items",
            {
                "marketplaceIds": US,
                "identifiers": ",".join(asins[:20]),
                "identifiersType": "ASIN",
                "includedData": ALL_CATALOG,
                "pageSize": 5,
            },
        ),
        200,
    )
    assert body["numberOfResults"] == 20 and len(body["items"]) == 5 and body["pagination"]["nextToken"]
    page2 = check_status(
        CATALOG,
        "searchCatalogItems",
        sp.get(
            "/catalog/2022-04-01/items",
            {
                "marketplaceIds": US,
                "identifiers": ",".join(asins[:20]),
                "identifiersType": "ASIN",
                "pageSize": 5,
                "pageToken": body["pagination"]["nextToken"],
            },
        ),
        200,
    )
    assert {i["asin"] for i in page2["items"]}.isdisjoint({i["asin"] for i in body["items"]})
    check_status(
        CATALOG,
        "searchCatalogItems",
        sp.get(
            "/catalog/2022-04-01/items",
            {
                "marketplaceIds": US,
                "identifiers": ",".join(p.sku for p in products[:3]),
                "identifiersType": "SKU",
                "sellerId": sp.account.selling_partner_id,
            },
        ),
        200,
    )
    check_status(
        CATALOG,
        "searchCatalogItems",
        sp.get("/catalog/2022-04-01/items", {"marketplaceIds": US, "keywords": "x"}),
        200,
    )
    too_many = ",".join([*asins[:21], "B000000000"])
    check_status(
        CATALOG,
        "searchCatalogItems",
        sp.get(
            "/catalog/2022-04-01/items",
            {"marketplaceIds": US, "identifiers": too_many, "identifiersType": "ASIN"},
        ),
        400,
    )
    check_status(
        CATALOG,
        "searchCatalogItems",
        sp.get("/catalog/2022-04-01/items", {"marketplaceIds": f"{US},A2EUQ1WTGCTBG2", "keywords": "x"}),
        400,
    )
    check_status(
        CATALOG,
        "getCatalogItem",
        sp.get(f"/catalog/2022-04-01/items/{asins[0]}", {"marketplaceIds": US, "includedData": ALL_CATALOG}),
        200,
    )
    check_status(
        CATALOG, "getCatalogItem", sp.get("/catalog/2022-04-01/items/B000000000", {"marketplaceIds": US}), 404
    )
    check_status(
        CATALOG,
        "getCatalogItem",
        sp.get(f"/catalog/2022-04-01/items/{asins[0]}", {"marketplaceIds": US, "includedData": "bogus"}),
        400,
    )

    seller = sp.account.selling_partner_id
    for p in products[:10]:
        check_status(
            LISTINGS,
            "getListingsItem",
            sp.get(
                f"/listings/2021-08-01/items/{seller}/{p.sku}",
                {"marketplaceIds": US, "includedData": ALL_LISTING},
            ),
            200,
        )
    check_status(
        LISTINGS,
        "getListingsItem",
        sp.get(f"/listings/2021-08-01/items/{seller}/NOPE", {"marketplaceIds": US}),
        404,
    )
    check_status(
        LISTINGS, "getListingsItem", sp.get(f"/listings/2021-08-01/items/{seller}/{products[0].sku}"), 400
    )


def test_orders_finances_inventory_paging_and_errors(sandbox_factory) -> None:
    # Paging tokens expire after modelled seconds scaled by time_scale (FBA inventory: 30 s): 0.01 gives
    # the second page 0.3 s, enough on a busy machine (the default fixture's 0.001 gives only 30 ms).
    sandbox = sandbox_factory(time_scale=0.01)
    sp = SpCaller(sandbox, "seller-na")
    now = datetime.now(UTC)
    after = (now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    orders = check_status(
        ORDERS,
        "getOrders",
        sp.get(
            "/orders/v0/orders", {"MarketplaceIds": US, "LastUpdatedAfter": after, "MaxResultsPerPage": 20}
        ),
        200,
    )
    assert len(orders["payload"]["Orders"]) == 20 and orders["payload"]["NextToken"]
    check_status(
        ORDERS, "getOrders", sp.get("/orders/v0/orders", {"NextToken": orders["payload"]["NextToken"]}), 200
    )
    check_status(ORDERS, "getOrders", sp.get("/orders/v0/orders", {"MarketplaceIds": US}), 400)
    soon = (now - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    check_status(
        ORDERS,
        "getOrders",
        sp.get(
            "/orders/v0/orders", {"MarketplaceIds": US, "LastUpdatedAfter": after, "LastUpdatedBefore": soon}
        ),
        400,
    )
    oid = orders["payload"]["Orders"][0]["AmazonOrderId"]
    check_status(ORDERS, "getOrderItems", sp.get(f"/orders/v0/orders/{oid}/orderItems"), 200)
    check_status(ORDERS, "getOrderItems", sp.get("/orders/v0/orders/111-0000000-0000000/orderItems"), 404)
    # With an RDT for GET /orders/v0/orders + dataElements, getOrders returns buyer info and the address.
    rdt = sp.post(
        "/tokens/2021-03-01/restrictedDataToken",
        {
            "restrictedResources": [
                {
                    "method": "GET",
                    "path": "/orders/v0/orders",
                    "dataElements": ["buyerInfo", "shippingAddress"],
                }
            ]
        },
    ).json()["restrictedDataToken"]
    with_pii = httpx.get(
        f"{sandbox.url}/orders/v0/orders",
        params={"MarketplaceIds": US, "LastUpdatedAfter": after, "MaxResultsPerPage": 5},
        headers={"x-amz-access-token": rdt},
    )
    pii_orders = check_status(ORDERS, "getOrders", with_pii, 200)["payload"]["Orders"]
    assert all(o["BuyerInfo"]["BuyerEmail"] and o["ShippingAddress"]["AddressLine1"] for o in pii_orders)
    # PII needs a Restricted Data Token: the LWA token alone is refused.
    check_status(ORDERS, "getOrderAddress", sp.get(f"/orders/v0/orders/{oid}/address"), 403)

    fin = check_status(
        FINANCES,
        "listFinancialEvents",
        sp.get("/finances/v0/financialEvents", {"PostedAfter": after, "MaxResultsPerPage": 10}),
        200,
    )
    assert fin["payload"]["FinancialEvents"]["ShipmentEventList"] and fin["payload"]["NextToken"]
    check_status(
        FINANCES,
        "listFinancialEvents",
        sp.get("/finances/v0/financialEvents", {"NextToken": fin["payload"]["NextToken"]}),
        200,
    )
    check_status(
        FINANCES,
        "listFinancialEvents",
        sp.get("/finances/v0/financialEvents", {"PostedAfter": after, "PostedBefore": soon}),
        400,
    )

    params = {"granularityType": "Marketplace", "granularityId": US, "marketplaceIds": US, "details": "true"}
    inv = check_status(FBA, "getInventorySummaries", sp.get("/fba/inventory/v1/summaries", params), 200)
    assert len(inv["payload"]["inventorySummaries"]) == 50 and inv["pagination"]["nextToken"]
    check_status(
        FBA,
        "getInventorySummaries",
        sp.get("/fba/inventory/v1/summaries", {**params, "nextToken": inv["pagination"]["nextToken"]}),
        200,
    )
    check_status(
        FBA,
        "getInventorySummaries",
        sp.get("/fba/inventory/v1/summaries", {**params, "granularityType": "Store"}),
        400,
    )


def test_notifications_lifecycle_and_published_listings_notifications(sandbox_factory, moto_server) -> None:
    sqs = moto_server.client("sqs")
    url = sqs.create_queue(QueueName="splake-contract-eb")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sb = sandbox_factory(aws_endpoint_url=moto_server.url, eventbridge_queue_url=url)
    g = httpx.Client(base_url=sb.url, headers={"x-amz-access-token": grantless_token(sb)})
    sp = SpCaller(sb, "seller-na")
    n = "/notifications/v1"
    sqs_dest = check_status(
        NOTIFICATIONS,
        "createDestination",
        g.post(f"{n}/destinations", json={"name": "q", "resourceSpecification": {"sqs": {"arn": arn}}}),
        200,
    )
    check_status(
        NOTIFICATIONS,
        "createDestination",
        g.post(f"{n}/destinations", json={"name": "q", "resourceSpecification": {"sqs": {"arn": arn}}}),
        409,
    )
    check_status(NOTIFICATIONS, "createDestination", g.post(f"{n}/destinations", json={"name": "q"}), 400)
    eb = check_status(
        NOTIFICATIONS,
        "createDestination",
        g.post(
            f"{n}/destinations",
            json={
                "name": "eb",
                "resourceSpecification": {
                    "eventBridge": {"region": "us-east-1", "accountId": "123456789012"}
                },
            },
        ),
        200,
    )
    assert eb["payload"]["resource"]["eventBridge"]["name"].startswith(
        "aws.partner/sellingpartnerapi.amazon.com/"
    )
    dests = check_status(NOTIFICATIONS, "getDestinations", g.get(f"{n}/destinations"), 200)
    assert len(dests["payload"]) == 2
    check_status(
        NOTIFICATIONS,
        "getDestination",
        g.get(f"{n}/destinations/{sqs_dest['payload']['destinationId']}"),
        200,
    )
    # Seller operations refuse the grantless token; grantless ones also take a seller's LWA token (as
    # Amazon does) and see the same application-wide destinations.
    assert g.get(f"{n}/subscriptions/LISTINGS_ITEM_STATUS_CHANGE").status_code == 403
    seller_view = check_status(NOTIFICATIONS, "getDestinations", sp.get(f"{n}/destinations"), 200)
    assert seller_view == dests
    check_status(
        NOTIFICATIONS, "getSubscription", sp.get(f"{n}/subscriptions/LISTINGS_ITEM_STATUS_CHANGE"), 404
    )
    eb_id = eb["payload"]["destinationId"]
    # Listings notifications go through EventBridge only.
    check_status(
        NOTIFICATIONS,
        "createSubscription",
        sp.post(
            f"{n}/subscriptions/LISTINGS_ITEM_STATUS_CHANGE",
            {"payloadVersion": "1.0", "destinationId": sqs_dest["payload"]["destinationId"]},
        ),
        400,
    )
    sub = check_status(
        NOTIFICATIONS,
        "createSubscription",
        sp.post(
            f"{n}/subscriptions/LISTINGS_ITEM_STATUS_CHANGE",
            {"payloadVersion": "1.0", "destinationId": eb_id},
        ),
        200,
    )
    check_status(
        NOTIFICATIONS,
        "createSubscription",
        sp.post(
            f"{n}/subscriptions/LISTINGS_ITEM_STATUS_CHANGE",
            {"payloadVersion": "1.0", "destinationId": eb_id},
        ),
        409,
    )
    check_status(
        NOTIFICATIONS,
        "createSubscription",
        sp.post(
            f"{n}/subscriptions/LISTINGS_ITEM_ISSUES_CHANGE",
            {"payloadVersion": "2023-12-13", "destinationId": eb_id},
        ),
        200,
    )
    check_status(
        NOTIFICATIONS, "getSubscription", sp.get(f"{n}/subscriptions/LISTINGS_ITEM_STATUS_CHANGE"), 200
    )
    sid = sub["payload"]["subscriptionId"]
    check_status(
        NOTIFICATIONS,
        "getSubscriptionById",
        g.get(f"{n}/subscriptions/LISTINGS_ITEM_STATUS_CHANGE/{sid}"),
        200,
    )

    sku = products_for(sb.world.seed, sp.account, sb.world.scale)[0].sku
    r = httpx.post(
        f"{sb.url}/_sandbox/listings/{sp.account.selling_partner_id}/{sku}/status",
        json={
            "status": ["DISCOVERABLE"],
            "severities": ["WARNING"],
            "enforcementActions": ["SEARCH_SUPPRESSED"],
        },
    )
    assert r.json()["notificationsSent"] == 2
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    details = {json.loads(m["Body"])["detail-type"]: json.loads(m["Body"])["detail"] for m in got}
    validate_notification(
        "ListingsItemIssuesChangeNotification_2023-12-13.json", details["LISTINGS_ITEM_ISSUES_CHANGE"]
    )
    status = dict(details["LISTINGS_ITEM_STATUS_CHANGE"])
    # The official schema's enum says LISTINGS_ITEM_STATUS_CHANGED while its example and real messages say
    # LISTINGS_ITEM_STATUS_CHANGE: validate everything else against the schema.
    assert status["NotificationType"] == "LISTINGS_ITEM_STATUS_CHANGE"
    validate_notification(
        "ListingsItemStatusChangeNotification.json",
        {**status, "NotificationType": "LISTINGS_ITEM_STATUS_CHANGED"},
    )

    check_status(
        NOTIFICATIONS,
        "deleteSubscriptionById",
        g.delete(f"{n}/subscriptions/LISTINGS_ITEM_STATUS_CHANGE/{sid}"),
        200,
    )
    check_status(
        NOTIFICATIONS,
        "deleteDestination",
        g.delete(f"{n}/destinations/{sqs_dest['payload']['destinationId']}"),
        200,
    )
    check_status(
        NOTIFICATIONS,
        "getDestination",
        g.get(f"{n}/destinations/{sqs_dest['payload']['destinationId']}"),
        404,
    )
