"""A bad document never replaces good data (HELD, reland from the raw zone with no SP-API call), and
documents served without a charset land without mojibake — through the real ingest path
(tests/support/conformance.py)."""
# ruff: noqa: RUF001

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from splake.cli import app
from splake.config import dump_config
from tests.support.conformance import REAL, ConformanceLab, parse_amazon_time, read_flat

DE = "A1PA6795UKMFR9"
LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"


def _corrupt_dates(body: bytes, keep: int) -> bytes:
    """The DE listings file with the open-date of every data row after the first ``keep`` garbled."""
    lines = body.decode("utf-8").split("\n")
    col = lines[0].split("\t").index("open-date")
    out = [lines[0]]
    for i, line in enumerate(lines[1:]):
        f = line.split("\t")
        if len(f) > col and i >= keep:
            f[col] = "31/31/2020 99:00:00 MEST"
        out.append("\t".join(f))
    return "\n".join(out).encode("utf-8")


def test_mostly_unparseable_document_is_held_and_the_table_keeps_its_rows(tmp_path: Path) -> None:
    de = REAL["GET_MERCHANT_LISTINGS_ALL_DATA/saleweaver-de.txt"]
    ff = read_flat(de.path)
    with ConformanceLab(tmp_path) as lab:
        good = lab.land(de)
        assert good.status == "INGESTED"
        before = lab.sql(
            f"select seller_sku, open_date, report_id from merchant_listings where marketplace_id='{DE}'"
        )
        assert len(before) == 40

        bad_body = _corrupt_dates(de.path.read_bytes(), keep=30)  # 10 of 41 lines unreadable: 24 % > 5 %
        bad = lab.land_bytes(bad_body, report_type=LISTINGS, marketplaces=("DE",), content_type="text/plain")
        assert bad.status == "HELD"
        assert bad.entry.quarantined == 11 and "31/31/2020" not in (bad.entry.reason or "x")
        assert "open_date" in (bad.entry.reason or "")
        after = lab.sql(
            f"select seller_sku, open_date, report_id from merchant_listings where marketplace_id='{DE}'"
        )
        assert sorted(after, key=str) == sorted(before, key=str)  # nothing changed
        q = lab.quarantine("merchant_listings", bad.report_id)
        assert len(q) == 11 and all(r["reason"] for r in q)  # the unreadable rows are recorded

        # the user accepts the readable rows: reland from the raw zone, no SP-API call
        cfg = tmp_path / "splake.toml"
        cfg.write_text(dump_config(lab.settings), encoding="utf-8")
        calls = sum(v for k, v in lab.sandbox.stats.snapshot().get("requests", {}).items() if "Report" in k)
        res = CliRunner().invoke(app, ["reports", "reland", bad.report_id, "-c", str(cfg)])
        assert res.exit_code == 1 and "still HELD" in res.output  # same rule, same outcome
        res = CliRunner().invoke(app, ["reports", "reland", bad.report_id, "-c", str(cfg), "--force"])
        assert res.exit_code == 0, res.output
        assert "30 rows, 11 quarantined" in res.output
        assert (
            sum(v for k, v in lab.sandbox.stats.snapshot().get("requests", {}).items() if "Report" in k)
            == calls
        )
        rows = lab.sql(
            f"select seller_sku, open_date, report_id from merchant_listings where marketplace_id='{DE}'"
        )
        assert len(rows) == 30 and {r["report_id"] for r in rows} == {bad.report_id}
        sku, opened = ff.header.index("seller-sku"), ff.header.index("open-date")
        want = {f[sku]: parse_amazon_time(f[opened]) for _, f in ff.rows[:30]}
        assert {r["seller_sku"]: r["open_date"] for r in rows} == want


def test_all_rows_unreadable_is_held_even_with_a_permissive_share(tmp_path: Path) -> None:
    de = REAL["GET_MERCHANT_LISTINGS_ALL_DATA/saleweaver-de.txt"]
    with ConformanceLab(tmp_path, hold_share=1.0) as lab:
        assert lab.land(de).status == "INGESTED"
        bad = lab.land_bytes(
            _corrupt_dates(de.path.read_bytes(), keep=0),
            report_type=LISTINGS,
            marketplaces=("DE",),
            content_type="text/plain",
        )
        assert bad.status == "HELD"
        assert len(lab.sql(f"select 1 from merchant_listings where marketplace_id='{DE}'")) == 40


