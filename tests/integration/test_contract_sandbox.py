"""Every sandbox response (success and error) of the Reports, Sellers and Tokens operations validates
against Amazon's official models (and declares no undocumented keys)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx

from splake.sandbox import SandboxServer
from tests.support.contract import validate_definition, validate_response
from tests.support.sandbox_fixtures import SpCaller

REPORTS = "reports_2021-06-30.json"
B = "/reports/2021-06-30"


def check(model: str, op: str, r: httpx.Response) -> None:
    body = r.json() if r.content else None
    validate_response(model, op, r.status_code, body)


def test_reports_operations_match_the_model(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sb: SandboxServer = sandbox_factory(processing_seconds=2000)  # 0.5 s queued + 1.5 s processing at 0.001
    sp = SpCaller(sb, "seller-na")
    now = datetime.now(UTC)
    create = sp.post(
        f"{B}/reports",
        {
            "reportType": "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
            "marketplaceIds": ["ATVPDKIKX0DER"],
            "dataStartTime": (now - timedelta(days=2)).isoformat(),
        },
    )
    assert create.status_code == 202
    check(REPORTS, "createReport", create)
    rid = create.json()["reportId"]
    statuses = set()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        r = sp.get(f"{B}/reports/{rid}")
        check(REPORTS, "getReport", r)
        statuses.add(r.json()["processingStatus"])
        if r.json()["processingStatus"] == "DONE":
            break
        time.sleep(0.02)
    assert {"IN_QUEUE", "IN_PROGRESS", "DONE"} <= statuses
    report = r.json()

    queued = sp.create_report("GET_MERCHANT_LISTINGS_ALL_DATA")
    cancel = sp.delete(f"{B}/reports/{queued}")
    assert cancel.status_code == 200
    check(REPORTS, "cancelReport", cancel)
    check(REPORTS, "getReport", sp.get(f"{B}/reports/{queued}"))  # CANCELLED
    check(REPORTS, "cancelReport", sp.delete(f"{B}/reports/{rid}"))  # 400: not IN_QUEUE
    check(REPORTS, "cancelReport", sp.delete(f"{B}/reports/0"))  # 404

    vendor = SpCaller(sb, "vendor-na")
    fatal = vendor.wait_report(vendor.create_report("GET_VENDOR_SALES_REPORT"))
    validate_definition(REPORTS, "Report", fatal)
    assert fatal["processingStatus"] == "FATAL"

    listing = sp.get(
        f"{B}/reports",
        {
            "reportTypes": ",".join(
                ("GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL", "GET_MERCHANT_LISTINGS_ALL_DATA")
            ),
            "pageSize": 1,
        },
    )
    check(REPORTS, "getReports", listing)
    assert "nextToken" in listing.json()
    check(REPORTS, "getReports", sp.get(f"{B}/reports", {"nextToken": listing.json()["nextToken"]}))
    check(
        REPORTS,
        "getReports",
        sp.get(
            f"{B}/reports", {"reportTypes": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2", "pageSize": 100}
        ),
    )
    check(
        REPORTS,
        "getReports",
        sp.get(f"{B}/reports", {"nextToken": listing.json()["nextToken"], "pageSize": 3}),
    )  # 400
    check(REPORTS, "getReports", sp.get(f"{B}/reports", {"reportTypes": "X", "pageSize": 1000}))  # 400

    doc = sp.get(f"{B}/documents/{report['reportDocumentId']}")
    check(REPORTS, "getReportDocument", doc)
    check(REPORTS, "getReportDocument", sp.get(f"{B}/documents/amzn1.spdoc.nope"))  # 404
    check(REPORTS, "getReport", sp.get(f"{B}/reports/0"))  # 404
    check(
        REPORTS,
        "createReport",
        sp.post(f"{B}/reports", {"reportType": "NOPE", "marketplaceIds": ["ATVPDKIKX0DER"]}),
    )

    # Auth, throttling and injected faults keep Amazon's ErrorList shape on every operation.
    unauth = httpx.get(sb.url + f"{B}/reports/{rid}", headers={"x-amz-access-token": "Atza|bogus"})
    check(REPORTS, "getReport", unauth)
    sb.configure(spurious_429_rate=1.0)
    check(REPORTS, "getReports", sp.get(f"{B}/reports", {"reportTypes": "GET_MERCHANT_LISTINGS_ALL_DATA"}))
    sb.configure(spurious_429_rate=0.0, error_rate=1.0)
    for op, resp in (
        (
            "createReport",
            sp.post(
                f"{B}/reports",
                {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": ["ATVPDKIKX0DER"]},
            ),
        ),
        ("getReport", sp.get(f"{B}/reports/{rid}")),
        ("getReportDocument", sp.get(f"{B}/documents/{report['reportDocumentId']}")),
        ("cancelReport", sp.delete(f"{B}/reports/{rid}")),
    ):
        assert resp.status_code in {500, 503}
        check(REPORTS, op, resp)


def test_sellers_and_tokens_match_the_model(sandbox: SandboxServer) -> None:
    for account in ("seller-na", "seller-eu", "seller-jp"):
        sp = SpCaller(sandbox, account)
        r = sp.get("/sellers/v1/marketplaceParticipations")
        assert r.status_code == 200
        check("sellers.json", "getMarketplaceParticipations", r)
        assert {p["marketplace"]["id"] for p in r.json()["payload"]} == set(sp.account.marketplace_ids)
    vendor = SpCaller(sandbox, "vendor-na")
    check("sellers.json", "getMarketplaceParticipations", vendor.get("/sellers/v1/marketplaceParticipations"))

    sp = SpCaller(sandbox, "seller-na")
    ok = sp.post(
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
    )
    assert ok.status_code == 200
    check("tokens_2021-03-01.json", "createRestrictedDataToken", ok)
    bad = sp.post(
        "/tokens/2021-03-01/restrictedDataToken", {"restrictedResources": [{"method": "PATCH", "path": "/x"}]}
    )
    assert bad.status_code == 400
    check("tokens_2021-03-01.json", "createRestrictedDataToken", bad)
