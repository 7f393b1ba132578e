"""The typed columns' fast path (reports/castfast.py) gives exactly what the general cast gives, whenever
it answers. The reference is the general path itself: the same values with a blank appended, which no
fast path accepts (so ``cast_strings`` takes the general path for them)."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from splake.reports.castfast import exact_cast
from splake.reports.casting import cast_strings


def _general(values: list[str | None], t: str) -> tuple[pa.Array, list[bool]]:
    typed, invalid = cast_strings(pa.array([*values, ""], pa.string()), t)  # type: ignore[arg-type]
    return typed.slice(0, len(values)), invalid.to_pylist()[:-1]


def _agrees(values: list[str | None], t: str) -> bool:
    """True when the fast path answered (and then it equals the general path, every value valid)."""
    fast = exact_cast(pa.array(values, pa.string()), t)
    if fast is None:
        return False
    typed, invalid = _general(values, t)
    assert fast.equals(typed), (
        values,
        fast,
        typed,
    )  # (as Arrow values: year 1 minus an offset is no datetime)
    assert not any(invalid), values
    return True


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=n, max_size=n)


def _num(lo: int, hi: int, width: int) -> st.SearchStrategy[str]:
    return st.integers(lo, hi).map(lambda v: f"{v:0{width}d}")


def _mostly(lo: int, hi: int, edge: int, width: int = 2) -> st.SearchStrategy[str]:
    """Mostly ``lo..hi``, sometimes up to ``edge`` (out of range)."""
    return st.one_of(_num(lo, hi, width), _num(lo, hi, width), _num(0, edge, width))


ISO = st.builds(
    lambda y, mo, d, h, mi, s, sign, oh, om, sep: f"{y}-{mo}-{d}{sep}{h}:{mi}:{s}{sign}{oh}:{om}",
    _num(1, 9999, 4),
    _mostly(1, 12, 13),
    _mostly(1, 28, 32),
    _mostly(0, 23, 24),
    _mostly(0, 59, 60),
    _mostly(0, 59, 61),
    st.sampled_from(["+", "-", "+", "-", ",", " "]),
    _mostly(0, 14, 99),
    st.one_of(st.sampled_from(["00", "30", "45"]), _num(0, 99, 2)),
    st.sampled_from(["T", "T", "T", " ", "t"]),
)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(ISO, min_size=1, max_size=3))
def test_iso_timestamps_and_dates_agree_with_the_general_path(values: list[str]) -> None:
    _agrees(values, "timestamp")  # type: ignore[arg-type]
    _agrees(values, "date")  # type: ignore[arg-type]


def test_amazons_usual_forms_take_the_fast_path() -> None:
    assert _agrees(["2026-10-07T12:32:44+00:00", "2026-10-31T23:59:59-07:00"], "timestamp")
    assert _agrees(["2026-10-07T23:30:00-05:00"], "date")  # its UTC date: the 8th
    assert _agrees(["748.05", "0.40", "-3", "12", "1e3", "+4"], "decimal")
    assert _agrees(["1", "2", "-3", "007"], "int")
    assert _agrees(["true", "false"], "bool")
    assert _agrees(["12.5", None], "decimal") and _agrees(["3", None], "int")


def test_forms_only_the_general_path_reads_are_left_to_it() -> None:
    for values, t in [
        (["2026-10-07T12:32:44+09"], "timestamp"),  # Arrow would read these, the general path does not
        (["2026-10-07T12+00:00"], "timestamp"),
        (["2026-10-07 12:32:44+00:00"], "timestamp"),  # (the general path reads it: not the fast shape)
        (["2026-02-30T00:00:00+00:00"], "timestamp"),
        (["0x1F"], "int"),
        (["9223372036854775807"], "int"),
        (["+4"], "int"),
        (["1,234.50"], "decimal"),
        ([" 12.5"], "decimal"),
        (["--"], "decimal"),
        (["True"], "bool"),
        (["true", None], "bool"),
    ]:
        assert exact_cast(pa.array(values, pa.string()), t) is None, (values, t)


NUMBERISH = st.text("0123456789.-+eExX, ", min_size=1, max_size=21)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.one_of(NUMBERISH, _digits(18), _digits(19), st.none()), min_size=1, max_size=4))
def test_decimals_and_ints_agree_with_the_general_path(values: list[str | None]) -> None:
    _agrees(values, "decimal")
    _agrees(values, "int")


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.sampled_from(["true", "false", "True", "yes", "1", "t", " true"]), min_size=1))
def test_bools_agree_with_the_general_path(values: list[str]) -> None:
    _agrees(values, "bool")  # type: ignore[arg-type]
