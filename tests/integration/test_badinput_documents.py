"""Bad report documents through the real ingest path (decode → parse → Iceberg write + quarantine) on a
real local lake: ragged rows, embedded tabs/newlines, BOMs, a wrong charset label, huge fields, invalid
JSON. Good rows land, bad rows are quarantined with a reason, and a document that cannot be parsed at all
changes nothing already landed."""

from __future__ import annotations

import dataclasses
import gzip
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from splake.config import Settings, parse_config
from splake.errors import BadDataError
from splake.reports import ledger, pipeline
from splake.reports.planner import Window, WorkUnit
from splake.runners.local import LocalContext
from splake.spapi.download import DownloadInfo

US = "ATVPDKIKX0DER"
LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"
SALES = "GET_SALES_AND_TRAFFIC_REPORT"
HEADER = "item-name\tlisting-id\tseller-sku\tprice\tquantity\topen-date\tstatus"


def _row(sku: str, name: str = "Mug", price: str = "9.99", qty: str = "3") -> str:
    return f"{name}\tL-{sku}\t{sku}\t{price}\t{qty}\t2026-11-01 10:00:00 PST\tActive"


GOOD = [_row("A-1"), _row("A-2", "Tasse €"), _row("A-3")]


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[LocalContext]:
    settings: Settings = parse_config(
        {
            "lake": {"path": str(tmp_path / "lake")},
            "lwa": {"client_id": "amzn1.application-oa2-client.test"},
            # these documents are mostly bad on purpose: hold a document only when every row is bad
            "sync": {"hold_quarantined_share": 1.0},
            "accounts": [
                {"id": "acme", "region": "NA", "selling_partner_id": "A1TEST", "marketplaces": ["US"]}
            ],
        }
    )
    c = LocalContext.open(settings)
    yield c
    c.state.close()  # type: ignore[attr-defined]


_counter = iter(range(10_000))


def _ingest(
    ctx: LocalContext,
    body: bytes,
    *,
    charset: str | None = "Cp1252",
    report_type: str = LISTINGS,
    window: Window | None = None,
) -> tuple[int, int]:
    """Land ``body`` (gzip bytes as downloaded) as a DONE report, through the pipeline's write step."""
    n = next(_counter)
    unit = WorkUnit(
        "acme", report_type, (US,), window or Window(None, datetime(2026, 11, 20, n % 24, tzinfo=UTC))
    )
    entry = dataclasses.replace(ledger.new_entry(unit), status="DONE", report_id=f"R{n}", document_id=f"D{n}")
    path = ctx.work_dir / f"doc{n}.gz"
    path.write_bytes(body)
    info = DownloadInfo("text/plain", charset, None, len(body))
    now = datetime.now(UTC)
    return pipeline.land_document(ctx, entry, path, info, "GZIP", f"raw/acme/reports/R{n}", now)


def _gz(text: str, encoding: str = "cp1252") -> bytes:
    return gzip.compress(text.encode(encoding))


def _skus(ctx: LocalContext) -> list[Any]:
    engine = ctx.query_engine()
    try:
        return sorted(engine.sql("select seller_sku from merchant_listings").column("seller_sku").to_pylist())
    finally:
        engine.close()


def _quarantine(ctx: LocalContext, table: str = "merchant_listings") -> list[dict[str, Any]]:
    engine = ctx.query_engine()
    try:
        return engine.sql(f"select * from {table}__quarantine order by line_number").to_pylist()
    finally:
        engine.close()


