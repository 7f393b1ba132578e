"""Decoding and parsing report documents: charsets, gzip, BOM, quarantine, schema drift, JSON reports."""
# ruff: noqa: RUF001  (full-width Japanese characters and typographic dashes are the point of these tests)

from __future__ import annotations

import gzip
import json
import zlib
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from splake.errors import ReportFailedError
from splake.reports.decode import CorruptDocumentError, decoded, python_codec, resolve_charset
from splake.reports.parse import iter_document
from splake.reports.parse_stream import iter_json_stream
from splake.reports.typed import table_spec
from splake.reports.types import REPORT_TYPES

LISTINGS = REPORT_TYPES["GET_MERCHANT_LISTINGS_ALL_DATA"]
ORDERS = REPORT_TYPES["GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"]
ST = REPORT_TYPES["GET_SALES_AND_TRAFFIC_REPORT"]
VENDOR = REPORT_TYPES["GET_VENDOR_SALES_REPORT"]
JP = "A1VC38T7YXB528"
DE = "A1PA6795UKMFR9"


def _parse(path: Path, spec, charset, marketplace, compression=None):  # type: ignore[no-untyped-def]
    tables, bad = [], []
    with decoded(path, header_charset=charset, marketplace_id=marketplace, compression=compression) as doc:
        for chunk in iter_document(doc.path, spec, window_start=datetime(2026, 11, 20, tzinfo=UTC)):
            tables.append(chunk.table)
            bad.extend(chunk.bad)
        info = doc
    table = pa.concat_tables(tables, promote_options="default") if tables else None
    return table, bad, info


def test_charset_names_map_to_python_codecs() -> None:
    assert python_codec("Cp1252") == "cp1252"
    assert python_codec("Shift_JIS") == "cp932"
    assert python_codec("windows-31j") == "cp932"
    assert python_codec("ISO-8859-1") == "cp1252"
    assert python_codec("UTF-8") == "utf-8"
    assert python_codec("x-unknown-thing") is None
    assert resolve_charset(None, JP) == ("cp932", "marketplace")
    assert resolve_charset(None, DE) == ("cp1252", "marketplace")
    assert resolve_charset("bogus", None) == ("utf-8", "default")


JP_TEXT = (
    "item-name\tseller-sku\tprice\tquantity\topen-date\n"
    "【日本製】ステンレス 水筒 ５００ｍｌ ①\tJP-SKU-1\t1980\t3\t2026/11/01 10:00:00 JST\n"
    "髙島屋コラボ ～ 限定版\tJP-SKU-2\t2480\t0\t2026/11/02 09:30:00 JST\n"
)


@pytest.mark.parametrize("label", ["Shift_JIS", "windows-31j", None])
def test_jp_titles_round_trip_from_cp932(tmp_path: Path, label: str | None) -> None:
    src = tmp_path / "jp.txt.gz"
    src.write_bytes(gzip.compress(JP_TEXT.encode("cp932")))
    table, bad, info = _parse(src, LISTINGS, label, JP, "GZIP")
    assert bad == []
    assert info.codec == "cp932" and info.gunzipped
    assert table.column("item_name").to_pylist() == [
        "【日本製】ステンレス 水筒 ５００ｍｌ ①",
        "髙島屋コラボ ～ 限定版",
    ]
    assert table.column("price").to_pylist() == [1980.0, 2480.0]
    assert table.column("open_date")[0].as_py() == datetime(2026, 11, 1, 1, 0, tzinfo=UTC)


def test_cp1252_euro_and_umlauts_labelled_latin1_no_double_gunzip(tmp_path: Path) -> None:
    text = (
        "item-name\tseller-sku\tprice\tquantity\n"
        "Müller Küchenwaage – Edelstahl\tDE-1\t19,99\t5\n"
        "Crème brûlée Set œuvre €\tDE-2\t1.234,50\t1\n"
    )
    src = tmp_path / "de.txt"
    # compressionAlgorithm says GZIP but the bytes arrive already decoded: must not gunzip again
    src.write_bytes(text.encode("cp1252"))
    table, bad, info = _parse(src, LISTINGS, "ISO-8859-1", DE, "GZIP")
    assert bad == [] and not info.gunzipped
    assert table.column("item_name").to_pylist() == [
        "Müller Küchenwaage – Edelstahl",
        "Crème brûlée Set œuvre €",
    ]
    assert table.column("price").to_pylist() == [Decimal("19.99"), Decimal("1234.5")]


