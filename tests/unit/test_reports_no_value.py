"""Amazon's "no value" placeholders (``--`` in the FBA Fee Preview report) land as null in typed columns,
only as whole cells after trimming; string columns keep the text as written."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from splake.reports.casting import arrow_type, cast_strings
from splake.reports.locales import NO_VALUE_TOKENS, locale_for

# (type, a readable value and what it is) for every typed column kind
READABLE = {
    "int": ("7", 7),
    "float": ("2.5", 2.5),
    "decimal": ("12.99", Decimal("12.990000")),
    "bool": ("true", True),
    "timestamp": ("2026-11-02T10:00:00+00:00", datetime(2026, 11, 2, 10, 0, tzinfo=UTC)),
    "date": ("2026-11-02", date(2026, 11, 2)),
}


def test_the_declared_tokens_are_the_evidenced_ones() -> None:
    assert frozenset({"--"}) == NO_VALUE_TOKENS  # see the evidence next to the declaration


@pytest.mark.parametrize("kind", sorted(READABLE))
def test_placeholder_cells_are_null_and_not_invalid(kind: str) -> None:
    text, value = READABLE[kind]
    typed, invalid = cast_strings(pa.array(["--", text, " -- ", "\t--", ""]), kind)  # type: ignore[arg-type]
    assert typed.to_pylist() == [None, value, None, None, None]
    assert invalid.to_pylist() == [False] * 5


@pytest.mark.parametrize("kind", sorted(READABLE))
@pytest.mark.parametrize("text", ["---", "-", "- -", "--5", "5--", "\u2014", "\u2013", "-- --", "N/A", "NA"])
def test_only_whole_cell_matches_count_anything_else_stays_invalid(kind: str, text: str) -> None:
    typed, invalid = cast_strings(pa.array([text]), kind)  # type: ignore[arg-type]
    assert invalid.to_pylist() == [True] and typed.to_pylist() == [None]


@pytest.mark.parametrize("market", ["US", "DE"])
def test_placeholders_next_to_locale_forms(market: str) -> None:
    texts = ["--", "1.234,56", "--", "12,5"] if market == "DE" else ["--", "1,234.56", "--", "12.5"]
    typed, invalid = cast_strings(pa.array(texts), "decimal", locale_for(market))
    assert typed.to_pylist() == [None, Decimal("1234.560000"), None, Decimal("12.500000")]
    assert not any(invalid.to_pylist())


def test_string_columns_keep_the_placeholder_text_byte_equal() -> None:
    texts = ["--", " -- ", "N/A", "a--b"]
    typed, invalid = cast_strings(pa.array(texts), "string")
    assert typed.to_pylist() == texts and not any(invalid.to_pylist())


def test_chunked_columns_with_nulls_and_placeholders() -> None:
    arr = pa.chunked_array([["--", None], ["3", "--"]])
    typed, invalid = cast_strings(arr, "int")
    assert typed.to_pylist() == [None, None, 3, None] and not any(invalid.to_pylist())


def test_blank_columns_of_every_type_are_null_and_valid_and_a_value_among_blanks_still_parses() -> None:
    samples = {
        "int": "7",
        "float": "1.5",
        "decimal": "12.99",
        "bool": "true",
        "timestamp": "2026-10-01T12:00:00+00:00",
        "date": "2026-10-01",
    }
    for t, value in samples.items():
        for blank in (pa.array(["", "", ""]), pa.array(["", None, ""]), pa.array(["x", "", ""]).slice(1)):
            typed, invalid = cast_strings(blank, t)  # type: ignore[arg-type]
            assert typed.type == arrow_type(t) and typed.null_count == len(blank), t  # type: ignore[arg-type]
            assert not pc.any(invalid).as_py(), t
        typed, invalid = cast_strings(pa.array(["", value, ""]).slice(1), t)  # type: ignore[arg-type]
        assert typed[0].is_valid and typed.null_count == 1 and not pc.any(invalid).as_py(), t
