"""Dates and numbers as Amazon writes them per marketplace (Arrow casts), checked against the test suite's
own reading (tests/support/conformance.parse_amazon_time and its zone table), never splake's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from splake.reports.casting import cast_strings
from splake.reports.locales import ZONE_OFFSETS, locale_for
from splake.reports.typed import type_strings
from splake.reports.types import REPORT_TYPES
from tests.support.conformance import ZONE_HOURS, parse_amazon_time

ISSUE_ZONES = (
    "PST PDT MST MDT CST CDT EST EDT AKST HST GMT BST UTC WET WEST CET CEST MET MEST MEZ MESZ EET EEST JST "
    "AEST AEDT IST BRT SGT GST"
).split()


@pytest.mark.parametrize("word", ISSUE_ZONES)
def test_every_zone_word_is_declared_and_read_as_its_offset(word: str) -> None:
    assert word in ZONE_OFFSETS
    texts = [f"02/05/2020 05:18:00 {word}", f"2020-05-02 05:18:00 {word.lower()}"]
    typed, invalid = cast_strings(pa.array(texts), "timestamp", locale_for("DE"))
    want = datetime(2020, 5, 2, 5, 18, tzinfo=UTC) - timedelta(hours=ZONE_HOURS[word])
    assert invalid.to_pylist() == [False, False]
    assert typed.to_pylist() == [want, want]


FORMS = [  # (text, marketplace)
    ("2020-07-30T12:01:37+00:00", "US"),
    ("2021-06-01T00:00:00Z", "US"),
    ("2021-06-01T00:00:00.123Z", "US"),
    ("2026-11-30T10:00:00.5-08:00", "US"),
    ("2019-02-05 04:25:45 PST", "CA"),
    ("11/30/2026 10:00:00 PST", "US"),
    ("02/05/2020 05:18:00 MEST", "DE"),
    ("08/07/2016 10:12:40 BST", "GB"),
    ("30.11.2026 10:00:00 UTC", "DE"),
    ("30.11.2026", "FR"),
    ("2026/11/30 10:00:00 JST", "JP"),
    ("2026/11/30", "JP"),
    ("2023-01-01 00:00:00 UTC", "US"),
]


@pytest.mark.parametrize(("text", "market"), FORMS)
def test_date_forms_by_marketplace(text: str, market: str) -> None:
    typed, invalid = cast_strings(pa.array([text]), "timestamp", locale_for(market))
    assert not invalid[0].as_py()
    assert typed[0].as_py() == parse_amazon_time(text, day_first=market not in ("US", "CA"))


def test_ambiguous_day_month_follows_the_marketplace_but_never_an_impossible_month() -> None:
    texts = ["02/05/2020", "13/05/2020", "31/02/2020"]
    us, bad_us = cast_strings(pa.array(texts), "date", locale_for("US"))
    de, bad_de = cast_strings(pa.array(texts), "date", locale_for("DE"))
    assert [str(d) for d in us.to_pylist()[:2]] == ["2020-02-05", "2020-05-13"]
    assert [str(d) for d in de.to_pylist()[:2]] == ["2020-05-02", "2020-05-13"]
    assert bad_us.to_pylist()[2] and bad_de.to_pylist()[2]  # 31 February is no date anywhere


def test_numbers_with_comma_decimals_and_thousands_by_marketplace() -> None:
    texts = ["1,234", "1.234,56", "12,5", "44.96", "1,234.56", "-0,99"]
    us, _ = cast_strings(pa.array(texts), "float", locale_for("US"))
    de, _ = cast_strings(pa.array(texts), "float", locale_for("DE"))
    assert us.to_pylist() == [1234.0, 1234.56, 12.5, 44.96, 1234.56, -0.99]
    assert de.to_pylist() == [1.234, 1234.56, 12.5, 44.96, 1234.56, -0.99]
    ints_us, _ = cast_strings(pa.array(["1,234", "1.234"]), "int", locale_for("US"))
    ints_de, _ = cast_strings(pa.array(["1,234", "1.234"]), "int", locale_for("DE"))
    assert ints_us.to_pylist() == [1234, None] and ints_de.to_pylist() == [None, 1234]


def test_unknown_zone_word_makes_the_row_invalid_naming_the_word() -> None:
    spec = REPORT_TYPES["GET_MERCHANT_LISTINGS_ALL_DATA"]
    strings = pa.table(
        {"seller_sku": ["A", "B"], "open_date": ["02/05/2020 05:18:00 MEST", "02/05/2020 05:18 QQT"]}
    )
    chunk = type_strings(spec, strings, 2, locale=locale_for("DE"))
    assert chunk.table.column("seller_sku").to_pylist() == ["A"]
    (bad,) = chunk.bad
    assert bad.line_number == 3 and "unknown time zone word 'QQT'" in bad.reason


EDGE_MONEY = [
    *["12.99", "-3", "+4", "0", "-0", "007.50", "12.", ".5", "-.5", "+.5", "1.000000", "1.0000000"],
    *["1E3", "1.5E+2", "1e-5", "1e-6", "1e-7", "1.2345678", "99999999999999999999999999999999"],
    *["100000000000000000000000000000000", "1e400", "1,5", "1.234,56", "1,234.56", "NaN", "inf"],
    *["1_0", "0x1", "-", ".", "1..2", "--1", "1 2", "\u0661\u0662", "5e", "e5"],
]


@pytest.mark.parametrize("value", EDGE_MONEY)
@pytest.mark.parametrize("market", ["US", "DE"])
def test_a_money_column_cast_whole_reads_each_value_as_the_value_by_value_parser(
    value: str, market: str
) -> None:
    """Arrow's decimal cast of a whole column (the fast path) must accept and read exactly what the
    regex + per-value path does: a column of this one value (and a plain one) and the same column with
    a text value (which sends it down the regex + per-value path) give the same values and validity."""
    locale = locale_for(market)
    whole, whole_bad = cast_strings(pa.array([value, "1.25"]), "decimal", locale)
    mixed, mixed_bad = cast_strings(pa.array([value, "1.25", "not money"]), "decimal", locale)
    assert whole[0].as_py() == mixed[0].as_py()
    assert whole_bad[0].as_py() == mixed_bad[0].as_py()
    assert whole[1].as_py() == mixed[1].as_py() and mixed_bad[2].as_py()
