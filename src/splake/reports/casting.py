"""Vectorised string → declared-type casts (pyarrow compute), reporting which values were invalid.

Flat files are read with every column as a string; :func:`cast_strings` turns one column into its
declared type. Empty strings are nulls, and so is a cell that is exactly one of Amazon's "no value"
placeholders (:data:`splake.reports.locales.NO_VALUE_TOKENS`, e.g. ``--``) after trimming — in typed
columns only (string columns keep the text as written); a non-empty value that does not parse is
*invalid* (its row goes to quarantine with the reason). Accepted forms:

- int: ``12``, ``-3``, ``+4``, ``1,234`` (thousands separators; ``1.234`` where the marketplace writes
  decimal commas)
- float: ``12.5``, ``1,234.56``, ``12,5`` / ``1.234,56`` (EU decimal comma), exponents; ``1,234`` is 1234,
  or 1.234 where the marketplace writes decimal commas (:mod:`splake.reports.locales`)
- decimal (money, exact): the float forms, at most 6 fraction digits (see :mod:`splake.reports.money`)
- bool: true/false, yes/no, y/n, 1/0, t/f (any case)
- timestamp (tz-aware UTC, microseconds): ISO 8601 with ``T`` or space, optional fraction, offset ``Z``,
  ``+09:00``, ``+0900`` or a zone word from :data:`splake.reports.locales.ZONE_OFFSETS` (an unknown word is
  invalid); ``dd.mm.yyyy``, ``yyyy/mm/dd``, and ``nn/nn/yyyy`` day- or month-first by marketplace (a value
  whose first number is over 12 is day-first wherever it is written); a bare date is midnight UTC; no offset
  = UTC
- date: any timestamp form (its UTC date) or a bare date

The marketplace's :class:`~splake.reports.locales.CastLocale` is passed in (default: day first, decimal
point). Every cast is an Arrow compute kernel over the whole column (fast path first, the slower forms only
for the values the fast path could not read).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from splake.reports.castdates import iso_dates, zoned_times
from splake.reports.castfast import exact_cast
from splake.reports.locales import DEFAULT_LOCALE, NO_VALUE_TOKENS, ZONE_OFFSETS, CastLocale
from splake.reports.money import DECIMAL, cast_decimals
from splake.reports.types import ColumnType

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "decimal": DECIMAL,
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
}


def arrow_type(t: ColumnType) -> pa.DataType:
    return ARROW_TYPES[t]


_NO_VALUE = pa.array(sorted({"", *NO_VALUE_TOKENS}), pa.string())


def _all_empty(arr: pa.Array) -> bool:
    """Every value is null or the empty string: decided from the offsets buffer (two reads, not a scan)."""
    n = len(arr)
    if arr.null_count == n:
        return True
    offsets = memoryview(arr.buffers()[1]).cast("q" if pa.types.is_large_string(arr.type) else "i")
    return bool(offsets[arr.offset + n] == offsets[arr.offset])


def _blank_to_null(arr: pa.Array) -> pa.Array:
    """Trimmed text; null where the cell is blank or exactly a declared "no value" placeholder."""
    trimmed = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.is_in(trimmed, value_set=_NO_VALUE), pa.scalar(None, pa.string()), trimmed)


def _only(arr: pa.Array, valid: pa.Array) -> pa.Array:
    return pc.if_else(valid, arr, pa.scalar(None, arr.type))


_INT_RE = r"^-?\d{1,18}$"
_FLOAT_RE = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"


def _patch(fast: pa.Array, need: pa.Array, src: pa.Array, slow_fn: Any) -> tuple[pa.Array, pa.Array]:
    """Values where ``need`` is set are recomputed by ``slow_fn`` on that subset only (fast path first)."""
    idx = pc.indices_nonzero(need)
    slow_vals, slow_ok = slow_fn(pc.take(src, idx))
    out = pc.replace_with_mask(fast, need, pc.cast(slow_vals, fast.type))
    ok = pc.replace_with_mask(pc.is_valid(fast), need, slow_ok)
    return out, ok


def _ints_slow(s: pa.Array, loc: CastLocale) -> tuple[pa.Array, pa.Array]:
    sep = "." if loc.decimal_comma else ","
    grouped = pc.match_substring_regex(s, rf"^[-+]?\d{{1,3}}(\{sep}\d{{3}})+$")
    s = pc.if_else(grouped, pc.replace_substring(s, sep, ""), s)
    s = pc.replace_substring_regex(s, r"^\+", "")
    ok = pc.fill_null(pc.match_substring_regex(s, _INT_RE), False)
    return pc.cast(_only(s, ok), pa.int64()), ok


def _ints(s: pa.Array, loc: CastLocale) -> tuple[pa.Array, pa.Array]:
    ok = pc.fill_null(pc.match_substring_regex(s, _INT_RE), False)
    fast = pc.cast(_only(s, ok), pa.int64())
    need = pc.and_(pc.is_valid(s), pc.invert(ok))
    if not pc.any(need).as_py():
        return fast, ok
    return _patch(fast, need, s, lambda sub: _ints_slow(sub, loc))


def _floats_slow(s: pa.Array, loc: CastLocale) -> tuple[pa.Array, pa.Array]:
    # "1,234" alone is a thousands group, or a decimal comma where the marketplace writes those
    us_form = r"^[-+]?\d{1,3}(,\d{3})+\.\d+$" if loc.decimal_comma else r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$"
    us_thousands = pc.match_substring_regex(s, us_form)
    s = pc.if_else(us_thousands, pc.replace_substring(s, ",", ""), s)
    eu_thousands = pc.match_substring_regex(s, r"^[-+]?\d{1,3}(\.\d{3})+,\d+$")
    s = pc.if_else(eu_thousands, pc.replace_substring(pc.replace_substring(s, ".", ""), ",", "."), s)
    eu_decimal = pc.match_substring_regex(s, r"^[-+]?\d+,\d+$")
    s = pc.if_else(eu_decimal, pc.replace_substring(s, ",", "."), s)
    ok = pc.fill_null(pc.match_substring_regex(s, _FLOAT_RE), False)
    return pc.cast(_only(s, ok), pa.float64()), ok


def _floats(s: pa.Array, loc: CastLocale) -> tuple[pa.Array, pa.Array]:
    ok = pc.fill_null(pc.match_substring_regex(s, _FLOAT_RE), False)
    fast = pc.cast(_only(s, ok), pa.float64())
    need = pc.and_(pc.is_valid(s), pc.invert(ok))
    if not pc.any(need).as_py():
        return fast, ok
    return _patch(fast, need, s, lambda sub: _floats_slow(sub, loc))


def _bools(s: pa.Array, loc: CastLocale) -> tuple[pa.Array, pa.Array]:
    low = pc.utf8_lower(s)
    true = pc.is_in(low, value_set=pa.array(["true", "yes", "y", "1", "t"]))
    false = pc.is_in(low, value_set=pa.array(["false", "no", "n", "0", "f"]))
    ok = pc.or_(true, false)
    return pc.if_else(ok, true, pa.scalar(None, pa.bool_())), ok


# One pattern for every non-ISO-fast-path form: a date (yyyy-mm-dd, yyyy/mm/dd, nn/nn/yyyy, dd.mm.yyyy),
# an optional time (T or space, optional seconds and fraction) and an optional zone (Z, ±hh[:]mm, a word).
_TS_RE = (
    r"^(?P<a>\d{1,4})(?P<sep>[-/.])(?P<b>\d{1,2})[-/.](?P<c>\d{1,4})"
    r"(?:[T ]+(?P<hh>\d{1,2}):(?P<mi>\d{2})(?::(?P<ss>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?)?"
    r"\s*(?P<zone>Z|[-+]\d{2}:?\d{2}|[A-Za-z]{2,5})?$"
)
_ZONE_WORDS = pa.array(list(ZONE_OFFSETS), pa.string())
_ZONE_MINUTES = pa.array(list(ZONE_OFFSETS.values()), pa.int64())
_US_PER_MINUTE = 60_000_000


def _num(field: pa.Array, default: int | None = None) -> pa.Array:
    out = pc.cast(field, pa.int64())
    return out if default is None else pc.fill_null(out, default)


def _timestamps_slow(s: pa.Array, loc: CastLocale) -> tuple[pa.Array, pa.Array]:
    parts = pc.extract_regex(s, _TS_RE)  # null where the text is no date at all
    g = {
        name: pc.struct_field(parts, name)
        for name in ("a", "sep", "b", "c", "hh", "mi", "ss", "frac", "zone")
    }
    for k in ("hh", "mi", "ss", "frac", "zone"):  # unmatched optional groups are "" in the struct
        g[k] = pc.if_else(pc.equal(g[k], ""), pa.scalar(None, pa.string()), g[k])
    a, b, c = _num(g["a"]), _num(g["b"]), _num(g["c"])
    year_first = pc.greater_equal(pc.utf8_length(g["a"]), 4)
    # nn/nn/yyyy: the marketplace's order, unless the first number cannot be a month (13/05/2020)
    dotted = pc.equal(g["sep"], ".")
    day_first = pc.or_(pc.or_(dotted, pa.scalar(loc.day_first)), pc.greater(a, 12))
    year = pc.if_else(year_first, a, c)
    month = pc.if_else(year_first, b, pc.if_else(day_first, b, a))
    day = pc.if_else(year_first, c, pc.if_else(day_first, a, b))
    hh, mi, ss = _num(g["hh"], 0), _num(g["mi"], 0), _num(g["ss"], 0)

    def pad(x: pa.Array, w: int) -> pa.Array:
        return pc.utf8_lpad(pc.cast(x, pa.string()), width=w, padding="0")

    text = pc.binary_join_element_wise(
        pad(year, 4),
        "-",
        pad(month, 2),
        "-",
        pad(day, 2),
        " ",
        pad(hh, 2),
        ":",
        pad(mi, 2),
        ":",
        pad(ss, 2),
        "",
    )
    base = pc.strptime(text, format="%Y-%m-%d %H:%M:%S", unit="us", error_is_null=True)
    # fraction → microseconds (first 6 digits)
    frac = pc.utf8_slice_codeunits(pc.utf8_rpad(pc.fill_null(g["frac"], ""), width=6, padding="0"), 0, 6)
    micros = pc.cast(frac, pa.int64())
    # zone → minutes east of UTC: Z / numeric / a declared word; an unknown word stays null (invalid)
    zone = g["zone"]
    numeric = pc.match_substring_regex(zone, r"^[-+]\d{2}:?\d{2}$")
    digits = _only(pc.replace_substring(zone, ":", ""), pc.fill_null(numeric, False))
    sign = pc.if_else(pc.starts_with(zone, "-"), pa.scalar(-1, pa.int64()), pa.scalar(1, pa.int64()))
    num_minutes = pc.multiply(
        sign,
        pc.add(
            pc.multiply(pc.cast(pc.utf8_slice_codeunits(digits, 1, 3), pa.int64()), 60),
            pc.cast(pc.utf8_slice_codeunits(digits, 3, 5), pa.int64()),
        ),
    )
    word_minutes = pc.take(_ZONE_MINUTES, pc.index_in(pc.utf8_upper(zone), value_set=_ZONE_WORDS))
    minutes = pc.if_else(
        pc.is_null(zone), pa.scalar(0, pa.int64()), pc.if_else(numeric, num_minutes, word_minutes)
    )
    local_us = pc.cast(pc.cast(base, pa.int64()), pa.int64())
    utc_us = pc.subtract(pc.add(local_us, micros), pc.multiply(minutes, _US_PER_MINUTE))
    # the date parts must be a real calendar date and the time in range
    ok = pc.and_(pc.is_valid(base), pc.is_valid(minutes))
    ok = pc.and_(ok, pc.and_(pc.equal(pc.day(base), day), pc.equal(pc.month(base), month)))  # no 31/02
    ok = pc.and_(ok, pc.and_(pc.less(hh, 24), pc.and_(pc.less(mi, 60), pc.less(ss, 61))))
    ok = pc.fill_null(ok, False)
    out = pc.cast(_only(utc_us, ok), pa.timestamp("us", tz="UTC"))
    return out, ok


def _timestamps(s: pa.Array, loc: CastLocale) -> tuple[pa.Array, pa.Array]:
    # fast paths: Amazon's usual ISO 8601 with a numeric offset, then bare ISO dates (JSON reports' dates)
    # and the flat files' "dd/mm/yyyy HH:MM:SS CEST"; only the rest is normalised
    fast = pc.cast(
        pc.strptime(s, format="%Y-%m-%dT%H:%M:%S%z", unit="us", error_is_null=True),
        pa.timestamp("us", tz="UTC"),
    )
    need = pc.and_(pc.is_valid(s), pc.is_null(fast))
    if not pc.any(need).as_py():
        return fast, pc.is_valid(fast)
    for form in (iso_dates, lambda x: zoned_times(x, loc)):  # (splake.reports.castdates)
        fast = pc.coalesce(fast, form(s))
        need = pc.and_(pc.is_valid(s), pc.is_null(fast))
        if not pc.any(need).as_py():
            return fast, pc.is_valid(fast)
    return _patch(fast, need, s, lambda sub: _timestamps_slow(sub, loc))


def _dates(s: pa.Array, loc: CastLocale) -> tuple[pa.Array, pa.Array]:
    ts, ok = _timestamps(s, loc)
    return pc.cast(ts, pa.date32()), ok


def unknown_zone(value: str) -> str | None:
    """The trailing zone word of a date text when it is not declared (for quarantine reasons)."""
    parts = value.strip().rsplit(" ", 1)
    if len(parts) == 2 and parts[1].isalpha() and parts[1].upper() not in ZONE_OFFSETS:
        return parts[1]
    return None


Caster = Callable[[pa.Array, CastLocale], tuple[pa.Array, pa.Array]]
_CASTERS: dict[str, Caster] = {
    "int": _ints,
    "float": _floats,
    "decimal": cast_decimals,  # money: splake.reports.money
    "bool": _bools,
    "timestamp": _timestamps,
    "date": _dates,
}


def cast_strings(
    arr: pa.Array | pa.ChunkedArray, t: ColumnType, locale: CastLocale = DEFAULT_LOCALE
) -> tuple[pa.Array, pa.Array]:
    """(typed values, invalid mask). ``invalid`` is True where a non-blank value failed to parse.
    ``locale`` says how the marketplace writes ambiguous dates (nn/nn/yyyy) and numbers (1,234)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.string())
    if t == "string":
        return pc.cast(arr, pa.string()), pa.repeat(pa.scalar(False), len(arr))  # (no per-row Python list)
    if _all_empty(arr):  # a column the document leaves blank (many are): null, without a kernel per row
        return pa.nulls(len(arr), arrow_type(t)), pa.repeat(pa.scalar(False), len(arr))
    fast = exact_cast(arr, t)  # every value in its plain form (the usual column): one cast, same result
    if fast is not None:
        return fast, pa.repeat(pa.scalar(False), len(arr))
    return cast_text(pc.cast(arr, pa.string()), t, locale)


def cast_text(arr: pa.Array, t: ColumnType, locale: CastLocale = DEFAULT_LOCALE) -> tuple[pa.Array, pa.Array]:
    """:func:`cast_strings` of a non-blank ``string`` array to a typed (not ``string``) column ``t``."""
    s = _blank_to_null(arr)
    typed, ok = _CASTERS[t](s, locale)
    present = pc.is_valid(s)
    invalid = pc.and_(present, pc.invert(ok))
    return typed, pc.fill_null(invalid, False)
