"""`splake sandbox serve` as the offline SP-API for anyone's code: Amazon's official Python SDK
(``amzn-sp-api``) and ``python-amazon-sp-api`` run their documented flows against a real sandbox
subprocess, through a recording proxy; every SP-API response any client received must validate against
the official model of its operation (strict: no undeclared keys), and carry ``x-amzn-RequestId``.

Flows: reports (create → poll → document → download, a documented type without a sandbox layout,
schedules), catalog (several marketplaceIds), listings (get and search), orders (RDT for buyer data,
getOrder, getOrderItems), finances (events, event groups), FBA inventory (details, sellerSkus/sellerSku),
notifications (grantless token and seller token), error paths (invalid input, unknown report, an
operation the sandbox does not serve).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from splake.sandbox.apis.unserved import documented_operation
from tests.support.contract import validate_response
from tests.support.recording_proxy import Exchange, RecordingProxy

MISSING = [m for m in ("spapi", "sp_api") if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(
    bool(MISSING) and not os.environ.get("SPLAKE_CI"),
    reason=f"test extra not installed ({', '.join(MISSING)}): pip install -e '.[test]'",
)

US, CA = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"
# A documented report type the sandbox renders no layout for (its world has no such data): Amazon accepts
# the request and the report ends without data (CANCELLED), or DONE once a layout is declared.
NO_LAYOUT_TYPE = "GET_REFERRAL_FEE_PREVIEW_REPORT"


@dataclass
class Served:
    url: str  # the sandbox itself (pre-signed document URLs point here)
    proxy: RecordingProxy  # what the clients talk to
    client_id: str
    client_secret: str
    refresh_tokens: dict[str, str]
    selling_partner_ids: dict[str, str]


def _serve_lines(proc: subprocess.Popen[str], deadline: float) -> list[str]:
    lines: list[str] = []
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if "knobs:" in line:
            return lines
    raise AssertionError("splake sandbox serve did not start:\n" + "\n".join(lines))


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    splake = Path(sys.executable).with_name("splake")
    cmd = [str(splake)] if splake.exists() else [sys.executable, "-c", "from splake.cli import app; app()"]
    proc = subprocess.Popen(
        [*cmd, "sandbox", "serve", "--port", "0", "--time-scale", "0.01", "--seed", "7"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = _serve_lines(proc, time.monotonic() + 60)
        text = "\n".join(lines)
        url = re.search(r"listening on (http://\S+)", text)
        cid = re.search(r"client_id\s*:\s*(\S+)", text)
        secret = re.search(r"client_secret\s*:\s*(\S+)", text)
        assert url and cid and secret, text
        accounts = re.findall(r"^\s+(\S+)\s+(?:seller|vendor)\s+\S+\s+spid=(\S+)", text, re.M)
        tokens = re.findall(r"refresh_token=(\S+)", text)
        assert len(accounts) == len(tokens) >= 2, text
        with RecordingProxy(url.group(1)) as proxy:
            yield Served(
                url.group(1),
                proxy,
                cid.group(1),
                secret.group(1),
                {a: t for (a, _), t in zip(accounts, tokens, strict=True)},
                dict(accounts),
            )
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C: the server stops and removes its document files
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def check_exchanges(exchanges: list[Exchange]) -> set[str]:
    """Every SP-API response validates against its operation's official model; returns the operations."""
    seen: set[str] = set()
    for ex in exchanges:
        if ex.path == "/auth/o2/token":
            continue
        assert ex.headers.get("x-amzn-requestid"), f"{ex.method} {ex.path}: no x-amzn-RequestId"
        found = documented_operation(ex.method, ex.path)
        assert found is not None, f"{ex.method} {ex.path} is no documented operation"
        op, model = found
        assert ex.headers.get("content-type", "").startswith("application/json") or not ex.body, ex
        body = json.loads(ex.body) if ex.body else None
        validate_response(model, op, ex.status, body)
        seen.add(f"{op} {ex.status}")
    return seen


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Amazon's official SDK -------------------------------------------------------------------------------


