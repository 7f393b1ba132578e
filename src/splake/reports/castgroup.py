"""Casting the columns of a small parsed chunk together: one kernel chain per declared type, not per column.

:func:`~splake.reports.casting.cast_strings` runs a dozen or more Arrow kernels per column, each with a
fixed cost of ~10-20 µs whatever its length: a small document of 30 rows and 50 typed columns spent
most of its typing time in kernel calls on arrays of 30 values. Every cast is value by value (a value's
result and validity depend on that value and the marketplace's locale only), so the columns of one type
can be concatenated, cast once and sliced back: the values are exactly those of casting each column
alone. The one cast that looks at a whole array — a money column is cast whole by Arrow when every value
is plain, else value by value (:func:`~splake.reports.money.cast_decimals`) — is kept exact: the money
columns of a chunk are cast together only when the whole cast takes them all, else one by one.

Large chunks (more than :data:`GROUP_MAX_ROWS` rows) are cast column by column as before: their kernels'
fixed cost is nothing next to their work, and a concatenation would copy them.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from splake.reports.casting import (
    _all_empty,
    _blank_to_null,
    arrow_type,
    cast_strings,
    cast_text,
)
from splake.reports.locales import DEFAULT_LOCALE, CastLocale
from splake.reports.money import DECIMAL
from splake.reports.types import ColumnType

GROUP_MAX_ROWS = 8192  # chunks up to this many rows cast their columns of one type together

Cast = tuple[pa.Array, pa.Array | None]  # (typed values, invalid mask; None when no value is invalid)


def _as_text(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())


def _one(arr: pa.Array, t: ColumnType, locale: CastLocale) -> Cast:
    typed, invalid = cast_strings(arr, t, locale)
    return typed, invalid if pc.any(invalid).as_py() else None


def cast_columns(
    columns: Sequence[pa.Array | pa.ChunkedArray],
    types: Sequence[ColumnType],
    locale: CastLocale = DEFAULT_LOCALE,
) -> list[Cast]:
    """:func:`~splake.reports.casting.cast_strings` of each column (all of one length) to its type, with
    the invalid mask None where the column has no invalid value."""
    out: list[Cast | None] = [None] * len(columns)
    groups: dict[ColumnType, list[tuple[int, pa.Array]]] = {}
    for i, (col, t) in enumerate(zip(columns, types, strict=True)):
        arr = _as_text(col)
        if t == "string":
            out[i] = (arr, None)
        elif _all_empty(arr):  # a column the document leaves blank: null, no kernel
            out[i] = (pa.nulls(len(arr), arrow_type(t)), None)
        elif len(arr) > GROUP_MAX_ROWS:
            out[i] = _one(arr, t, locale)
        else:
            groups.setdefault(t, []).append((i, arr))
    for t, members in groups.items():
        if len(members) == 1:
            i, arr = members[0]
            out[i] = _one(arr, t, locale)
            continue
        joined = pa.concat_arrays([arr for _, arr in members])
        if t == "decimal":
            try:  # what cast_decimals does first, for each column: they all take it, or each goes alone
                typed, invalid = pc.cast(_blank_to_null(joined), DECIMAL), None
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                for i, arr in members:
                    out[i] = _one(arr, t, locale)
                continue
        else:
            typed, invalid = cast_text(joined, t, locale)
            if not pc.any(invalid).as_py():
                invalid = None
        at = 0
        for i, arr in members:
            n = len(arr)
            out[i] = (typed.slice(at, n), None if invalid is None else _none_if_clean(invalid.slice(at, n)))
            at += n
    done = [c for c in out if c is not None]
    assert len(done) == len(columns)
    return done


def _none_if_clean(invalid: pa.Array) -> pa.Array | None:
    return invalid if pc.any(invalid).as_py() else None
