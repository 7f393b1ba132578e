"""Streaming XML/JSON parsing: context fields repeat on their rows, typed components are named by type,
a DTD (the door to entity bombs) is refused, broken documents fail clearly, big JSON streams in chunks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from splake.errors import BadDataError, ReportFailedError
from splake.reports.formats import iter_document
from splake.reports.parse_stream import iter_json_stream
from splake.reports.types import REPORT_TYPES

XML_ORDERS = REPORT_TYPES["GET_XML_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"]
SEARCH_TERMS = REPORT_TYPES["GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT"]

DOC = """<?xml version="1.0" encoding="ISO-8859-1"?>
<!-- a comment before the root -->
<AmazonEnvelope><Header><DocumentVersion>1.01</DocumentVersion></Header>
<Message><MessageID>1</MessageID><Order><AmazonOrderID>111-1</AmazonOrderID>
<PurchaseDate>2026-11-01T10:00:00+00:00</PurchaseDate>
<FulfillmentData><FulfillmentChannel>Amazon</FulfillmentChannel><Address><City>Köln</City></Address></FulfillmentData>
<OrderItem><AmazonOrderItemCode>A1</AmazonOrderItemCode><SKU>S1</SKU><Quantity>2</Quantity><ItemPrice>
<Component><Type>Principal</Type><Amount currency="EUR">10.50</Amount></Component>
<Component><Type>Tax</Type><Amount currency="EUR">2.00</Amount></Component></ItemPrice></OrderItem>
<OrderItem><AmazonOrderItemCode>A2</AmazonOrderItemCode><SKU>S2</SKU><Quantity>1</Quantity></OrderItem>
</Order></Message>
<Message><MessageID>2</MessageID><Order><AmazonOrderID>111-2</AmazonOrderID>
<OrderItem><AmazonOrderItemCode>B1</AmazonOrderItemCode><SKU>S3</SKU></OrderItem>
<OrderStatus>Shipped</OrderStatus></Order></Message>
</AmazonEnvelope>
"""


def _rows(path: Path) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for chunk in iter_document(path, XML_ORDERS):
        assert chunk.bad == []
        out += chunk.table.to_pylist()
    return out


def test_xml_rows_carry_their_order_fields_and_typed_components(tmp_path: Path) -> None:
    path = tmp_path / "doc.xml"
    path.write_text(DOC, encoding="utf-8")  # decoded to UTF-8 whatever the declaration says
    rows = _rows(path)
    assert [(r["amazon_order_id"], r["amazon_order_item_code"], r["sku"]) for r in rows] == [
        ("111-1", "A1", "S1"),
        ("111-1", "A2", "S2"),
        ("111-2", "B1", "S3"),  # the next order's fields, not the previous order's
    ]
    first = rows[0]
    assert first["ship_city"] == "Köln" and first["fulfillment_channel"] == "Amazon"
    assert str(first["item_price"]) == "10.500000" and first["currency"] == "EUR"
    assert str(first["item_tax"]) == "2.000000" and first["quantity"] == 2
    assert rows[2]["ship_city"] is None and rows[2]["purchase_date"] is None
    assert rows[2]["order_status"] == "Shipped"  # an order field after its items still reaches them
    assert rows[0]["order_status"] is None


def test_a_dtd_is_refused(tmp_path: Path) -> None:
    bomb = '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>\n'
    path = tmp_path / "bomb.xml"
    path.write_text(
        bomb
        + "<AmazonEnvelope><Message><Order><OrderItem>&lol2;</OrderItem></Order></Message></AmazonEnvelope>"
    )
    with pytest.raises(BadDataError, match="DTD"):
        _rows(path)


def test_a_broken_xml_document_fails_with_where(tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_text(DOC[: len(DOC) // 2], encoding="utf-8")
    with pytest.raises(BadDataError, match="not well-formed") as exc:
        _rows(path)
    assert XML_ORDERS.name in (exc.value.where or "")


def test_large_json_streams_in_chunks_and_fills_the_period(tmp_path: Path) -> None:
    records = [
        {
            "departmentName": "Home",
            "searchTerm": f"term {i}",
            "searchFrequencyRank": i,
            "clickedAsin": f"B0{i:08d}",
            "clickShareRank": 1,
            "clickShare": 0.25,
            "conversionShare": 0.1,
        }
        for i in range(1, 251)
    ]
    doc = {"reportSpecification": {"dataStartTime": "2026-11-01"}, "dataByDepartmentAndSearchTerm": records}
    path = tmp_path / "terms.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    chunks = list(iter_json_stream(path, SEARCH_TERMS, small=0, rows_per_chunk=100))
    assert [c.table.num_rows for c in chunks] == [100, 100, 50]
    rows = [r for c in chunks for r in c.table.to_pylist()]
    assert [r["search_frequency_rank"] for r in rows] == list(range(1, 251))
    assert {str(r["start_date"]) for r in rows} == {"2026-11-01"}


def test_an_error_document_fails_as_amazon_s_error(tmp_path: Path) -> None:
    path = tmp_path / "err.json"
    path.write_text(json.dumps({"errorDetails": "reportPeriod WEEK needs a Sunday"}), encoding="utf-8")
    with pytest.raises(ReportFailedError, match="Sunday"):
        list(iter_json_stream(path, SEARCH_TERMS))
    big = tmp_path / "err-big.json"
    big.write_text(json.dumps({"errorDetails": "x" * 100}), encoding="utf-8")
    with pytest.raises(ReportFailedError):
        list(iter_json_stream(big, SEARCH_TERMS, small=0))
