"""Typing parsed rows: a table of strings (snake_case columns) → the declared types, with the rows whose
values cannot be read (or repeat the header, or hold garbled text) set aside for quarantine."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from splake.lake.tables import BadRow, TableSpec
from splake.reports.castgroup import cast_columns
from splake.reports.casting import arrow_type, unknown_zone
from splake.reports.locales import DEFAULT_LOCALE, CastLocale
from splake.reports.migrate import created_properties
from splake.reports.textcheck import MOJIBAKE_RE2, first_suspect
from splake.reports.types import ReportTypeSpec

LineOf: TypeAlias = Callable[[int], int]  # a row's index in a parsed block -> its line in the file


@dataclass(frozen=True)
class ParsedChunk:
    table: pa.Table  # business columns: declared (typed, declared order) then undeclared (strings)
    bad: list[BadRow]


def table_spec(spec: ReportTypeSpec) -> TableSpec:
    """The lake's TableSpec for a report type (declared columns and types)."""
    fields = [pa.field("section", pa.string())] if spec.json_sections else []
    fields += [pa.field(c.column, arrow_type(c.type)) for c in spec.columns]
    return TableSpec(
        name=spec.table,
        schema=pa.schema(fields),
        key_columns=spec.key_columns,
        replace=spec.replace,
        window_column=spec.window_column,
        description=spec.description,
        properties=created_properties(spec),
    )


def _reason(spec: ReportTypeSpec, col: str, value: Any) -> str:
    t = spec.column(col).type
    if t in ("timestamp", "date") and isinstance(value, str):
        word = unknown_zone(value)
        if word is not None:
            return (
                f"column {col!r}: unknown time zone word {word!r} in {value!r} "
                "(declare it in splake.reports.locales.ZONE_OFFSETS)"
            )
    return f"column {col!r}: cannot parse {value!r} as {t}"


def _header_repeats(strings: pa.Table, header: Sequence[str]) -> pa.Array | None:
    """Mask of rows that repeat the header line (cheap: the first column is compared first)."""
    if not header or strings.num_columns != len(header) or strings.num_rows == 0:
        return None
    mask = pc.equal(strings.column(0), header[0])
    if not pc.any(mask).as_py():
        return None
    for i in range(1, len(header)):
        mask = pc.and_(mask, pc.equal(strings.column(i), header[i]))
    mask = pc.fill_null(mask, False)
    return mask.combine_chunks() if isinstance(mask, pa.ChunkedArray) else mask


def type_strings(
    spec: ReportTypeSpec,
    strings: pa.Table,
    first_line: int,
    *,
    fill: Mapping[str, Any] | None = None,
    locale: CastLocale = DEFAULT_LOCALE,
    header: Sequence[str] = (),
    check_text: bool = False,
    line_of: LineOf | None = None,
) -> ParsedChunk:
    """Cast a table of string columns (snake_case names) to the declared types.

    Rows with an invalid value are removed and returned as :class:`BadRow` (the raw line rebuilt from the
    string values, tab-separated). ``first_line`` numbers the rows for the quarantine (1-based lines);
    ``line_of``, when given, numbers each row instead (rows the parser skipped shift the numbering).
    ``fill`` gives values for declared columns missing from the document (e.g. the window start).
    ``locale``: how the marketplace writes ambiguous dates and numbers. ``header``: the raw header line
    (rows repeating it are quarantined). ``check_text``: the decoder saw garbled text, so rows whose text
    holds mojibake are quarantined instead of landing garbled."""
    n = strings.num_rows
    names = strings.schema.names
    columns: dict[str, pa.Array] = {}
    invalid_any = pa.repeat(pa.scalar(False), n)
    reasons: list[tuple[str, pa.Array]] = []
    garbled: list[tuple[str, pa.Array]] = []
    repeats = _header_repeats(strings, header)
    if repeats is not None:
        invalid_any = pc.or_(invalid_any, repeats)
    if spec.json_sections:
        sec = strings.column("section").combine_chunks() if "section" in names else pa.nulls(n, pa.string())
        columns["section"] = sec
    present = [c for c in spec.columns if c.column in names]
    casts = dict(
        zip(
            [c.column for c in present],
            cast_columns([strings.column(c.column) for c in present], [c.type for c in present], locale),
            strict=True,
        )
    )
    for c in spec.columns:
        target = arrow_type(c.type)
        if c.column in casts:
            typed, invalid = casts[c.column]
            if fill and c.column in fill:
                typed = pc.fill_null(typed, pa.scalar(fill[c.column], target))
            columns[c.column] = typed
            if invalid is not None:
                invalid_any = pc.or_(invalid_any, invalid)
                reasons.append((c.column, invalid))
        elif fill and c.column in fill:
            columns[c.column] = pa.array([fill[c.column]] * n, target)
        else:
            columns[c.column] = pa.nulls(n, target)
    declared = set(columns)
    for name in names:
        if name not in declared:
            col = strings.column(name).combine_chunks()
            columns[name] = col if pa.types.is_string(col.type) else pc.cast(col, pa.string())
    if check_text:
        for name in names:
            col = columns.get(name)
            if col is None or not pa.types.is_string(col.type):
                continue
            bad_text = pc.fill_null(pc.match_substring_regex(col, MOJIBAKE_RE2), False)
            if pc.any(bad_text).as_py():
                invalid_any = pc.or_(invalid_any, bad_text)
                garbled.append((name, bad_text))
    table = pa.table(columns)
    bad: list[BadRow] = []
    if reasons or garbled or repeats is not None:
        idx = pc.indices_nonzero(invalid_any).to_pylist()
        raw_rows = strings.take(pa.array(idx, pa.int64())).to_pylist()
        for pos, i in enumerate(idx):
            raw = raw_rows[pos]
            if repeats is not None and repeats[i].as_py():
                why = ["the header line repeated as a data row"]
            else:
                why = [_reason(spec, col, raw.get(col)) for col, mask in reasons if mask[i].as_py()]
                why += [
                    f"column {col!r}: garbled text {first_suspect(str(raw.get(col)))!r} (mojibake: the "
                    "document was decoded with the wrong charset)"
                    for col, mask in garbled
                    if mask[i].as_py()
                ]
            raw_line = "\t".join("" if v is None else str(v) for v in raw.values())
            number = line_of(i) if line_of is not None else first_line + i
            bad.append(BadRow(line_number=number, raw_line=raw_line, reason="; ".join(why)))
        table = table.filter(pc.invert(invalid_any))
    return ParsedChunk(table, bad)
