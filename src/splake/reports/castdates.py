"""Fast paths for the date forms Amazon writes most, before :mod:`splake.reports.casting`'s general (slow)
normaliser: ~60 Arrow kernels a column, which for a small document are mostly fixed cost.

Each fast path parses its canonical form with ``strptime`` and keeps a value only when formatting the result
back gives the text as written (so no rolled-over ``31/02`` or ``23:59:60``, no single-digit fields): for
every value it keeps, the result is the general normaliser's (``tests/unit/test_reports_castgroup.py``
compares them value by value); anything else stays null and goes the general way.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from splake.reports.locales import ZONE_OFFSETS, CastLocale

_UTC = pa.timestamp("us", tz="UTC")
_ZONE_WORDS = pa.array(list(ZONE_OFFSETS), pa.string())
_ZONE_SECONDS = pa.array([60 * m for m in ZONE_OFFSETS.values()], pa.int64())
# "dd/mm/yyyy HH:MM:SS WORD" (mm/dd where the marketplace writes month first) or "yyyy-mm-dd HH:MM:SS WORD":
# the flat files' timestamps in most marketplaces (e.g. 18/04/2023 06:49:12 CEST, 2019-02-05 04:25:45 PST)
_ZONED = (
    r"^(?P<dt>\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})"
    r" (?P<zone>[A-Za-z]{2,5})$"
)
_ISO = "%Y-%m-%d %H:%M:%S"


def _only(arr: pa.Array, valid: pa.Array) -> pa.Array:
    return pc.if_else(valid, arr, pa.scalar(None, arr.type))


def iso_dates(s: pa.Array) -> pa.Array:
    """Midnight UTC of each bare ISO date ``yyyy-mm-dd`` (JSON reports' dates), null for anything else."""
    plain = pc.fill_null(pc.match_substring_regex(s, r"^\d{4}-\d{2}-\d{2}$"), False)
    ts = pc.strptime(_only(s, plain), format="%Y-%m-%d", unit="us", error_is_null=True)
    as_written = pc.fill_null(pc.equal(pc.strftime(ts, format="%Y-%m-%d"), s), False)  # (no 2026-02-31)
    return pc.cast(_only(ts, as_written), _UTC)


def zoned_times(s: pa.Array, loc: CastLocale) -> pa.Array:
    """Each ``nn/nn/yyyy HH:MM:SS WORD`` (day first unless the marketplace writes month first) or
    ``yyyy-mm-dd HH:MM:SS WORD`` with a declared zone word, in UTC; null for anything else."""
    parts = pc.extract_regex(s, _ZONED)
    if parts.null_count == len(parts):
        return pa.nulls(len(s), _UTC)
    dt, zone = pc.struct_field(parts, "dt"), pc.struct_field(parts, "zone")
    slashed = "%d/%m/%Y %H:%M:%S" if loc.day_first else "%m/%d/%Y %H:%M:%S"
    iso = pc.fill_null(pc.match_substring_regex(dt, r"^\d{4}-"), False)
    local = pc.coalesce(
        pc.strptime(_only(dt, pc.invert(iso)), format=slashed, unit="s", error_is_null=True),
        pc.strptime(_only(dt, iso), format=_ISO, unit="s", error_is_null=True),
    )  # (seconds: their strftime has no fraction to compare)
    back = pc.if_else(iso, pc.strftime(local, format=_ISO), pc.strftime(local, format=slashed))
    as_written = pc.fill_null(pc.equal(back, dt), False)
    offset = pc.take(_ZONE_SECONDS, pc.index_in(pc.utf8_upper(zone), value_set=_ZONE_WORDS))  # unknown: null
    utc = pc.subtract(pc.cast(local, pa.int64()), offset)
    micros = pc.multiply(utc, 1_000_000)
    return pc.cast(pc.cast(_only(micros, as_written), pa.timestamp("us")), _UTC)
