"""Red-team: documents that are not what they claim to be never replace good data (issue 10 point 3).

A pre-signed URL can answer with an HTML or S3 XML error page, a proxy can hand back an empty body, a
report can arrive in a layout whose header names none of the declared columns (an unknown localized
header, another report's file). Each of these used to land as a valid snapshot: the listings table of
the account/marketplace was emptied or replaced by null rows, ledger INGESTED, sync exit 0.
Through the real ingest path (tests/support/conformance.py), against the real DE listings file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from tests.support.conformance import REAL, ConformanceLab, read_flat

DE = "A1PA6795UKMFR9"
LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"

NOT_A_LISTINGS_DOCUMENT = {
    "html error page": b"<html><body><h1>503 Service Unavailable</h1></body></html>\n",
    "S3 XML error": b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
    "foreign header only": b"foo\tbar\tbaz\n",
    "foreign header with rows": b"foo\tbar\tbaz\n1\t2\t3\n4\t5\t6\n",
    "empty body": b"",
}


def _skus(lab: ConformanceLab) -> list[tuple[str, str]]:
    rows = lab.sql(f"select seller_sku, report_id from merchant_listings where marketplace_id = '{DE}'")
    return sorted((r["seller_sku"], r["report_id"]) for r in rows)


def test_a_document_that_is_not_a_listings_report_never_replaces_the_snapshot(tmp_path: Path) -> None:
    de = REAL["GET_MERCHANT_LISTINGS_ALL_DATA/saleweaver-de.txt"]
    ff = read_flat(de.path)
    with ConformanceLab(tmp_path) as lab:
        good = lab.land(de)
        assert good.status == "INGESTED"
        before = _skus(lab)
        sku = ff.header.index("seller-sku")
        assert before == sorted((f[sku], good.report_id) for _, f in ff.rows)  # 40 rows, read independently
        for what, body in NOT_A_LISTINGS_DOCUMENT.items():
            out = lab.land_bytes(body, report_type=LISTINGS, marketplaces=("DE",), content_type="text/plain")
            assert out.status == "HELD", (what, out.status, out.entry.reason)
            assert _skus(lab) == before, what  # the snapshot is untouched
            assert "header" in (out.entry.reason or ""), (what, out.entry.reason)


def test_a_header_only_listings_document_is_an_empty_snapshot(tmp_path: Path) -> None:
    """What Amazon sends for a seller without listings: the declared header and no rows. That is a
    valid snapshot (the seller has no listings now), distinguishable from the broken documents above
    by its header, so it does replace the previous rows."""
    de = REAL["GET_MERCHANT_LISTINGS_ALL_DATA/saleweaver-de.txt"]
    header = de.path.read_bytes().split(b"\n", 1)[0]
    with ConformanceLab(tmp_path) as lab:
        for ending in (b"\n", b"\r\n", b""):
            assert lab.land(de).status == "INGESTED"
            assert len(_skus(lab)) == 40
            out = lab.land_bytes(
                header + ending, report_type=LISTINGS, marketplaces=("DE",), content_type="text/plain"
            )
            assert out.status == "INGESTED" and out.entry.rows == 0
            assert _skus(lab) == []


def test_a_json_document_without_any_declared_section_never_replaces_the_window(tmp_path: Path) -> None:
    """Sales & Traffic replaces its window: a JSON object with none of the report's sections (an API
    gateway's `{}`, a bare specification) used to delete the window's rows and land one of nulls."""
    st = REAL["GET_SALES_AND_TRAFFIC_REPORT/amzn-models-example.json"]
    doc = json.loads(st.path.read_text(encoding="utf-8"))
    spec = doc["reportSpecification"]
    start = datetime.fromisoformat(spec["dataStartTime"]).replace(tzinfo=UTC)
    window = (start, datetime.fromisoformat(spec["dataEndTime"]).replace(tzinfo=UTC) + timedelta(days=1))
    n_records = len(doc["salesAndTrafficByDate"]) + len(doc["salesAndTrafficByAsin"])
    with ConformanceLab(tmp_path) as lab:
        first = lab.land(st, window=window)
        assert first.status == "INGESTED"
        before = sorted(r["row_key"] for r in lab.rows("sales_and_traffic"))
        assert len(before) == n_records
        for body in ({}, {"reportSpecification": spec}):
            out = lab.land_bytes(
                json.dumps(body).encode(),
                report_type=st.report_type,
                marketplaces=("US",),
                content_type="application/json",
                window=window,
            )
            assert out.status == "HELD", (body, out.status, out.entry.reason)
            assert sorted(r["row_key"] for r in lab.rows("sales_and_traffic")) == before
        # a document with the sections present but empty is a real answer (nothing in the window)
        empty = {"reportSpecification": spec, "salesAndTrafficByDate": [], "salesAndTrafficByAsin": []}
        out = lab.land_bytes(
            json.dumps(empty).encode(),
            report_type=st.report_type,
            marketplaces=("US",),
            content_type="application/json",
            window=window,
        )
        assert out.status == "INGESTED"
        assert lab.rows("sales_and_traffic") == []


def test_a_trailing_tab_on_the_header_or_on_the_rows_alone_lands_every_row(tmp_path: Path) -> None:
    """A trailing tab on the header line but not on the data lines (or the other way round) used to make
    every row 'ragged': the whole document held, every refresh."""
    de = REAL["GET_MERCHANT_LISTINGS_ALL_DATA/saleweaver-de.txt"]
    ff = read_flat(de.path)
    sku, price = ff.header.index("seller-sku"), ff.header.index("price")
    want = {f[sku]: Decimal(f[price]) for _, f in ff.rows}
    lines = de.path.read_bytes().decode("utf-8").split("\n")
    data = [ln for ln in lines[1:] if "\t" in ln]  # the 40 rows (the 0x10 garbage line left out)

    def doc(header_tab: bool, rows_tab: bool, extra: str = "") -> bytes:
        rows = [ln + ("\t" if rows_tab else "") for ln in data]
        if extra:
            rows.append(rows[0].replace(data[0].split("\t")[sku], "EXTRA-SKU") + extra)
        return "\n".join([lines[0] + ("\t" if header_tab else ""), *rows, ""]).encode("utf-8")

    with ConformanceLab(tmp_path) as lab:
        for header_tab, rows_tab in ((True, False), (False, True), (True, True)):
            out = lab.land_bytes(
                doc(header_tab, rows_tab),
                report_type=LISTINGS,
                marketplaces=("DE",),
                content_type="text/plain",
            )
            assert out.status == "INGESTED" and out.entry.quarantined == 0, (header_tab, rows_tab, out.entry)
            got = {r["seller_sku"]: r["price"] for r in lab.rows("merchant_listings", out.report_id)}
            assert got == want, (header_tab, rows_tab)
        # a value where only the empty trailing field may be: that row is quarantined, not cut
        out = lab.land_bytes(
            doc(False, True, extra="surprise"),
            report_type=LISTINGS,
            marketplaces=("DE",),
            content_type="text/plain",
        )
        assert out.status == "INGESTED" and out.entry.rows == 40 and out.entry.quarantined == 1
        q = lab.quarantine("merchant_listings", out.report_id)
        assert len(q) == 1 and "EXTRA-SKU" in q[0]["raw_line"] and "surprise" in q[0]["raw_line"]
        assert "merchant_listings" in lab.tables()
        assert "__trailing_field__" not in lab.sql("select * from merchant_listings limit 1")[0]


def test_an_empty_body_never_replaces_a_window_of_orders(tmp_path: Path) -> None:
    """The order report replaces its window: a 0-byte document (no header: not a report Amazon wrote; a
    window without orders still has the header, and no data at all is CANCELLED) deleted the window's
    orders, ledger INGESTED."""
    orders = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
    header = (
        "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tsku\tquantity"
    )
    rows = [
        f"111-000000{i}-0000000\t\t2026-11-0{i}T10:00:00+00:00\t2026-11-0{i}T10:00:00+00:00\tShipped\tS{i}\t1"
        for i in range(1, 6)
    ]
    window = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 8, tzinfo=UTC))
    kw = {"report_type": orders, "marketplaces": ("US",), "content_type": "text/plain", "window": window}
    with ConformanceLab(tmp_path) as lab:
        assert lab.land_bytes(("\n".join([header, *rows]) + "\n").encode(), **kw).status == "INGESTED"
        ids = sorted(r["amazon_order_id"] for r in lab.rows("orders_by_order_date"))
        assert ids == sorted(r.split("\t")[0] for r in rows)
        out = lab.land_bytes(b"", **kw)
        assert out.status == "HELD" and "empty" in (out.entry.reason or "")
        assert sorted(r["amazon_order_id"] for r in lab.rows("orders_by_order_date")) == ids
        # the header alone is a real answer: no orders in the window
        assert lab.land_bytes((header + "\n").encode(), **kw).status == "INGESTED"
        assert lab.rows("orders_by_order_date") == []


XML_ORDER = """<?xml version="1.0" encoding="UTF-8"?>
<AmazonEnvelope><Header><DocumentVersion>1.01</DocumentVersion></Header>{orders}</AmazonEnvelope>"""
ONE_ORDER = (
    "<Message><Order><AmazonOrderID>{id}</AmazonOrderID><PurchaseDate>2026-11-02T10:00:00+00:00</PurchaseDate>"
    "<OrderStatus>Shipped</OrderStatus><OrderItem><AmazonOrderItemCode>{id}1</AmazonOrderItemCode>"
    "<SKU>S</SKU><Quantity>1</Quantity></OrderItem></Order></Message>"
)


def test_an_xml_error_document_never_replaces_a_window_of_xml_orders(tmp_path: Path) -> None:
    """An S3 <Error> document (well-formed XML, no order in it) used to delete the window's orders."""
    kw = {
        "report_type": "GET_XML_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
        "marketplaces": ("US",),
        "content_type": "text/xml",
        "window": (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 8, tzinfo=UTC)),
    }
    ids = ["111-0000001-0000001", "111-0000002-0000002"]
    body = XML_ORDER.format(orders="".join(ONE_ORDER.format(id=i) for i in ids)).encode()
    with ConformanceLab(tmp_path) as lab:
        assert lab.land_bytes(body, **kw).status == "INGESTED"
        table = "orders_xml_by_order_date"
        assert sorted(r["amazon_order_id"] for r in lab.rows(table)) == ids
        s3 = b'<?xml version="1.0" encoding="UTF-8"?>\n'
        s3 += b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
        out = lab.land_bytes(s3, **kw)
        assert out.status == "HELD" and "<Error>" in (out.entry.reason or ""), out.entry.reason
        assert sorted(r["amazon_order_id"] for r in lab.rows(table)) == ids
        # an envelope without orders is a real answer: none in the window
        assert lab.land_bytes(XML_ORDER.format(orders="").encode(), **kw).status == "INGESTED"
        assert lab.rows(table) == []
