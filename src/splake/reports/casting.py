"""Vectorised string → declared-type casts (pyarrow compute), reporting which values were invalid.

Flat files are read with every column as a string; :func:`cast_strings` turns one column into its
declared type. Empty strings are nulls; a non-empty value that does not parse is *invalid* (its row goes
to quarantine with the reason). Accepted forms:

- int: ``12``, ``-3``, ``+4``, ``1,234`` (thousands separators)
- float: ``12.5``, ``1,234.56``, ``12,5`` / ``1.234,56`` (EU decimal comma), exponents
- bool: true/false, yes/no, y/n, 1/0, t/f (any case)
- timestamp (tz-aware UTC, microseconds): ISO 8601 with ``T`` or space, optional fraction, offset ``Z``,
  ``+09:00``, ``+0900`` or a zone word (UTC/GMT/PST/PDT/JST/MEZ/…); ``dd.mm.yyyy``, ``dd/mm/yyyy`` (EU Seller
  Central), ``yyyy/mm/dd``; a bare date is midnight UTC; no offset = UTC
- date: any timestamp form (its UTC date) or a bare date
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from splake.reports.types import ColumnType

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
}

_ZONES = {
    "UTC": "+0000",
    "GMT": "+0000",
    "Z": "+0000",
    "PST": "-0800",
    "PDT": "-0700",
    "MST": "-0700",
    "MDT": "-0600",
    "CST": "-0600",
    "CDT": "-0500",
    "EST": "-0500",
    "EDT": "-0400",
    "JST": "+0900",
    "CET": "+0100",
    "CEST": "+0200",
    "MEZ": "+0100",
    "MESZ": "+0200",
    "BST": "+0100",
}


def arrow_type(t: ColumnType) -> pa.DataType:
    return ARROW_TYPES[t]


def _blank_to_null(arr: pa.Array) -> pa.Array:
    trimmed = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


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


def _ints_slow(s: pa.Array) -> tuple[pa.Array, pa.Array]:
    s = pc.if_else(
        pc.match_substring_regex(s, r"^[-+]?\d{1,3}(,\d{3})+$"), pc.replace_substring(s, ",", ""), s
    )
    s = pc.replace_substring_regex(s, r"^\+", "")
    ok = pc.fill_null(pc.match_substring_regex(s, _INT_RE), False)
    return pc.cast(_only(s, ok), pa.int64()), ok


def _ints(s: pa.Array) -> tuple[pa.Array, pa.Array]:
    ok = pc.fill_null(pc.match_substring_regex(s, _INT_RE), False)
    fast = pc.cast(_only(s, ok), pa.int64())
    need = pc.and_(pc.is_valid(s), pc.invert(ok))
    if not pc.any(need).as_py():
        return fast, ok
    return _patch(fast, need, s, _ints_slow)


def _floats_slow(s: pa.Array) -> tuple[pa.Array, pa.Array]:
    us_thousands = pc.match_substring_regex(s, r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")
    s = pc.if_else(us_thousands, pc.replace_substring(s, ",", ""), s)
    eu_thousands = pc.match_substring_regex(s, r"^[-+]?\d{1,3}(\.\d{3})+,\d+$")
    s = pc.if_else(eu_thousands, pc.replace_substring(pc.replace_substring(s, ".", ""), ",", "."), s)
    eu_decimal = pc.match_substring_regex(s, r"^[-+]?\d+,\d+$")
    s = pc.if_else(eu_decimal, pc.replace_substring(s, ",", "."), s)
    ok = pc.fill_null(pc.match_substring_regex(s, _FLOAT_RE), False)
    return pc.cast(_only(s, ok), pa.float64()), ok


def _floats(s: pa.Array) -> tuple[pa.Array, pa.Array]:
    ok = pc.fill_null(pc.match_substring_regex(s, _FLOAT_RE), False)
    fast = pc.cast(_only(s, ok), pa.float64())
    need = pc.and_(pc.is_valid(s), pc.invert(ok))
    if not pc.any(need).as_py():
        return fast, ok
    return _patch(fast, need, s, _floats_slow)


def _bools(s: pa.Array) -> tuple[pa.Array, pa.Array]:
    low = pc.utf8_lower(s)
    true = pc.is_in(low, value_set=pa.array(["true", "yes", "y", "1", "t"]))
    false = pc.is_in(low, value_set=pa.array(["false", "no", "n", "0", "f"]))
    ok = pc.or_(true, false)
    return pc.if_else(ok, true, pa.scalar(None, pa.bool_())), ok


def _normalise_timestamps(s: pa.Array) -> pa.Array:
    # dd.mm.yyyy / yyyy/mm/dd → yyyy-mm-dd
    s = pc.replace_substring_regex(s, r"^(\d{2})\.(\d{2})\.(\d{4})", r"\3-\2-\1")
    s = pc.replace_substring_regex(s, r"^(\d{2})/(\d{2})/(\d{4})", r"\3-\2-\1")  # EU dd/mm/yyyy
    s = pc.replace_substring_regex(s, r"^(\d{4})/(\d{1,2})/(\d{1,2})", r"\1-\2-\3")
    s = pc.replace_substring_regex(s, r"^(\d{4})-(\d)-", r"\1-0\2-")
    s = pc.replace_substring_regex(s, r"^(\d{4}-\d{2})-(\d)(\D|$)", r"\1-0\2\3")
    # date only → midnight
    s = pc.replace_substring_regex(s, r"^(\d{4}-\d{2}-\d{2})$", r"\1 00:00:00")
    # T separator → space; HH:MM → HH:MM:00; drop fractional seconds
    s = pc.replace_substring_regex(
        s, r"^(\d{4}-\d{2}-\d{2})[T ](\d{1,2}:\d{2})(?::(\d{2}))?(?:[.,]\d+)?", r"\1 \2:\3"
    )
    s = pc.replace_substring_regex(s, r"^(\d{4}-\d{2}-\d{2} )(\d):", r"\10\2:")
    s = pc.replace_substring_regex(s, r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}):$", r"\1:00")
    s = pc.replace_substring_regex(s, r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}):(\D)", r"\1:00\2")
    # zone words / Z → numeric offset; no offset → UTC
    for word, offset in _ZONES.items():
        s = pc.replace_substring_regex(
            s, rf"^(\d{{4}}-\d{{2}}-\d{{2}} \d{{2}}:\d{{2}}:\d{{2}})\s*{word}$", rf"\1{offset}"
        )
    s = pc.replace_substring_regex(
        s, r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\s*([-+]\d{2}):?(\d{2})$", r"\1\2\3"
    )
    s = pc.replace_substring_regex(s, r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})$", r"\1+0000")
    return s


def _timestamps_slow(s: pa.Array) -> tuple[pa.Array, pa.Array]:
    norm = _normalise_timestamps(s)
    out = pc.strptime(norm, format="%Y-%m-%d %H:%M:%S%z", unit="us", error_is_null=True)
    out = pc.cast(out, pa.timestamp("us", tz="UTC"))
    return out, pc.fill_null(pc.is_valid(out), False)


def _timestamps(s: pa.Array) -> tuple[pa.Array, pa.Array]:
    # fast path: Amazon's usual ISO 8601 with a numeric offset; only the rest is normalised
    fast = pc.cast(
        pc.strptime(s, format="%Y-%m-%dT%H:%M:%S%z", unit="us", error_is_null=True),
        pa.timestamp("us", tz="UTC"),
    )
    need = pc.and_(pc.is_valid(s), pc.is_null(fast))
    if not pc.any(need).as_py():
        return fast, pc.is_valid(fast)
    return _patch(fast, need, s, _timestamps_slow)


def _dates(s: pa.Array) -> tuple[pa.Array, pa.Array]:
    ts, ok = _timestamps(s)
    # a bare date must not shift through a zone: parse the date part when there is no time
    return pc.cast(ts, pa.date32()), ok


_CASTERS = {"int": _ints, "float": _floats, "bool": _bools, "timestamp": _timestamps, "date": _dates}


def cast_strings(arr: pa.Array | pa.ChunkedArray, t: ColumnType) -> tuple[pa.Array, pa.Array]:
    """(typed values, invalid mask). ``invalid`` is True where a non-blank value failed to parse."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.string())
    if t == "string":
        return pc.cast(arr, pa.string()), pa.array([False] * len(arr), pa.bool_())
    s = _blank_to_null(pc.cast(arr, pa.string()))
    typed, ok = _CASTERS[t](s)
    present = pc.is_valid(s)
    invalid = pc.and_(present, pc.invert(ok))
    return typed, pc.fill_null(invalid, False)
