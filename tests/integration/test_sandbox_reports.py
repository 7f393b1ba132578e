"""Reports API 2021-06-30 on the sandbox: lifecycle, documents, pre-signed URLs, paging rules."""

from __future__ import annotations

import gzip
import json
import time
from datetime import UTC, datetime, timedelta

import httpx

from splake.sandbox import SandboxServer
from tests.support.sandbox_fixtures import SpCaller

BASE = "/reports/2021-06-30"
ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ground_truth(sb: SandboxServer, caller: SpCaller, report: dict) -> list[dict]:  # type: ignore[type-arg]
    return sb.world.report_rows(
        report["reportType"],
        caller.account.selling_partner_id,
        report["marketplaceIds"],
        datetime.fromisoformat(report["dataStartTime"]),
        datetime.fromisoformat(report["dataEndTime"]),
        as_of=datetime.fromisoformat(report["createdTime"]),
    )


def test_lifecycle_in_queue_in_progress_done(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sb: SandboxServer = sandbox_factory(
        time_scale=1.0, processing_seconds=2.4
    )  # 0.6 s queued, 1.8 s processing
    sp = SpCaller(sb, "seller-na")
    now = datetime.now(UTC)
    rid = sp.create_report(ORDERS, dataStartTime=iso(now - timedelta(days=2)), dataEndTime=iso(now))
    seen = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        r = sp.get(f"{BASE}/reports/{rid}")  # 2 r/s, burst 15: this pace stays under the limit
        assert r.status_code == 200, r.text
        status = r.json()["processingStatus"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if status == "DONE":
            break
        time.sleep(0.2)
    assert seen == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    report = sp.get(f"{BASE}/reports/{rid}").json()
    assert report["reportDocumentId"] and report["processingEndTime"] >= report["processingStartTime"]


def test_cancel_only_in_queue(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sb: SandboxServer = sandbox_factory(time_scale=1.0, processing_seconds=8)
    sp = SpCaller(sb, "seller-na")
    rid = sp.create_report("GET_MERCHANT_LISTINGS_ALL_DATA")
    r = sp.delete(f"{BASE}/reports/{rid}")
    assert r.status_code == 200
    assert sp.get(f"{BASE}/reports/{rid}").json()["processingStatus"] == "CANCELLED"
    sb.configure(time_scale=0.0)
    rid2 = sp.create_report("GET_MERCHANT_LISTINGS_ALL_DATA")
    assert sp.wait_report(rid2)["processingStatus"] == "DONE"
    r = sp.delete(f"{BASE}/reports/{rid2}")
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "InvalidInput"
    assert sp.delete(f"{BASE}/reports/999").status_code == 404


def test_jp_orders_round_trip_gzip_and_cp932(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox, "seller-jp")
    now = datetime.now(UTC)
    rid = sp.create_report(ORDERS, dataStartTime=iso(now - timedelta(days=20)), dataEndTime=iso(now))
    report = sp.wait_report(rid)
    assert report["processingStatus"] == "DONE"
    doc, dl = sp.download(report["reportDocumentId"])
    assert doc["compressionAlgorithm"] == "GZIP"
    assert dl.status_code == 200 and dl.headers["content-type"] == "text/plain;charset=Shift_JIS"
    assert "content-encoding" not in dl.headers
    text = gzip.decompress(dl.content).decode("cp932")
    header, *lines = text.splitlines()
    cols = header.split("\t")
    got = [dict(zip(cols, line.split("\t"), strict=True)) for line in lines]
    truth = sandbox.world.rows_for_report(report, sp.account.selling_partner_id)
    assert got == truth and len(got) > 100
    names = "".join(r["product-name"] for r in got)
    assert any(ch in names for ch in "①②③")


def test_content_encoding_flag_and_omitted_charset(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox, "seller-eu")
    report = sp.wait_report(sp.create_report("GET_MERCHANT_LISTINGS_ALL_DATA"))
    _, dl = sp.download(report["reportDocumentId"], enableContentEncodingUrlHeader="true")
    assert dl.headers["content-encoding"] == "gzip"
    assert dl.content.decode("cp1252").startswith("item-name\titem-description")  # httpx already gunzipped
    sandbox.configure(omit_charset=True)
    _, dl = sp.download(report["reportDocumentId"])
    assert dl.headers["content-type"] == "text/plain"


def test_presigned_url_expires_and_signature_is_checked(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    # X-Amz-Date is truncated to the second (as S3's), so use 2 s to keep the first download valid.
    sb: SandboxServer = sandbox_factory(presigned_ttl_seconds=2)
    sp = SpCaller(sb, "seller-na")
    report = sp.wait_report(sp.create_report("GET_AFN_INVENTORY_DATA"))
    doc, dl = sp.download(report["reportDocumentId"])
    assert dl.status_code == 200
    tampered = doc["url"].replace("X-Amz-Expires=2", "X-Amz-Expires=900")
    bad = httpx.get(tampered)
    assert bad.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in bad.text
    time.sleep(3.1)
    expired = httpx.get(doc["url"])
    assert expired.status_code == 403
    assert "<Code>AccessDenied</Code>" in expired.text and "Request has expired" in expired.text
    _, again = sp.download(report["reportDocumentId"])  # a fresh getReportDocument gives a fresh URL
    assert again.status_code == 200


def test_get_reports_paging_and_next_token_rule(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox, "seller-na")
    ids = [sp.create_report("GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA") for _ in range(5)]
    first = sp.get(
        f"{BASE}/reports", {"reportTypes": "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA", "pageSize": 2}
    )
    assert first.status_code == 200
    page1 = first.json()
    token = page1["nextToken"]
    mixed = sp.get(f"{BASE}/reports", {"nextToken": token, "pageSize": 2})
    assert mixed.status_code == 400 and mixed.json()["errors"][0]["code"] == "InvalidInput"
    seen = [r["reportId"] for r in page1["reports"]]
    while token:
        page = sp.get(f"{BASE}/reports", {"nextToken": token}).json()
        seen += [r["reportId"] for r in page["reports"]]
        token = page.get("nextToken")
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    assert sp.get(f"{BASE}/reports").status_code == 400  # reportTypes or nextToken is required
    assert sp.get(f"{BASE}/reports", {"nextToken": "garbage"}).status_code == 400
    other = SpCaller(sandbox, "seller-eu")
    assert (
        other.get(f"{BASE}/reports", {"reportTypes": "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA"}).json()[
            "reports"
        ]
        == []
    )
    assert other.get(f"{BASE}/reports/{ids[0]}").status_code == 404


def test_create_report_validation(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox, "seller-na")
    now = datetime.now(UTC)
    cases = [
        ({"reportType": "GET_NOT_A_REPORT", "marketplaceIds": ["ATVPDKIKX0DER"]}, "Invalid reportType"),
        ({"reportType": ORDERS, "marketplaceIds": []}, "marketplaceIds"),
        ({"reportType": ORDERS, "marketplaceIds": ["A1PA6795UKMFR9"]}, "Invalid marketplaceIds"),
        (
            {
                "reportType": ORDERS,
                "marketplaceIds": ["ATVPDKIKX0DER"],
                "dataStartTime": iso(now),
                "dataEndTime": iso(now - timedelta(days=1)),
            },
            "dataStartTime",
        ),
        (
            {
                "reportType": ORDERS,
                "marketplaceIds": ["ATVPDKIKX0DER"],
                "dataEndTime": iso(now + timedelta(days=1)),
            },
            "future",
        ),
        (
            {"reportType": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2", "marketplaceIds": ["ATVPDKIKX0DER"]},
            "cannot be requested",
        ),
    ]
    for body, needle in cases:
        r = sp.post(f"{BASE}/reports", body)
        assert r.status_code == 400, body
        assert needle in r.json()["errors"][0]["message"]
        assert r.headers["x-amzn-RateLimit-Limit"]


def test_settlements_are_discoverable_and_downloadable(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox, "seller-eu")
    r = sp.get(
        f"{BASE}/reports", {"reportTypes": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2", "pageSize": 100}
    )
    reports = r.json()["reports"]
    assert len(reports) >= 3 * 5  # three marketplaces, every 14 days over 90 days
    assert all(x["processingStatus"] == "DONE" for x in reports)
    newest = reports[0]
    _, dl = sp.download(newest["reportDocumentId"])
    text = gzip.decompress(dl.content).decode("cp1252")
    header, first, *_ = text.splitlines()
    assert header.split("\t")[:3] == ["settlement-id", "settlement-start-date", "settlement-end-date"]
    rows = ground_truth(sandbox, sp, newest)
    assert first.split("\t")[0] == rows[0]["settlement-id"] and len(text.splitlines()) == len(rows) + 1


def test_empty_window_is_cancelled_like_amazon(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox, "seller-na")
    day = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    for offset in range(0, 3600, 7):  # find a 1-second window with no orders (ground truth)
        t = day + timedelta(seconds=offset)
        if not sandbox.world.report_rows(
            ORDERS, sp.account.selling_partner_id, sp.account.marketplace_ids, t, t
        ):
            break
    report = sp.wait_report(sp.create_report(ORDERS, dataStartTime=iso(t), dataEndTime=iso(t)))
    assert report["processingStatus"] == "CANCELLED" and "reportDocumentId" not in report


def test_vendor_reports_fatal_with_error_document(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox, "vendor-na")
    report = sp.wait_report(sp.create_report("GET_VENDOR_SALES_REPORT"))
    assert report["processingStatus"] == "FATAL"
    _, dl = sp.download(report["reportDocumentId"])
    details = json.loads(gzip.decompress(dl.content))["errorDetails"]
    assert "requires the reportPeriod, distributorView, sellingProgram reportOption" in details
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    opts = {"reportPeriod": "DAY", "distributorView": "MANUFACTURING", "sellingProgram": "RETAIL"}
    ok = sp.wait_report(
        sp.create_report(
            "GET_VENDOR_SALES_REPORT",
            reportOptions=opts,
            dataStartTime=iso(today - timedelta(days=5)),  # vendor data lags 72 h (on by default)
            dataEndTime=iso(today - timedelta(days=3, seconds=1)),
        )
    )
    assert ok["processingStatus"] == "DONE"
    seller_asks_vendor = SpCaller(sandbox, "seller-na")
    bad = seller_asks_vendor.wait_report(
        seller_asks_vendor.create_report("GET_VENDOR_INVENTORY_REPORT", reportOptions=opts)
    )
    assert bad["processingStatus"] == "FATAL"


def test_jp_localized_headers_keep_positions(sandbox: SandboxServer) -> None:
    sandbox.configure(localized_headers=True)
    sp = SpCaller(sandbox, "seller-jp")
    report = sp.wait_report(sp.create_report("GET_MERCHANT_LISTINGS_ALL_DATA"))
    _, dl = sp.download(report["reportDocumentId"])
    header, first, *_ = gzip.decompress(dl.content).decode("cp932").splitlines()
    labels = header.split("\t")
    assert labels[:4] == ["商品名", "出品者による商品説明", "出品ID", "出品者SKU"]
    assert labels.count("適用外") > 1  # duplicated labels: map by position, not by name
    truth = ground_truth(sandbox, sp, report)[0]
    assert first.split("\t") == list(truth.values())
    na = SpCaller(sandbox, "seller-na")  # only JP marketplaces get Japanese labels
    us_report = na.wait_report(na.create_report("GET_MERCHANT_LISTINGS_ALL_DATA"))
    _, us = na.download(us_report["reportDocumentId"])
    assert gzip.decompress(us.content).decode("cp1252").startswith("item-name\titem-description\t")


def test_vendor_data_delay_makes_recent_windows_fatal(sandbox: SandboxServer) -> None:
    sandbox.configure(vendor_data_delay_hours=72)
    sp = SpCaller(sandbox, "vendor-na")
    opts = {"reportPeriod": "DAY", "distributorView": "SOURCING", "sellingProgram": "RETAIL"}
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    recent = sp.wait_report(
        sp.create_report(
            "GET_VENDOR_INVENTORY_REPORT",
            reportOptions=opts,
            dataStartTime=iso(today - timedelta(days=2)),
            dataEndTime=iso(today - timedelta(days=1, seconds=1)),
        )
    )
    assert recent["processingStatus"] == "FATAL"
    _, dl = sp.download(recent["reportDocumentId"])
    assert "not available yet" in json.loads(gzip.decompress(dl.content))["errorDetails"]
    old = sp.wait_report(
        sp.create_report(
            "GET_VENDOR_INVENTORY_REPORT",
            reportOptions=opts,
            dataStartTime=iso(today - timedelta(days=6)),
            dataEndTime=iso(today - timedelta(days=4, seconds=1)),
        )
    )
    assert old["processingStatus"] == "DONE"
    _, dl = sp.download(old["reportDocumentId"])
    doc = json.loads(gzip.decompress(dl.content))
    truth = sandbox.world.rows_for_report(old, sp.account.selling_partner_id, opts)
    assert [r for r in truth if r["section"] == "inventoryAggregate"] == [
        {"section": "inventoryAggregate", **r} for r in doc["inventoryAggregate"]
    ]


def test_same_seed_same_served_documents(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    def run(seed: int) -> tuple[str, str, bytes]:
        sb: SandboxServer = sandbox_factory(seed=seed)
        sp = SpCaller(sb, "seller-eu")
        report = sp.wait_report(sp.create_report("GET_MERCHANT_LISTINGS_ALL_DATA"))
        _, dl = sp.download(report["reportDocumentId"])
        return report["reportId"], report["reportDocumentId"], dl.content

    a, b, c = run(21), run(21), run(22)
    assert a == b  # ids and gzip bytes (snapshot reports only depend on the day)
    assert a[2] != c[2] and a[1] != c[1]


def _wait_slowly(sp: SpCaller, rid: str) -> dict:  # type: ignore[type-arg]
    """Poll at 2 r/s (getReport's rate at time_scale 1)."""
    deadline = time.monotonic() + 20
    while True:
        report = sp.get(f"{BASE}/reports/{rid}").json()
        if report["processingStatus"] in {"DONE", "FATAL", "CANCELLED"} or time.monotonic() > deadline:
            return report  # type: ignore[no-any-return]
        time.sleep(0.6)


def test_document_rendered_while_in_progress_is_the_same_document(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    """A report with a long processing time is rendered ahead (worker process) and adopted at its due time:
    the served rows are the world's ground truth, and a knob changed in between (schema drift) still
    changes the document, as when it was rendered at the due time."""
    sb: SandboxServer = sandbox_factory(time_scale=1.0, processing_seconds=2.4)
    sp = SpCaller(sb, "seller-eu")
    now = datetime.now(UTC)
    rid = sp.create_report(ORDERS, dataStartTime=iso(now - timedelta(days=3)), dataEndTime=iso(now))
    report = _wait_slowly(sp, rid)
    assert report["processingStatus"] == "DONE"
    _, dl = sp.download(report["reportDocumentId"])
    header, *lines = gzip.decompress(dl.content).decode("cp1252").splitlines()
    cols = header.split("\t")
    got = [dict(zip(cols, line.split("\t"), strict=True)) for line in lines]
    assert got == ground_truth(sb, sp, report) and len(got) > 10
    assert sb.state.prerender.adopted == 1

    listing = sp.create_report("GET_MERCHANT_LISTINGS_ALL_DATA")
    sb.configure(schema_drift=True)  # after createReport, before the report is due
    _, dl = sp.download(_wait_slowly(sp, listing)["reportDocumentId"])
    header = gzip.decompress(dl.content).decode("cp1252").splitlines()[0].split("\t")
    assert "Business Price" in header, "the B2B drift column is in the document"
    assert sb.state.prerender.adopted == 1, "the pre-rendered document was for the request without drift"