def test_official_sdk_documented_flows(served: Served) -> None:
    from spapi import ApiException, SPAPIClient, SPAPIConfig
    from spapi.api.catalogitems_v2022_04_01.catalog_api import CatalogApi
    from spapi.api.fba_inventory_v1.fba_inventory_api import FbaInventoryApi
    from spapi.api.finances_v0.finances_v0_api import FinancesV0Api
    from spapi.api.listings_items_v2021_08_01.listings_api import ListingsApi
    from spapi.api.notifications_v1.notifications_api import NotificationsApi
    from spapi.api.orders_v0.orders_v0_api import OrdersV0Api
    from spapi.api.reports_v2021_06_30.reports_api import ReportsApi
    from spapi.api.tokens_v2021_03_01.tokens_api import TokensApi

    proxy = served.proxy
    proxy.take()
    lwa = proxy.url + "/auth/o2/token"

    def client(account: str = "seller-na", scope: str | None = None) -> Any:
        cfg = (
            SPAPIConfig(served.client_id, served.client_secret, scope=scope, region="NA")
            if scope
            else SPAPIConfig(
                served.client_id,
                served.client_secret,
                refresh_token=served.refresh_tokens[account],
                region="NA",
            )
        )
        return SPAPIClient(cfg, oauth_endpoint=lwa, endpoint=proxy.url).api_client

    seller = client()
    spid = served.selling_partner_ids["seller-na"]

    # Reports: create → poll → document → download.
    reports = ReportsApi(seller)
    rid = reports.create_report(
        {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [US]}
    ).report_id
    deadline = time.monotonic() + 30
    while (report := reports.get_report(rid)).processing_status not in ("DONE", "FATAL", "CANCELLED"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert report.processing_status == "DONE"
    doc = reports.get_report_document(report.report_document_id)
    assert doc.url.startswith(served.url + "/"), "pre-signed URL must not depend on the caller's host"
    raw = httpx.get(doc.url, timeout=30)
    assert raw.status_code == 200
    lines = gzip.decompress(raw.content).decode(raw.charset_encoding or "utf-8").splitlines()
    assert lines[0].startswith("item-name\t") and len(lines) > 1
    # A documented type without a sandbox layout is accepted (never 400) and ends like a no-data report.
    other = reports.create_report({"reportType": NO_LAYOUT_TYPE, "marketplaceIds": [US]}).report_id
    deadline = time.monotonic() + 30
    while (report := reports.get_report(other)).processing_status in ("IN_QUEUE", "IN_PROGRESS"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert report.processing_status in ("CANCELLED", "DONE")
    # Schedules.
    sched = reports.create_report_schedule(
        {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [US], "period": "P1D"}
    )
    listed = reports.get_report_schedules(["GET_MERCHANT_LISTINGS_ALL_DATA"]).report_schedules
    assert [s.report_schedule_id for s in listed] == [sched.report_schedule_id]
    assert listed[0].period == "P1D"

    # Catalog: several marketplaces in one getCatalogItem.
    listings = ListingsApi(seller)
    page = listings.search_listings_items(spid, [US], page_size=20, included_data=["summaries"])
    assert page.number_of_results > 20 and len(page.items) == 20 and page.pagination.next_token
    page2 = listings.search_listings_items(spid, [US], page_size=20, page_token=page.pagination.next_token)
    assert {i.sku for i in page.items}.isdisjoint({i.sku for i in page2.items})
    sku = page.items[0].sku
    one = listings.get_listings_item(spid, sku, [US], included_data=["summaries", "offers"])
    asin = one.summaries[0].asin
    by_sku = listings.search_listings_items(
        spid, [US], identifiers=[sku], identifiers_type="SKU", included_data=["summaries"]
    )
    assert [i.sku for i in by_sku.items] == [sku] and by_sku.items[0].summaries[0].asin == asin
    item = CatalogApi(seller).get_catalog_item(asin, [US, CA], included_data=["summaries", "salesRanks"])
    assert {s.marketplace_id for s in item.summaries} == {US, CA}

    # Orders with a Restricted Data Token (buyer info inline), then getOrder / getOrderItems.
    rdt = (
        TokensApi(seller)
        .create_restricted_data_token(
            {
                "restrictedResources": [
                    {"method": "GET", "path": "/orders/v0/orders", "dataElements": ["buyerInfo"]}
                ]
            }
        )
        .restricted_data_token
    )

    class Fixed:
        def get_lwa_access_token(self) -> str:
            return rdt

    from spapi import ApiClient, Configuration

    rdt_cfg = Configuration()
    rdt_cfg.host = proxy.url
    rdt_cfg.access_token_cache = Fixed()
    now = datetime.now(UTC)
    orders = OrdersV0Api(ApiClient(rdt_cfg)).get_orders(
        [US],
        last_updated_after=_iso(now - timedelta(days=3)),
        last_updated_before=_iso(now - timedelta(minutes=5)),
    )
    assert orders.payload.orders and all(o.buyer_info.buyer_email for o in orders.payload.orders)
    oid = orders.payload.orders[0].amazon_order_id
    plain = OrdersV0Api(seller)
    assert plain.get_order(oid).payload.amazon_order_id == oid
    assert plain.get_order_items(oid).payload.order_items
    # Orders 2026-01-01: the same order, items inline, buyer data without an RDT.
    from spapi.api.orders_v2026_01_01.get_order_api import GetOrderApi
    from spapi.api.orders_v2026_01_01.search_orders_api import SearchOrdersApi

    found = SearchOrdersApi(seller).search_orders(
        last_updated_after=now - timedelta(days=3),
        last_updated_before=now - timedelta(minutes=5),
        marketplace_ids=[US],
        max_results_per_page=10,
        included_data=["BUYER", "PROCEEDS", "FULFILLMENT"],
    )
    assert found.orders and found.pagination.next_token
    assert all(o.order_items and o.buyer.buyer_email for o in found.orders)
    again = GetOrderApi(seller).get_order(oid, included_data=["PROCEEDS"]).order
    assert again.order_id == oid and again.order_items and again.proceeds.grand_total.amount

    # Finances.
    fin = FinancesV0Api(seller)
    events = fin.list_financial_events(posted_after=_iso(now - timedelta(days=7)), max_results_per_page=5)
    assert events.payload.financial_events.shipment_event_list
    groups = fin.list_financial_event_groups(
        financial_event_group_started_after=_iso(now - timedelta(days=60))
    ).payload.financial_event_group_list
    assert groups and {g.processing_status for g in groups} <= {"Open", "Closed"}

    # FBA inventory: details only when asked; sellerSkus / sellerSku filter.
    fba = FbaInventoryApi(seller)
    summaries = fba.get_inventory_summaries("Marketplace", US, [US]).payload.inventory_summaries
    assert summaries and all(s.inventory_details is None for s in summaries)
    skus = [s.seller_sku for s in summaries[:3]]
    picked = fba.get_inventory_summaries("Marketplace", US, [US], details=True, seller_skus=skus)
    assert sorted(s.seller_sku for s in picked.payload.inventory_summaries) == sorted(skus)
    assert all(s.inventory_details is not None for s in picked.payload.inventory_summaries)
    single = fba.get_inventory_summaries("Marketplace", US, [US], seller_sku=skus[0])
    assert [s.seller_sku for s in single.payload.inventory_summaries] == [skus[0]]

    # Notifications: grantless token and the seller's token both work for grantless operations.
    grantless = NotificationsApi(client(scope="sellingpartnerapi::notifications"))
    created = grantless.create_destination(
        {"name": "sdk", "resourceSpecification": {"sqs": {"arn": "arn:aws:sqs:us-east-1:123456789012:sdk"}}}
    )
    dest_id = created.payload.destination_id
    assert dest_id in {d.destination_id for d in NotificationsApi(seller).get_destinations().payload}
    grantless.delete_destination(dest_id)

    # Data Kiosk: createQuery → getQuery → getDocument → JSONL (gzip, Content-Encoding at the URL).
    from spapi.api.datakiosk_v2023_11_15.queries_api import QueriesApi

    dk = QueriesApi(seller)
    day = (now - timedelta(days=2)).date().isoformat()
    query = (
        "query { analytics_salesAndTraffic_2024_04_24 { salesAndTrafficByDate(startDate: "
        f'"{day}", endDate: "{day}", aggregateBy: DAY, marketplaceIds: ["{US}"]) '
        "{ startDate marketplaceId sales { unitsOrdered } traffic { sessions } } } }"
    )
    qid = dk.create_query({"query": query}).query_id
    deadline = time.monotonic() + 30
    while (q := dk.get_query(qid)).processing_status not in ("DONE", "FATAL", "CANCELLED"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert q.processing_status == "DONE" and q.data_document_id
    url = dk.get_document(q.data_document_id).document_url
    assert url.startswith(served.url + "/")
    lines = httpx.get(url, timeout=30).text.splitlines()  # httpx undoes Content-Encoding: gzip
    assert len(lines) == 1  # one day, one marketplace; only the selected fields
    rec = json.loads(lines[0])
    assert rec["startDate"] == day and rec["marketplaceId"] == US
    assert set(rec) == {"startDate", "marketplaceId", "sales", "traffic"}
    assert set(rec["sales"]) == {"unitsOrdered"} and set(rec["traffic"]) == {"sessions"}
    assert dk.get_queries(page_size=5).queries

    # Error paths: Amazon's JSON error shape through the SDK's exception.
    with pytest.raises(ApiException) as bad:
        reports.create_report({"reportType": "GET_NO_SUCH_REPORT", "marketplaceIds": [US]})
    assert bad.value.status == 400 and json.loads(bad.value.body)["errors"][0]["code"] == "InvalidInput"
    with pytest.raises(ApiException) as missing:
        reports.get_report("1")
    assert missing.value.status == 404
    with pytest.raises(ApiException) as unserved:
        plain.get_order_regulated_info(oid)
    assert unserved.value.status == 403
    assert json.loads(unserved.value.body)["errors"][0]["code"] == "Unauthorized"

    seen = check_exchanges(proxy.take())
    for op in (
        "createReport 202",
        "getReportDocument 200",
        "getReportSchedules 200",
        "searchListingsItems 200",
        "getCatalogItem 200",
        "getOrders 200",
        "getOrder 200",
        "searchOrders 200",
        "createQuery 202",
        "getQuery 200",
        "getDocument 200",
        "getQueries 200",
        "listFinancialEventGroups 200",
        "getInventorySummaries 200",
        "getDestinations 200",
        "createReport 400",
        "getReport 404",
        "getOrderRegulatedInfo 403",
    ):
        assert op in seen, (op, sorted(seen))


# --- python-amazon-sp-api ---------------------------------------------------------------------------------


def test_python_amazon_sp_api_documented_flows(served: Served) -> None:
    from sp_api.api import (
        CatalogItems,
        Finances,
        Inventories,
        ListingsItems,
        Notifications,
        Orders,
        Reports,
    )
    from sp_api.auth import AccessTokenClient
    from sp_api.base import Marketplaces, SellingApiException

    proxy = served.proxy
    proxy.take()

    class SandboxLwa(AccessTokenClient):  # type: ignore[misc]
        scheme = "http://"
        host = proxy.url.removeprefix("http://")

    creds = {
        "lwa_app_id": served.client_id,
        "lwa_client_secret": served.client_secret,
        "refresh_token": served.refresh_tokens["seller-na"],
    }

    def client(cls: Any, **kw: Any) -> Any:
        c = cls(marketplace=Marketplaces.US, credentials=creds, auth_token_client_class=SandboxLwa, **kw)
        c.endpoint = proxy.url  # the library has no endpoint option: every request goes to self.endpoint
        return c

    spid = served.selling_partner_ids["seller-na"]

    reports = client(Reports)
    rid = reports.create_report(
        reportType="GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
        marketplaceIds=[US],
        dataStartTime=_iso(datetime.now(UTC) - timedelta(days=2)),
    ).payload["reportId"]
    deadline = time.monotonic() + 30
    while (rep := reports.get_report(rid).payload)["processingStatus"] not in ("DONE", "FATAL", "CANCELLED"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert rep["processingStatus"] == "DONE"
    doc = reports.get_report_document(rep["reportDocumentId"], download=True)
    assert doc.payload["url"].startswith(served.url + "/")
    assert doc.payload["document"].splitlines()[0].startswith("amazon-order-id\t")
    sched = reports.create_report_schedule(
        reportType="GET_FLAT_FILE_OPEN_LISTINGS_DATA", marketplaceIds=[US], period="PT12H"
    ).payload
    got = reports.get_report_schedules(reportTypes=["GET_FLAT_FILE_OPEN_LISTINGS_DATA"]).payload
    assert sched["reportScheduleId"] in {s["reportScheduleId"] for s in got["reportSchedules"]}

    listings = client(ListingsItems)
    found = listings.search_listings_items(spid, marketplaceIds=[US], pageSize=5).payload
    assert len(found["items"]) == 5 and found["numberOfResults"] >= 5
    sku = found["items"][0]["sku"]
    one = listings.get_listings_item(spid, sku, marketplaceIds=[US]).payload
    asin = one["summaries"][0]["asin"]
    catalog = client(CatalogItems, version="2022-04-01")
    item = catalog.get_catalog_item(asin, marketplaceIds=[US, CA], includedData=["summaries"]).payload
    assert {s["marketplaceId"] for s in item["summaries"]} == {US, CA}

    orders = client(Orders)
    now = datetime.now(UTC)
    with_pii = orders.get_orders(
        LastUpdatedAfter=_iso(now - timedelta(days=3)),
        LastUpdatedBefore=_iso(now - timedelta(minutes=5)),
        RestrictedResources=["buyerInfo", "shippingAddress"],
    ).payload
    assert with_pii["Orders"] and all("BuyerEmail" in o["BuyerInfo"] for o in with_pii["Orders"])
    oid = with_pii["Orders"][0]["AmazonOrderId"]
    assert orders.get_order(oid).payload["AmazonOrderId"] == oid

    fin = client(Finances)
    groups = fin.list_financial_event_groups(
        FinancialEventGroupStartedAfter=_iso(now - timedelta(days=60))
    ).payload
    assert groups["FinancialEventGroupList"]

    inv = client(Inventories)
    picked = inv.get_inventory_summary_marketplace(details=True, marketplaceIds=[US]).payload
    first = picked["inventorySummaries"][0]
    assert "inventoryDetails" in first
    only = inv.get_inventory_summary_marketplace(sellerSkus=[first["sellerSku"]], marketplaceIds=[US]).payload
    assert [s["sellerSku"] for s in only["inventorySummaries"]] == [first["sellerSku"]]
    assert "inventoryDetails" not in only["inventorySummaries"][0]

    notes = client(Notifications)  # the library sends grantless operations with a client_credentials token
    dest = notes.create_destination(name="peer", arn="arn:aws:sqs:us-east-1:123456789012:peer").payload
    assert dest["destinationId"] in {d["destinationId"] for d in notes.get_destinations().payload}

    with pytest.raises(SellingApiException) as bad:
        reports.create_report(reportType="GET_NO_SUCH_REPORT", marketplaceIds=[US])
    assert bad.value.code == 400
    with pytest.raises(SellingApiException) as unserved:
        listings.patch_listings_item(spid, sku, marketplaceIds=[US], body={"productType": "X", "patches": []})
    assert unserved.value.code == 403

    seen = check_exchanges(proxy.take())
    for op in (
        "createReportSchedule 201",
        "searchListingsItems 200",
        "getCatalogItem 200",
        "createRestrictedDataToken 200",
        "getOrders 200",
        "listFinancialEventGroups 200",
        "getInventorySummaries 200",
        "createDestination 200",
        "patchListingsItem 403",
    ):
        assert op in seen, (op, sorted(seen))
