"""Casting a small chunk's columns together (splake.reports.castgroup) gives each column exactly what
casting it alone gives (splake.reports.casting.cast_strings); the date fast paths (splake.reports.castdates:
bare ISO dates, "nn/nn/yyyy HH:MM:SS WORD") read every value as the general normaliser does."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest

from splake.reports import castgroup
from splake.reports.castgroup import cast_columns
from splake.reports.casting import cast_strings
from splake.reports.locales import locale_for
from splake.reports.types import ColumnType
from tests.support.conformance import parse_amazon_time

COLUMNS: list[tuple[ColumnType, list[str | None]]] = [
    ("int", ["1", "1,234", "x", None, ""]),
    ("int", ["7", "-3", "+4", "--", " 5 "]),
    ("float", ["1,5", "2.25", "1e3", "abc", None]),
    ("decimal", ["12.99", "-3", "+4", "0", None]),  # plain: Arrow's whole cast takes every value
    ("decimal", ["1.50", "7", None, "", "2"]),
    ("decimal", ["1,234.56", "12,5", "1.2345678", "x", "3"]),  # needs the value-by-value path
    ("bool", ["true", "N", "maybe", None, "1"]),
    ("timestamp", ["2026-11-28T10:00:00+00:00", "2026-11-28", "30.11.2026 10:00:00 CET", "2026-02-31", "x"]),
    ("timestamp", ["2020-05-02 05:18 QQT", "02/05/2020", None, "", "2024-02-29"]),
    ("date", ["2026-11-28", "2026-1-05", "2023-02-29", "31/12/2025", None]),
    ("date", [None, None, None, None, None]),
    ("string", ["a", "", None, "--", " b "]),
    ("float", ["", "", "", "", ""]),
]


@pytest.mark.parametrize("market", ["US", "DE"])
@pytest.mark.parametrize("max_rows", [castgroup.GROUP_MAX_ROWS, 2])  # together, and one by one (large)
def test_columns_cast_together_equal_each_cast_alone(
    market: str, max_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(castgroup, "GROUP_MAX_ROWS", max_rows)
    locale = locale_for(market)
    arrays: list[pa.Array | pa.ChunkedArray] = [pa.array(v, pa.string()) for _, v in COLUMNS]
    arrays[1] = pa.chunked_array([pa.array(COLUMNS[1][1][:2]), pa.array(COLUMNS[1][1][2:])])
    arrays[4] = pa.array(COLUMNS[4][1], pa.large_string())
    got = cast_columns(arrays, [t for t, _ in COLUMNS], locale)
    assert len(got) == len(COLUMNS)
    for (t, values), (typed, invalid) in zip(COLUMNS, got, strict=True):
        want, want_invalid = cast_strings(pa.array(values, pa.string()), t, locale)
        assert typed.type == want.type
        assert typed.to_pylist() == want.to_pylist(), (t, values)
        bad = want_invalid.to_pylist()
        assert (invalid.to_pylist() if invalid is not None else [False] * len(values)) == bad
        assert (invalid is None) == (not any(bad))


def test_some_values_read_as_written() -> None:
    """(Independent of cast_strings: the expected values are written out.)"""
    got = cast_columns(
        [pa.array(["1", "x", None]), pa.array(["2", "3", ""]), pa.array(["1.50", "1,234.56", None])],
        ["int", "int", "decimal"],
        locale_for("US"),
    )
    (a, a_bad), (b, b_bad), (money, money_bad) = got
    assert (
        a.to_pylist() == [1, None, None] and a_bad is not None and a_bad.to_pylist() == [False, True, False]
    )
    assert b.to_pylist() == [2, 3, None] and b_bad is None
    assert [str(v) for v in money.to_pylist()[:2]] == ["1.500000", "1234.560000"] and money_bad is None


def test_bare_iso_dates_are_midnight_utc_and_impossible_ones_invalid() -> None:
    texts = ["2026-11-28", "2024-02-29", "2026-02-31", "2023-02-29", "2026-1-05", "0202-11-28", "2026-13-01"]
    typed, invalid = cast_strings(pa.array(texts), "timestamp", locale_for("DE"))
    assert invalid.to_pylist() == [False, False, True, True, False, False, True]
    assert typed.to_pylist()[:2] == [parse_amazon_time(t) for t in texts[:2]]
    assert typed[4].as_py() == datetime(2026, 1, 5, tzinfo=UTC)
    assert typed[5].as_py() == datetime(202, 11, 28, tzinfo=UTC)
    days, bad = cast_strings(pa.array(["2026-11-28", "2026-11-31"]), "date", locale_for("US"))
    assert days.to_pylist() == [date(2026, 11, 28), None] and bad.to_pylist() == [False, True]


def _zoned_texts() -> list[str]:
    rng = random.Random(17)
    words = ["CET", "CEST", "cest", "MESZ", "BST", "GMT", "PST", "JST", "UTC", "QQT", "Z"]
    out = []
    for _ in range(3000):
        d, m = rng.choice([1, 9, 12, 13, 28, 29, 30, 31, 0, 32]), rng.choice([1, 2, 4, 12, 13, 0])
        y = rng.choice([2023, 2024, 1969, 2000, 9999, 1])
        hh, mi, ss = rng.choice([0, 6, 23, 24]), rng.choice([0, 49, 59, 60]), rng.choice([0, 12, 59, 60])
        zone = rng.choice(words)
        out.append(f"{d:02d}/{m:02d}/{y:04d} {hh:02d}:{mi:02d}:{ss:02d} {zone}")
        out.append(f"{y:04d}-{m:02d}-{d:02d} {hh:02d}:{mi:02d}:{ss:02d} {zone}")
    out += [
        "1/4/2023 06:49:12 CET",
        "18/04/2023  06:49:12 CET",
        "18/04/2023 06:49 CET",
        "18/04/2023 06:49:12",
    ]
    out += [
        "18/04/2023T06:49:12 CET",
        "18.04.2023 06:49:12 CET",
        "2023/04/18 06:49:12 JST",
        "18/04/2023 06:49:12.5 CET",
    ]
    return out


@pytest.mark.parametrize("market", ["US", "DE"])
def test_the_zoned_fast_path_reads_every_value_as_the_general_normaliser(market: str) -> None:
    """Every text of the "nn/nn/yyyy HH:MM:SS WORD" family (valid, impossible, rolled-over, unknown words,
    other spacings) casts to exactly what the general normaliser alone makes of it."""
    from splake.reports.casting import _timestamps_slow

    texts = pa.array(_zoned_texts())
    locale = locale_for(market)
    typed, invalid = cast_strings(texts, "timestamp", locale)
    slow, ok = _timestamps_slow(texts, locale)
    assert typed.to_pylist() == slow.to_pylist()
    assert invalid.to_pylist() == [not v for v in ok.to_pylist()]
    assert 0 < sum(ok.to_pylist()) < len(texts)


def test_zoned_flat_file_times_read_as_written() -> None:
    """(Independent of splake: tests/support/conformance.parse_amazon_time.)"""
    texts = [
        "18/04/2023 06:49:12 CEST",
        "08/07/2016 10:12:40 BST",
        "2019-02-05 04:25:45 PST",
        "02/05/2020 05:18:00 mest",
    ]
    typed, invalid = cast_strings(pa.array(texts), "timestamp", locale_for("DE"))
    assert not any(invalid.to_pylist())
    assert typed.to_pylist() == [parse_amazon_time(t) for t in texts]
    us, _ = cast_strings(
        pa.array(["11/30/2026 10:00:00 PST", "13/05/2020 05:18:00 PDT"]), "timestamp", locale_for("US")
    )
    assert us.to_pylist() == [
        parse_amazon_time("11/30/2026 10:00:00 PST", day_first=False),
        parse_amazon_time("13/05/2020 05:18:00 PDT", day_first=True),
    ]