def test_utf8_bom_is_stripped_from_the_header(tmp_path: Path) -> None:
    src = tmp_path / "bom.txt"
    src.write_bytes("item-name\tseller-sku\nTasse ☕\tX-1\n".encode("utf-8-sig"))
    table, bad, _ = _parse(src, LISTINGS, "UTF-8", "ATVPDKIKX0DER")
    assert bad == []
    assert table.column("seller_sku").to_pylist() == ["X-1"]
    assert table.column("item_name").to_pylist() == ["Tasse ☕"]


def test_corrupt_gzip_is_retryable(tmp_path: Path) -> None:
    """A damaged transfer: retryable (the document is downloaded again), not a permanent failure."""
    src = tmp_path / "bad.gz"
    src.write_bytes(gzip.compress(JP_TEXT.encode("cp932"))[:40])
    with pytest.raises(CorruptDocumentError, match="gzip"):
        _parse(src, LISTINGS, "Shift_JIS", JP, "GZIP")


def test_ragged_and_unparseable_rows_go_to_quarantine_with_reason(tmp_path: Path) -> None:
    text = (
        "amazon-order-id\tsku\tpurchase-date\tquantity\titem-price\tbrand-new-column\n"
        "111-1\tA\t2026-11-20T10:00:00+00:00\t1\t10.00\tx\n"
        "111-2\tB\t2026-11-20T11:00:00+00:00\tthree\t10.00\ty\n"
        "111-3\tC\n"
        "111-4\tD\tnot a date\t2\t5.00\tz\n"
        "111-5\tE\t2026-11-20T12:00:00+00:00\t2\t5.00\tw\n"
    )
    src = tmp_path / "orders.txt"
    src.write_bytes(text.encode("utf-8"))
    table, bad, _ = _parse(src, ORDERS, "UTF-8", "ATVPDKIKX0DER")
    assert table.column("amazon_order_id").to_pylist() == ["111-1", "111-5"]
    reasons = {b.raw_line.split("\t")[0]: b.reason for b in bad}
    assert set(reasons) == {"111-2", "111-3", "111-4"}
    assert "quantity" in reasons["111-2"] and "three" in reasons["111-2"]
    assert "fields" in reasons["111-3"]
    assert "purchase_date" in reasons["111-4"]
    # schema drift: the unknown column is kept as a string; declared but absent columns are typed nulls
    assert table.column("brand_new_column").to_pylist() == ["x", "w"]
    assert table.schema.field("ship_city").type == pa.string()
    assert table.column("ship_city").null_count == 2
    assert table.schema.field("purchase_date").type == pa.timestamp("us", tz="UTC")


def test_sales_and_traffic_json_sections_and_period(tmp_path: Path) -> None:
    doc = {
        "reportSpecification": {
            "reportType": ST.name,
            "dataStartTime": "2026-11-20",
            "dataEndTime": "2026-11-22",
            "marketplaceIds": ["ATVPDKIKX0DER"],
        },
        "salesAndTrafficByDate": [
            {
                "date": "2026-11-20",
                "salesByDate": {
                    "orderedProductSales": {"amount": 12.5, "currencyCode": "USD"},
                    "unitsOrdered": 3,
                },
                "trafficByDate": {"sessions": 40, "buyBoxPercentage": 97.5},
            }
        ],
        "salesAndTrafficByAsin": [
            {"parentAsin": "B0P", "childAsin": "B0C1", "salesByAsin": {"unitsOrdered": 2}, "newMetric": 1},
            {"parentAsin": "B0P", "childAsin": "B0C2", "salesByAsin": {"unitsOrdered": 1}},
        ],
    }
    src = tmp_path / "st.json"
    src.write_text(json.dumps(doc))
    table, bad, _ = _parse(src, ST, "UTF-8", "ATVPDKIKX0DER")
    assert bad == []
    rows = table.to_pylist()
    assert [r["section"] for r in rows] == ["by_date", "by_asin", "by_asin"]
    # a by-date row is its own day; by-ASIN rows carry the period the document aggregates and no date
    assert (rows[0]["date"], rows[0]["start_date"], rows[0]["end_date"]) == (date(2026, 11, 20),) * 3
    for r in rows[1:]:
        assert (r["date"], r["start_date"], r["end_date"]) == (None, date(2026, 11, 20), date(2026, 11, 22))
    assert rows[0]["sales_by_date_ordered_product_sales_amount"] == Decimal("12.5")
    assert rows[0]["traffic_by_date_sessions"] == 40
    assert rows[1]["sales_by_asin_units_ordered"] == 2
    assert rows[1]["new_metric"] == "1"
    assert set(table_spec(ST).schema.names) <= set(table.column_names)