def test_a_few_bad_rows_under_the_share_land_the_rest(tmp_path: Path) -> None:
    de = REAL["GET_MERCHANT_LISTINGS_ALL_DATA/saleweaver-de.txt"]
    with ConformanceLab(tmp_path) as lab:
        out = lab.land_bytes(
            _corrupt_dates(de.path.read_bytes(), keep=39),  # 1 bad date + the 0x10 line: 2 of 41 (4.9 %)
            report_type=LISTINGS,
            marketplaces=("DE",),
            content_type="text/plain",
        )
        assert out.status == "INGESTED" and out.entry.rows == 39 and out.entry.quarantined == 2


HEADER = "item-name\titem-description\tlisting-id\tseller-sku\tprice\tquantity\topen-date\tstatus"
JP_ROWS = [
    ("【日本製】ステンレス 水筒 ５００ｍｌ ①", "JP-1", "1980", "2026/11/01 10:00:00 JST"),
    ("髙島屋コラボ ～ 限定版 ㈱", "JP-2", "2480", "2026/11/02 09:30:00 JST"),
]
EU_ROWS = [
    ("Tasse personnalisé – édition limitée", "FR-1", "19.99", "02/11/2026 10:00:00 MET"),
    ("Küchenwaage „Präzision“ 5 kg €", "FR-2", "24.50", "03/11/2026 09:30:00 CET"),
]


def _doc(rows: list[tuple[str, str, str, str]]) -> str:
    body = [HEADER] + [
        f"{name}\t\tL-{sku}\t{sku}\t{price}\t1\t{date}\tActive" for name, sku, price, date in rows
    ]
    return "\n".join(body) + "\n"


def _names(lab: ConformanceLab, report_id: str) -> dict[str, str]:
    return {r["seller_sku"]: r["item_name"] for r in lab.rows("merchant_listings", report_id)}


def test_utf8_documents_without_charset_land_without_mojibake(tmp_path: Path) -> None:
    with ConformanceLab(tmp_path) as lab:
        for market, rows in (("JP", JP_ROWS), ("FR", EU_ROWS)):
            for ctype in ("text/plain", "text/tab-separated-values"):  # no charset parameter
                out = lab.land_bytes(
                    _doc(rows).encode("utf-8"),
                    report_type=LISTINGS,
                    marketplaces=(market,),
                    content_type=ctype,
                )
                assert out.status == "INGESTED" and out.entry.quarantined == 0, out.entry.reason
                assert _names(lab, out.report_id) == {sku: name for name, sku, _, _ in rows}
        # with a BOM and CRLF line ends too
        out = lab.land_bytes(
            b"\xef\xbb\xbf" + _doc(EU_ROWS).replace("\n", "\r\n").encode("utf-8"),
            report_type=LISTINGS,
            marketplaces=("FR",),
            content_type="text/plain",
        )
        assert _names(lab, out.report_id) == {sku: name for name, sku, _, _ in EU_ROWS}


def test_legacy_charsets_without_label_use_the_marketplace_fallback(tmp_path: Path) -> None:
    with ConformanceLab(tmp_path) as lab:
        for market, rows, codec in (("JP", JP_ROWS, "cp932"), ("FR", EU_ROWS, "cp1252")):
            out = lab.land_bytes(
                _doc(rows).encode(codec),
                report_type=LISTINGS,
                marketplaces=(market,),
                content_type="text/plain",
            )
            assert _names(lab, out.report_id) == {sku: name for name, sku, _, _ in rows}


def test_a_label_the_bytes_contradict_is_overruled(tmp_path: Path) -> None:
    """UTF-8 JP text labelled Shift_JIS and UTF-8 EU text labelled Cp1252 (the mojibake of issue 10)."""
    with ConformanceLab(tmp_path) as lab:
        for market, rows, label in (("JP", JP_ROWS, "Shift_JIS"), ("FR", EU_ROWS, "Cp1252")):
            out = lab.land_bytes(
                _doc(rows).encode("utf-8"),
                report_type=LISTINGS,
                marketplaces=(market,),
                content_type=f"text/plain;charset={label}",
            )
            assert _names(lab, out.report_id) == {sku: name for name, sku, _, _ in rows}


def test_garbled_text_is_quarantined_not_landed(tmp_path: Path) -> None:
    """A document whose text was already garbled upstream (UTF-8 read as cp1252, then saved as UTF-8):
    its garbled rows are quarantined naming the fragment; here all of them, so the document is held."""
    garbled = _doc(EU_ROWS).encode("utf-8").decode("cp1252").encode("utf-8")
    with ConformanceLab(tmp_path) as lab:
        out = lab.land_bytes(garbled, report_type=LISTINGS, marketplaces=("FR",), content_type="text/plain")
        assert out.status == "HELD"
        q = lab.quarantine("merchant_listings", out.report_id)
        assert len(q) == 2 and all("mojibake" in r["reason"] for r in q)
        assert any("nalisÃ©" in r["reason"] for r in q)