def test_ragged_rows_and_embedded_tabs_and_newlines_are_quarantined(ctx: LocalContext) -> None:
    text = "\n".join(
        [
            HEADER,
            GOOD[0],
            _row("B-TAB", name="Mug\twith a tab"),  # an embedded tab: one field too many
            GOOD[1],
            "Mug\tL-B-NL\tB-NL with a\nline break\t9.99\t1\t2026-11-01\tActive",  # an embedded newline
            "short\trow",
            GOOD[2],
        ]
    )
    rows, quarantined = _ingest(ctx, _gz(text))
    assert rows == 3 and quarantined == 4
    assert _skus(ctx) == ["A-1", "A-2", "A-3"]
    q = _quarantine(ctx)
    assert len(q) == 4
    assert all("tab-separated fields" in r["reason"] for r in q), [r["reason"] for r in q]
    assert any("with a tab" in r["raw_line"] for r in q)
    assert {r["line_number"] for r in q} == {3, 5, 6, 7}


def test_a_ragged_row_deep_in_a_large_document_keeps_its_line_number(
    ctx: LocalContext, caplog: pytest.LogCaptureFixture
) -> None:
    """Arrow's threaded reader (the fast path) cannot number a ragged row: the document is parsed again
    by the serial reader, so the quarantine names the right line even several parse blocks in."""
    good = [_row(f"S-{i:06d}", name="M" * 60) for i in range(100_000)]  # ~11 MB: several 2 MB parse blocks
    lines = [HEADER, *good[:90_000], "short\trow", *good[90_000:]]
    with caplog.at_level(logging.INFO, logger="splake"):
        rows, quarantined = _ingest(ctx, _gz("\n".join(lines)))
    assert (rows, quarantined) == (100_000, 1)
    assert "parse_serial" in [r.getMessage() for r in caplog.records]
    q = _quarantine(ctx)
    assert [(r["line_number"], r["raw_line"]) for r in q] == [(90_002, "short\trow")]


def test_unparseable_values_are_quarantined_with_the_column_named(ctx: LocalContext) -> None:
    text = "\n".join([HEADER, GOOD[0], _row("C-1", price="nine"), _row("C-2", qty="3 pcs")])
    rows, quarantined = _ingest(ctx, _gz(text))
    assert (rows, quarantined) == (1, 2)
    reasons = [r["reason"] for r in _quarantine(ctx)]
    assert any("'price'" in r and "nine" in r for r in reasons), reasons
    assert any("'quantity'" in r for r in reasons), reasons


@pytest.mark.parametrize("bom_encoding", ["utf-8-sig", "utf-16"])
def test_byte_order_marks_do_not_leak_into_the_header(ctx: LocalContext, bom_encoding: str) -> None:
    text = "\n".join([HEADER, *GOOD])
    charset = "UTF-8" if bom_encoding == "utf-8-sig" else "UTF-16"
    rows, quarantined = _ingest(ctx, _gz(text, bom_encoding), charset=charset)
    assert (rows, quarantined) == (3, 0)
    assert _skus(ctx) == ["A-1", "A-2", "A-3"]
    engine = ctx.query_engine()
    try:
        names = (
            engine.sql("select item_name from merchant_listings order by seller_sku").column(0).to_pylist()
        )
    finally:
        engine.close()
    assert names == ["Mug", "Tasse €", "Mug"]


def test_wrong_charset_label_is_overruled_by_the_bytes_and_reported(
    ctx: LocalContext, caplog: pytest.LogCaptureFixture
) -> None:
    """cp1252 bytes labelled UTF-8: the bytes are not UTF-8, so the marketplace's charset (cp1252) reads
    them: the rows land with their real text, and the contradiction is logged."""
    text = "\n".join([HEADER, _row("D-1", name="Café"), GOOD[0]])
    with caplog.at_level(logging.INFO, logger="splake"):
        rows, _ = _ingest(ctx, _gz(text, "cp1252"), charset="UTF-8")
    assert rows == 2
    assert any(r.getMessage() == "charset_label_contradicted" for r in caplog.records)
    engine = ctx.query_engine()
    try:
        name = (
            engine.sql("select item_name from merchant_listings where seller_sku = 'D-1'")
            .column(0)[0]
            .as_py()
        )
    finally:
        engine.close()
    assert name == "Café"