@pytest.mark.parametrize("small", [1 << 30, 0], ids=["loaded", "streamed"])
def test_sales_and_traffic_period_on_both_json_paths(tmp_path: Path, small: int) -> None:
    """Small documents are loaded, big ones streamed with ijson: both give by-ASIN rows their period."""
    doc = {
        "reportSpecification": {
            "reportType": ST.name,
            "dataStartTime": "2026-11-01",
            "dataEndTime": "2026-11-07",
        },
        "salesAndTrafficByDate": [
            {"date": f"2026-11-0{d}", "salesByDate": {"unitsOrdered": d}} for d in range(1, 8)
        ],
        "salesAndTrafficByAsin": [{"parentAsin": "P", "childAsin": f"C{i}"} for i in range(3)],
    }
    src = tmp_path / "st.json"
    src.write_text(json.dumps(doc))
    rows = [
        r
        for chunk in iter_json_stream(src, ST, small=small, rows_per_chunk=2)
        for r in chunk.table.select(["section", "date", "start_date", "end_date"]).to_pylist()
    ]
    by_date = [r for r in rows if r["section"] == "by_date"]
    assert [(r["date"], r["start_date"], r["end_date"]) for r in by_date] == [
        (date(2026, 11, d),) * 3 for d in range(1, 8)
    ]
    by_asin = [r for r in rows if r["section"] == "by_asin"]
    assert [(r["date"], r["start_date"], r["end_date"]) for r in by_asin] == [
        (None, date(2026, 11, 1), date(2026, 11, 7))
    ] * 3


def test_vendor_error_document_is_a_failed_report(tmp_path: Path) -> None:
    src = tmp_path / "v.json"
    src.write_text(json.dumps({"errorDetails": "This report type requires the reportPeriod reportOption."}))
    with pytest.raises(ReportFailedError, match="reportPeriod"):
        _parse(src, VENDOR, None, "ATVPDKIKX0DER")


def test_large_file_streams_in_blocks(tmp_path: Path) -> None:
    header = "amazon-order-id\tsku\tpurchase-date\tquantity\titem-price\n"
    line = "111-{i}\tSKU{i}\t2026-11-20T10:00:00+00:00\t1\t10.00\n"
    src = tmp_path / "big.txt"
    with open(src, "w") as f:
        f.write(header)
        for i in range(50_000):
            f.write(line.format(i=i))
    n_chunks = 0
    rows = 0
    with decoded(src, header_charset="UTF-8", marketplace_id=None) as doc:
        for chunk in iter_document(doc.path, ORDERS, block_size=256 << 10):
            n_chunks += 1
            rows += chunk.table.num_rows
    assert rows == 50_000
    assert n_chunks > 5


def test_damaged_deflate_data_is_retryable_in_both_decoders(tmp_path: Path) -> None:
    """A byte flipped inside the compressed data (a valid header, then invalid deflate: ISA-L's gunzip
    raises its own error type) is a corrupt download, fetched again — from the temp-file decoder and from
    the streaming one the flat-file ingest reads."""
    from splake.reports.textstream import decoded_text

    body = "\n".join(f"Tasse {i}\tX-{i}\t{i * 7919 % 10007}" for i in range(20_000)).encode("cp1252")
    good = gzip.compress(body, mtime=0)
    for at in range(len(good) // 2, len(good) - 8):  # the first flip that makes the deflate data invalid
        packed = bytearray(good)
        packed[at] ^= 0xFF
        try:
            zlib.decompressobj(-15).decompress(bytes(packed[10:-8]))  # (not just a CRC mismatch)
        except zlib.error:
            break
    else:
        raise AssertionError("no flip made the deflate data invalid")
    src = tmp_path / "damaged.gz"
    src.write_bytes(bytes(packed))
    with (
        pytest.raises(CorruptDocumentError, match="gzip"),
        decoded(src, header_charset="Cp1252", marketplace_id=JP),
    ):
        pass
    text = decoded_text(src, header_charset="Cp1252", marketplace_id=JP)
    with pytest.raises(CorruptDocumentError, match="gzip"), text.open() as f:
        while f.read(1 << 16):
            pass