def test_unknown_zone_word_quarantines_the_row_naming_the_word(tmp_path: Path) -> None:
    rows = [*EU_ROWS, ("Becher", "FR-3", "5.00", "04/11/2026 10:00:00 XYZT")]
    with ConformanceLab(tmp_path, hold_share=0.5) as lab:
        out = lab.land_bytes(
            _doc(rows).encode("utf-8"), report_type=LISTINGS, marketplaces=("FR",), content_type="text/plain"
        )
        assert out.status == "INGESTED" and out.entry.rows == 2
        (q,) = lab.quarantine("merchant_listings", out.report_id)
        assert "unknown time zone word 'XYZT'" in q["reason"]
        landed = {r["seller_sku"]: r["open_date"] for r in lab.rows("merchant_listings", out.report_id)}
        assert landed["FR-1"] == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_sync_exits_non_zero_naming_the_held_report_and_status_shows_it(tmp_path: Path) -> None:
    from splake.insights.health import summarize
    from splake.reports import ledger
    from splake.reports.sync import sync

    de = REAL["GET_MERCHANT_LISTINGS_ALL_DATA/saleweaver-de.txt"]
    with ConformanceLab(tmp_path) as lab:
        entry = lab.prepare(
            _corrupt_dates(de.path.read_bytes(), keep=0),
            report_type=LISTINGS,
            marketplaces=("DE",),
            content_type="text/plain",
        )
        assert lab.ctx is not None
        summary = lab.run(
            sync(lab.settings, lab.ctx, accounts=["eu"], report_types=[LISTINGS], max_wait_seconds=60)
        )
        assert summary.exit_code != 0
        (failure,) = [f for _, _, f in summary.failures]
        assert f"report {entry.report_id} HELD" in failure and "reland" in failure
        cfg = tmp_path / "splake.toml"
        cfg.write_text(dump_config(lab.settings), encoding="utf-8")
        res = CliRunner().invoke(app, ["reports", "status", "-c", str(cfg)], env={"COLUMNS": "400"})
        assert res.exit_code == 0 and f"report {entry.report_id} HELD" in res.output
        health = summarize(ledger.entries(lab.ctx.state), [], datetime.now(UTC))
        assert [f["report_id"] for f in health["failures"] if f["state"] == "HELD"] == [entry.report_id]


def test_an_older_held_snapshot_is_not_relanded_over_a_newer_one(tmp_path: Path) -> None:
    from splake.errors import ConfigError
    from splake.reports.reland import reland

    de = REAL["GET_MERCHANT_LISTINGS_ALL_DATA/saleweaver-de.txt"]
    with ConformanceLab(tmp_path) as lab:
        held = lab.land_bytes(
            _corrupt_dates(de.path.read_bytes(), keep=30),
            report_type=LISTINGS,
            marketplaces=("DE",),
            content_type="text/plain",
        )
        assert held.status == "HELD"
        newer = lab.land(de)
        assert newer.status == "INGESTED"
        assert lab.ctx is not None
        try:
            reland(lab.ctx, held.report_id, force=True)
        except ConfigError as exc:
            assert newer.report_id in exc.message
        else:
            raise AssertionError("an older snapshot was re-landed over a newer one")
        rows = lab.sql(f"select distinct report_id from merchant_listings where marketplace_id='{DE}'")
        assert rows == [{"report_id": newer.report_id}]


def test_a_held_snapshot_is_settled_once_a_newer_one_lands(tmp_path: Path) -> None:
    from splake.insights.health import summarize
    from splake.reports import ledger
    from splake.reports.hold import held_entries

    de = REAL["GET_MERCHANT_LISTINGS_ALL_DATA/saleweaver-de.txt"]
    with ConformanceLab(tmp_path) as lab:
        held = lab.land_bytes(
            _corrupt_dates(de.path.read_bytes(), keep=0),
            report_type=LISTINGS,
            marketplaces=("DE",),
            content_type="text/plain",
        )
        assert lab.ctx is not None
        assert [e.report_id for e in held_entries(ledger.entries(lab.ctx.state))] == [held.report_id]
        lab.land(de)
        entries = ledger.entries(lab.ctx.state)
        assert held_entries(entries) == []
        assert summarize(entries, [], datetime.now(UTC))["failures"] == []
