"""Conformance: every file of ``../shared/real-reports/`` through the real download → decode → parse → land
path (served by the sandbox's document route with the Content-Type its README gives), compared with the
file as the standard library reads it. Never calls splake's parser for the expectations: dates are read by
``tests.support.conformance.parse_amazon_time`` (own zone table), numbers by ``int``/``float``, strings
compared byte-equal after decoding. Only column *names* use splake's ``snake_case`` (a naming rule)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from splake.reports.types import REPORT_TYPES, snake_case
from tests.support.conformance import (
    REAL,
    REAL_REPORTS,
    ConformanceLab,
    Landed,
    RealFile,
    flatten,
    parse_amazon_time,
    read_flat,
    read_json,
    real_files_on_disk,
)

WIDE = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC))
DAY_FIRST = {"US": False, "CA": False}  # mm/dd/yyyy in North America; dd/mm/yyyy elsewhere
BOOLS = {"true": True, "false": False, "yes": True, "no": False, "y": True, "n": False, "1": True, "0": False}

pytestmark = pytest.mark.skipif(not REAL_REPORTS.is_dir(), reason=f"{REAL_REPORTS} is not present")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConformanceLab]:
    with ConformanceLab(tmp_path_factory.mktemp("conformance")) as lab:
        yield lab


def _needs_type(f: RealFile) -> None:
    if f.report_type not in REPORT_TYPES:  # a file of a type splake does not declare (none today)
        pytest.skip(f"{f.report_type} is not a supported report type yet")


def _land(lab: ConformanceLab, f: RealFile) -> Landed:
    spec = REPORT_TYPES[f.report_type]
    window = WIDE if spec.windowed else None
    if spec.format == "json":
        rs = read_json(f.path).get("reportSpecification") or {}
        if rs.get("dataStartTime") and rs.get("dataEndTime"):
            start = datetime.fromisoformat(rs["dataStartTime"][:10]).replace(tzinfo=UTC)
            end = datetime.fromisoformat(rs["dataEndTime"][:10]).replace(tzinfo=UTC)
            window = (start, end)
    kind = "request" if spec.requestable else "discover"
    return lab.land(f, window=window, kind=kind)


def test_every_real_file_is_covered() -> None:
    assert real_files_on_disk() == sorted(REAL), "describe each new file in tests/support/conformance.REAL"


def _expected(text: str, landed: Any, market: str) -> Any:
    """The value the file's text stands for, read independently, in the landed value's kind."""
    if isinstance(landed, str) or landed is None:
        return text if isinstance(landed, str) else None
    s = text.strip()
    if isinstance(landed, bool):
        return BOOLS[s.lower()]
    if isinstance(landed, int):
        return int(s.replace(",", ""))
    if isinstance(landed, float):
        return float(s.replace(",", ""))
    if isinstance(landed, Decimal):  # money: exact, compared as the decimal the text states
        return Decimal(s.replace(",", ""))
    if isinstance(landed, datetime):
        return parse_amazon_time(s, DAY_FIRST.get(market, True))
    if isinstance(landed, date):
        return date.fromisoformat(s[:10])
    raise AssertionError(f"unexpected landed type {type(landed)}")


FLAT = [
    n
    for n, f in sorted(REAL.items())
    if REPORT_TYPES.get(f.report_type, None) is None or REPORT_TYPES[f.report_type].format == "tsv"
]
JSON = [n for n, f in sorted(REAL.items()) if n.endswith(".json")]


@pytest.mark.parametrize("name", FLAT)
def test_flat_file_lands_every_valid_row_with_the_file_value(lab: ConformanceLab, name: str) -> None:
    f = REAL[name]
    _needs_type(f)
    spec = REPORT_TYPES[f.report_type]
    ff = read_flat(f.path)
    out = _land(lab, f)
    assert out.error is None, out.error
    names = [snake_case(h) for h in ff.header]
    landed = lab.rows(spec.table, out.report_id)
    bad = lab.quarantine(spec.table, out.report_id)

    # header repeats and malformed lines are quarantined with a reason; nothing else is
    assert sorted(b["line_number"] for b in bad) == sorted(ff.header_repeats + ff.malformed), bad
    assert all(b["reason"] for b in bad)
    for b in bad:
        if b["line_number"] in ff.header_repeats:
            assert "header" in b["reason"], b["reason"]
    if not ff.rows:  # every data line was bad: the document is held and lands nothing
        assert out.status == "HELD" and landed == []
        return
    assert out.status == "INGESTED"
    assert len(landed) == len(ff.rows)
    assert all(r["marketplace_id"] for r in landed)

    pool = list(landed)
    for line, fields in ff.rows:
        # the landed row whose string columns hold exactly this line's text
        matches = [
            r
            for r in pool
            if all(r[n] == t for n, t in zip(names, fields, strict=True) if isinstance(r.get(n), str))
        ]
        assert len(matches) >= 1, f"line {line} did not land: {fields}"
        row = matches[0]
        pool.remove(row)
        for n, text in zip(names, fields, strict=True):
            got = row[n]
            if got is None:
                assert not text.strip(), f"line {line} column {n}: {text!r} landed as null"
                continue
            want = _expected(text, got, f.marketplace)
            assert got == want, f"line {line} column {n}: file {text!r} → expected {want!r}, landed {got!r}"


def _records(doc: dict[str, Any], path: str) -> list[dict[str, Any]]:
    return [dict(flatten(r)) for r in doc.get(path) or []]


@pytest.mark.parametrize("name", JSON)
def test_json_report_lands_every_record_with_the_file_value(lab: ConformanceLab, name: str) -> None:
    f = REAL[name]
    _needs_type(f)
    spec = REPORT_TYPES[f.report_type]
    doc = read_json(f.path)
    out = _land(lab, f)
    assert out.error is None and out.status == "INGESTED", out.error
    landed = lab.rows(spec.table, out.report_id)
    assert lab.quarantine(spec.table, out.report_id) == []
    aliases = {a: c.source for c in spec.columns for a in c.aliases}
    for section in spec.json_sections:
        records = _records(doc, section.path)
        rows = [r for r in landed if r["section"] == section.name]
        assert len(rows) == len(records), section.name
        pool = list(rows)
        for rec in records:
            # a declared alias (Amazon's typo browerPageViews) names the declared column it stands for
            renamed = {aliases.get(k, k) if aliases.get(k) not in rec else k: v for k, v in rec.items()}
            cols = {snake_case(k): v for k, v in renamed.items()}
            matches = [
                r
                for r in pool
                if all(
                    r.get(c) == v for c, v in cols.items() if isinstance(v, str) and isinstance(r.get(c), str)
                )
            ]
            assert matches, f"{section.name} record did not land: {rec}"
            row = matches[0]
            pool.remove(row)
            for c, v in cols.items():
                got = row[c]
                if v is None:
                    assert got is None, c
                elif isinstance(got, date) and not isinstance(got, datetime):
                    assert got == date.fromisoformat(str(v)[:10]), c
                elif isinstance(got, Decimal):  # money: the JSON number's shortest text, exactly
                    assert got == Decimal(str(v)), f"{section.name} {c}: file {v!r}, landed {got!r}"
                elif isinstance(got, str) and not isinstance(v, str):
                    assert got == str(v), (
                        c
                    )  # undeclared column (e.g. Amazon's typo browerPageViews) kept as text
                else:
                    assert got == v, f"{section.name} {c}: file {v!r}, landed {got!r}"


def test_german_listings_land_with_open_dates_after_the_uk_file(tmp_path: Path) -> None:
    """The DE file's 40 rows replace a previous (UK-layout) snapshot of the same account + marketplace,
    with their ``open-date`` instants (German zone words MEST/MET); the 0x10 garbage line is quarantined."""
    de = REAL["GET_MERCHANT_LISTINGS_ALL_DATA/saleweaver-de.txt"]
    uk = REAL["GET_MERCHANT_LISTINGS_ALL_DATA/zynk-uk-docs.txt"]
    ff = read_flat(de.path)
    with ConformanceLab(tmp_path) as lab:
        first = lab.land(uk, marketplaces=("DE",))
        assert first.status == "INGESTED" and first.result is not None and first.result.rows == 3
        second = lab.land(de)
        assert second.status == "INGESTED", second.entry.reason
        rows = lab.sql(
            "select seller_sku, open_date, report_id from merchant_listings "
            "where marketplace_id = 'A1PA6795UKMFR9'"
        )
        assert len(rows) == 40 == len(ff.rows)
        assert {r["report_id"] for r in rows} == {second.report_id}
        sku = ff.header.index("seller-sku")
        opened = ff.header.index("open-date")
        want = {fields[sku]: parse_amazon_time(fields[opened]) for _, fields in ff.rows}
        assert {r["seller_sku"]: r["open_date"] for r in rows} == want
        assert want["0J-3QVQ-PCR5"] == datetime(2020, 5, 2, 3, 18, tzinfo=UTC)  # 02/05/2020 05:18:00 MEST
        (bad,) = lab.quarantine("merchant_listings", second.report_id)
        assert bad["line_number"] == 42 and "fields" in bad["reason"]