def test_unknown_charset_label_falls_back_to_the_marketplace(ctx: LocalContext) -> None:
    text = "\n".join([HEADER, _row("E-1", name="Crème brûlée")])
    rows, _ = _ingest(ctx, _gz(text, "cp1252"), charset="x-no-such-charset")
    assert rows == 1
    engine = ctx.query_engine()
    try:
        assert engine.sql("select item_name from merchant_listings").column(0)[0].as_py() == "Crème brûlée"
    finally:
        engine.close()


def test_a_large_field_lands(ctx: LocalContext) -> None:
    big = "x" * 1_000_000
    text = "\n".join([HEADER, _row("F-1", name=big), GOOD[0]])
    rows, quarantined = _ingest(ctx, _gz(text))
    assert (rows, quarantined) == (2, 0)
    engine = ctx.query_engine()
    try:
        got = engine.sql("select length(item_name) as n from merchant_listings where seller_sku = 'F-1'")
    finally:
        engine.close()
    assert got.column("n")[0].as_py() == 1_000_000


def test_a_field_larger_than_the_parse_block_lands(
    ctx: LocalContext, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by this suite: a line longer than the parser's block (2 MB) used to fail the whole document
    (every later sync failed it again and its stream's cursor stopped). Now it is parsed again with a
    block that fits the longest line."""
    assert _ingest(ctx, _gz("\n".join([HEADER, *GOOD]))) == (3, 0)
    huge = "y" * (12 << 20)
    with caplog.at_level(logging.INFO, logger="splake"):
        rows, quarantined = _ingest(
            ctx, _gz("\n".join([HEADER, _row("G-1"), _row("G-2", name=huge), _row("G-3")]))
        )
    assert (rows, quarantined) == (3, 0)
    assert any(r.getMessage() == "parse_block_enlarged" for r in caplog.records)
    assert _skus(ctx) == ["G-1", "G-2", "G-3"]  # the new snapshot replaced the old one, once
    engine = ctx.query_engine()
    try:
        n = engine.sql("select length(item_name) as n from merchant_listings where seller_sku = 'G-2'")
    finally:
        engine.close()
    assert n.column("n")[0].as_py() == len(huge)


def test_invalid_json_report_changes_nothing_already_landed(ctx: LocalContext) -> None:
    window = Window(datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC))
    with pytest.raises(BadDataError) as err:
        _ingest(
            ctx,
            gzip.compress(b'{"salesAndTrafficByDate": [ {"date": '),
            charset=None,
            report_type=SALES,
            window=window,
        )
    assert "not valid JSON" in err.value.message
    with pytest.raises(BadDataError):
        _ingest(ctx, gzip.compress(b"[1, 2, 3]"), charset=None, report_type=SALES, window=window)
    assert (
        "sales_and_traffic" not in ctx.lake.table_stats() or ctx.lake.table_stats()["sales_and_traffic"] == 0
    )


@pytest.mark.parametrize("ending", ["", "\n", "\r\n"])
def test_header_only_document_is_an_empty_report(ctx: LocalContext, ending: str) -> None:
    """Found by the fuzz target: a header without a final newline used to escape as pyarrow's ArrowInvalid
    ("Could not skip initial 1 rows")."""
    assert _ingest(ctx, _gz(HEADER + ending)) == (0, 0)


def test_utf16_label_without_bom_is_a_clear_bad_data_error(ctx: LocalContext) -> None:
    """Found by the fuzz target: used to escape as a bare UnicodeError from the codec."""
    assert _ingest(ctx, _gz("\n".join([HEADER, *GOOD]))) == (3, 0)
    with pytest.raises(BadDataError, match="cannot be decoded as utf-16"):
        _ingest(ctx, gzip.compress(b"v!\xbf(z"), charset="UTF-16")
    assert _skus(ctx) == ["A-1", "A-2", "A-3"]
