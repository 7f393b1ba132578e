"""Money columns as exact decimals (``decimal128(38, 6)``), never binary floats.

:func:`cast_decimals` takes a string array whose blanks are already null and returns (values, ok). A
column that Arrow's decimal cast reads whole (plain ``12.99`` / ``-3`` / ``+4``; it refuses what it would
round) is cast at once. Otherwise plain values take a vectorised regex path and anything else (thousands
separators ``1,234.56`` / ``1.234,56``, a decimal comma ``12,5``, exponents from JSON numbers ``1e-05``) is
parsed one value at a time with :mod:`decimal`. ``1,234`` alone reads as in :mod:`splake.reports.casting`:
1234, or 1.234 where the marketplace writes decimal commas (:class:`~splake.reports.locales.CastLocale`).
A value with more than :data:`SCALE` significant fraction digits, or too large for the type, is *not*
rounded: it is invalid and its row goes to quarantine with the reason.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import pyarrow as pa
import pyarrow.compute as pc

from splake.reports.locales import DEFAULT_LOCALE, CastLocale

PRECISION = 38
SCALE = 6
DECIMAL = pa.decimal128(PRECISION, SCALE)

_FAST = r"^[-+]?\d{1,32}(\.\d{1,6})?$"
_US_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")
_US_THOUSANDS_FRACTION = re.compile(r"^[-+]?\d{1,3}(,\d{3})+\.\d+$")
_EU_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+,\d+$")
_EU_DECIMAL = re.compile(r"^[-+]?\d+,\d+$")
_PLAIN = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_LIMIT = Decimal(10) ** (PRECISION - SCALE)


def parse_decimal(text: str, locale: CastLocale = DEFAULT_LOCALE) -> Decimal | None:
    """One money value as Amazon writes it → Decimal, or None when it is not an exact money value."""
    t = text.strip()
    us = _US_THOUSANDS_FRACTION if locale.decimal_comma else _US_THOUSANDS
    if us.match(t):
        t = t.replace(",", "")
    elif _EU_THOUSANDS.match(t):
        t = t.replace(".", "").replace(",", ".")
    elif _EU_DECIMAL.match(t):
        t = t.replace(",", ".")
    if not _PLAIN.match(t):
        return None
    try:
        value = Decimal(t)
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) >= _LIMIT:
        return None
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -SCALE:
        return None  # more fraction digits than the column holds: never round money silently
    return value.quantize(Decimal(1).scaleb(-SCALE))


def _slow(s: pa.Array, locale: CastLocale) -> tuple[pa.Array, pa.Array]:
    values = [None if v is None else parse_decimal(v, locale) for v in s.to_pylist()]
    return pa.array(values, DECIMAL), pa.array([v is not None for v in values], pa.bool_())


def cast_decimals(s: pa.Array, locale: CastLocale = DEFAULT_LOCALE) -> tuple[pa.Array, pa.Array]:
    """(decimal values, ok) for a string array whose blanks are null (null → null, ok=False)."""
    if s.null_count < len(s):
        try:  # the usual column: every value is a plain number Arrow reads exactly (no regex, no copy)
            return pc.cast(s, DECIMAL), pc.is_valid(s)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # some value is not (thousands, decimal comma, too many digits, text): value by value
    ok = pc.fill_null(pc.match_substring_regex(s, _FAST), False)
    fast = pc.cast(pc.if_else(ok, s, pa.scalar(None, pa.string())), DECIMAL)
    need = pc.and_(pc.is_valid(s), pc.invert(ok))
    if not pc.any(need).as_py():
        return fast, ok
    idx = pc.indices_nonzero(need)
    slow_vals, slow_ok = _slow(pc.take(s, idx), locale)
    out = pc.replace_with_mask(fast, need, slow_vals)
    good = pc.replace_with_mask(ok, need, slow_ok)
    return out, good
