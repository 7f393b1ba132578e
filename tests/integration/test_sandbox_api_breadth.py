"""Sandbox behaviours the third-party client suite cannot see directly: scheduled reports are created when
due, every unserved path answers Amazon's JSON 403 with a request id, pre-signed URLs use the configured
public URL whatever Host the caller sent, and listFinancialEventGroups totals match the shipment events."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from splake.sandbox import SandboxServer
from tests.support.contract import validate_response
from tests.support.sandbox_fixtures import SpCaller

REPORTS = "reports_2021-06-30.json"
LISTINGS_ALL = "GET_MERCHANT_LISTINGS_ALL_DATA"


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_schedule_creates_reports_when_due_and_replaces_same_kind(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox)
    mp = [sp.account.marketplace_ids[0]]
    first = sp.post(
        "/reports/2021-06-30/schedules", {"reportType": LISTINGS_ALL, "marketplaceIds": mp, "period": "PT5M"}
    )
    assert first.status_code == 201, first.text
    validate_response(REPORTS, "createReportSchedule", 201, first.json())
    # time_scale 0.001: a 5-minute period is 0.3 s; wait for two scheduled reports.
    deadline = time.monotonic() + 10
    while True:
        got = sp.get("/reports/2021-06-30/reports", {"reportTypes": LISTINGS_ALL})
        scheduled = [
            r for r in got.json()["reports"] if r.get("reportScheduleId") == first.json()["reportScheduleId"]
        ]
        if len(scheduled) >= 2:
            break
        assert time.monotonic() < deadline, got.json()
        time.sleep(0.1)
    validate_response(REPORTS, "getReports", 200, got.json())
    again = sp.post(
        "/reports/2021-06-30/schedules", {"reportType": LISTINGS_ALL, "marketplaceIds": mp, "period": "P1D"}
    )
    listed = sp.get("/reports/2021-06-30/schedules", {"reportTypes": LISTINGS_ALL}).json()["reportSchedules"]
    assert [(s["reportScheduleId"], s["period"]) for s in listed] == [
        (again.json()["reportScheduleId"], "P1D")
    ]
    gone = sp.delete(f"/reports/2021-06-30/schedules/{again.json()['reportScheduleId']}")
    assert gone.status_code == 200
    assert sp.get("/reports/2021-06-30/schedules", {"reportTypes": LISTINGS_ALL}).json() == {
        "reportSchedules": []
    }
    bad = sp.post(
        "/reports/2021-06-30/schedules", {"reportType": LISTINGS_ALL, "marketplaceIds": mp, "period": "PT1M"}
    )
    assert bad.status_code == 400
    validate_response(REPORTS, "createReportSchedule", 400, bad.json())


def test_unserved_paths_answer_amazons_json_403(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox)
    for method, path, op in (
        ("PATCH", "/listings/2021-08-01/items/X/SKU1", "patchListingsItem"),
        ("GET", "/orders/v0/orders/111-0000000-0000000/regulatedInfo", "getOrderRegulatedInfo"),
        ("POST", "/no/such/api", None),
    ):
        r = sp.http.request(method, path, headers=sp.headers())
        assert r.status_code == 403 and r.headers["content-type"].startswith("application/json")
        assert r.headers["x-amzn-RequestId"]
        err = r.json()["errors"][0]
        assert err["code"] == "Unauthorized" and err["message"] == "Access to requested resource is denied."
        assert (op or "No SP-API operation") in err["details"]


def test_presigned_url_ignores_the_callers_host(sandbox_factory: Callable[..., SandboxServer]) -> None:
    sb = sandbox_factory(public_url="https://sandbox.example.test:8443/")
    sp = SpCaller(sb)
    report = sp.wait_report(sp.create_report(LISTINGS_ALL))
    for host in ("evil.example", "127.0.0.1:1"):
        r = sp.http.get(
            f"/reports/2021-06-30/documents/{report['reportDocumentId']}",
            headers={**sp.headers(), "host": host},
        )
        assert r.status_code == 200
        assert r.json()["url"].startswith("https://sandbox.example.test:8443/_documents/")


def test_event_groups_total_the_shipment_events_of_their_period(
    sandbox_factory: Callable[..., SandboxServer],
) -> None:
    # Real time: the finances NextToken lives 180 s (at time_scale 0.001 it would be 0.18 s, which a busy
    # machine misses between pages); the few pages fit the 30-request burst.
    sp = SpCaller(sandbox_factory(time_scale=1.0))
    now = datetime.now(UTC)
    groups = sp.get(
        "/finances/v0/financialEventGroups",
        {"FinancialEventGroupStartedAfter": _iso(now - timedelta(days=40)), "MaxResultsPerPage": 100},
    )
    validate_response("financesV0.json", "listFinancialEventGroups", 200, groups.json())
    closed = [
        g for g in groups.json()["payload"]["FinancialEventGroupList"] if g["ProcessingStatus"] == "Closed"
    ]
    assert closed
    g = closed[-1]
    start = datetime.fromisoformat(g["FinancialEventGroupStart"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(g["FinancialEventGroupEnd"].replace("Z", "+00:00"))
    # Independent sum: page through listFinancialEvents for the same window and add every amount.
    currency = g["OriginalTotal"]["CurrencyCode"]
    total, params = 0.0, {"PostedAfter": _iso(start), "PostedBefore": _iso(end), "MaxResultsPerPage": 100}
    while True:
        page = sp.get("/finances/v0/financialEvents", params).json()["payload"]
        for ev in page["FinancialEvents"]["ShipmentEventList"]:
            for item in ev["ShipmentItemList"]:
                for c in item["ItemChargeList"]:
                    if c["ChargeAmount"]["CurrencyCode"] == currency:
                        total += c["ChargeAmount"]["CurrencyAmount"]
                for f in item["ItemFeeList"]:
                    if f["FeeAmount"]["CurrencyCode"] == currency:
                        total += f["FeeAmount"]["CurrencyAmount"]
        if not page.get("NextToken"):
            break
        params = {"NextToken": page["NextToken"]}
    assert abs(g["OriginalTotal"]["CurrencyAmount"] - round(total, 2)) < 0.01


def test_data_kiosk_finished_notification_via_sqs(sandbox_factory, moto_server, aws_queue) -> None:  # type: ignore[no-untyped-def]
    import json as _json

    from tests.support.contract import validate_notification
    from tests.support.sandbox_fixtures import grantless_token

    sqs = moto_server.client("sqs")
    arn = sqs.get_queue_attributes(QueueUrl=aws_queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sb: SandboxServer = sandbox_factory(aws_endpoint_url=moto_server.url)
    dest = SpCaller(sb, token=grantless_token(sb)).post(
        "/notifications/v1/destinations", {"name": "dk", "resourceSpecification": {"sqs": {"arn": arn}}}
    )
    sp = SpCaller(sb)
    sub = sp.post(
        "/notifications/v1/subscriptions/DATA_KIOSK_QUERY_PROCESSING_FINISHED",
        {"payloadVersion": "2023-11-15", "destinationId": dest.json()["payload"]["destinationId"]},
    )
    assert sub.status_code == 200, sub.text
    day = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    query = (
        "query { analytics_salesAndTraffic_2024_04_24 { salesAndTrafficByDate(startDate: "
        f'"{day}", endDate: "{day}", aggregateBy: DAY, marketplaceIds: ["ATVPDKIKX0DER"]) '
        "{ startDate sales { unitsOrdered } } } }"
    )
    created = sp.post("/dataKiosk/2023-11-15/queries", {"query": query})
    assert created.status_code == 202
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        msgs = sqs.receive_message(QueueUrl=aws_queue, WaitTimeSeconds=1).get("Messages", [])
        if msgs:
            break
    else:
        raise AssertionError("no DATA_KIOSK_QUERY_PROCESSING_FINISHED message")
    msg = _json.loads(msgs[0]["Body"])
    validate_notification("DataKioskQueryProcessingFinishedNotification.json", msg)
    payload = msg["payload"]
    assert payload["queryId"] == created.json()["queryId"] and payload["processingStatus"] == "DONE"
    got = sp.get(f"/dataKiosk/2023-11-15/queries/{payload['queryId']}").json()
    assert got["dataDocumentId"] == payload["dataDocumentId"]
