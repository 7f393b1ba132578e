"""Parsing decoded (UTF-8) report documents into typed arrow tables + quarantined rows.

- TSV flat files: ``pyarrow.csv.open_csv`` (tab, no quoting — Amazon flat files are not quoted), every
  column read as a string, in blocks (bounded memory), then cast per declared type. Rows with the wrong
  number of fields or an unparseable value go to quarantine with the reason.
- JSON reports: each declared section (array of records) becomes rows with a ``section`` column; nested
  objects are flattened to snake_case paths (``orderedProductSales.amount`` →
  ``ordered_product_sales_amount``).

Header names become snake_case; undeclared columns are kept as strings (schema evolution); declared
columns absent from the document are null.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from splake.errors import BadDataError, ReportFailedError
from splake.lake.tables import BadRow, TableSpec
from splake.reports.casting import arrow_type, cast_strings, unknown_zone
from splake.reports.locales import DEFAULT_LOCALE, CastLocale
from splake.reports.planner import iso
from splake.reports.textcheck import MOJIBAKE_RE2, first_suspect
from splake.reports.types import ReportTypeSpec, snake_case

# Text bytes per parse block (~13k order rows). Every block pays fixed costs (a few hundred Arrow kernel
# calls for casts and row keys, one DuckDB query, a probe of every row-key fingerprint level). Measured on
# the 1 GB orders file (bench ingest --kinds splake): 2 MB 33.2 CPU-s / 491 MB peak RSS, 3 MB 31.4 CPU-s /
# 556 MB, 4 MB 29.2 CPU-s / 604 MB (over the 600 MB budget): the block size trades CPU for peak RSS.
BLOCK_SIZE = 3 << 20


# A line longer than the parse block fails the block reader; the document is parsed again with a block
# big enough for its longest line, up to this size (bounded memory).
MAX_BLOCK_SIZE = 1 << 30

# Bytes of a document read to judge its layout before parsing (header, trailing tabs of the first lines).
HEAD_BYTES = 1 << 20


class SerialParseNeededError(BadDataError):
    """The threaded reader met a row with the wrong number of fields: it cannot tell that row's line number,
    so the document is parsed again by the serial reader (quarantined rows always name their line)."""

    code = "serial_parse_needed"


class RowTooLongError(BadDataError):
    """A line is longer than the parser's block size: parse the document again with ``needed_block_size``."""

    code = "row_too_long"

    def __init__(self, message: str, *, needed_block_size: int, where: str | None = None) -> None:
        self.needed_block_size = needed_block_size
        super().__init__(message, where=where, hint="parsed again with a larger block")


class TextSource(Protocol):
    """A document's UTF-8 text, readable from its start any number of times: a decoded file
    (:class:`FileText`) or a document decoded while it is read
    (:class:`~splake.reports.textstream.DecodedText`)."""

    @property
    def name(self) -> str: ...

    @property
    def check_text(self) -> bool:
        """Garbled text was seen: rows must be checked one by one (known once the head was read)."""
        ...

    @property
    def valid_utf8(self) -> bool:
        """Every byte read is valid UTF-8 (its decoder made sure): the parser need not check again."""
        ...

    def open(self) -> BinaryIO: ...

    def head(self, limit: int = ...) -> bytes: ...


@dataclass(frozen=True)
class FileText:
    """A UTF-8 text file (BOM already stripped) as a :class:`TextSource`."""

    path: Path
    check_text: bool = False
    valid_utf8: bool = False  # a file is checked by the parser

    @property
    def name(self) -> str:
        return self.path.name

    def open(self) -> BinaryIO:
        return open(self.path, "rb")

    def head(self, limit: int = HEAD_BYTES) -> bytes:
        with open(self.path, "rb") as f:
            return f.read(limit)


def as_source(text: Path | TextSource) -> TextSource:
    return FileText(text) if isinstance(text, Path) else text


def longest_line(text: Path | TextSource, chunk: int = 8 << 20) -> int:
    """Bytes in the longest line of ``text`` (streamed; used only when a line outgrew the parse block)."""
    longest = current = 0
    with contextlib.closing(as_source(text).open()) as f:
        while data := f.read(chunk):
            parts = data.split(b"\n")
            if len(parts) == 1:
                current += len(data)
                continue
            longest = max(longest, current + len(parts[0]), *(len(p) for p in parts[1:-1]))
            current = len(parts[-1])
    return max(longest, current)


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
    )


def header_names(raw: Sequence[str]) -> list[str]:
    """snake_case header names, de-duplicated (``name``, ``name_2``, …)."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for h in raw:
        name = snake_case(h)
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


@dataclass(frozen=True)
class Head:
    """The start of a flat file: its header line, its first data lines (for the layout) and whether any
    data follows the header."""

    header: list[str]
    lines: list[str]
    has_data: bool


def read_head(text: Path | TextSource) -> Head:
    """The header and the data lines (complete lines only) in the first :data:`HEAD_BYTES` of ``text``
    (more when even the header line is longer)."""
    source = as_source(text)
    limit = HEAD_BYTES
    while True:
        data = source.head(limit)
        whole = len(data) < limit
        if not whole:
            cut = max(data.rfind(b"\n"), data.rfind(b"\r"))
            if cut < 0 and limit < MAX_BLOCK_SIZE:
                limit *= 4  # not even the header line yet
                continue
            data = data[: cut + 1]
        break
    lines = io.StringIO(data.decode("utf-8", errors="replace"), newline="").readlines()
    if not lines:
        return Head([], [], False)
    first = lines[0]
    header = first.rstrip("\r\n").split("\t") if first.strip() else []
    has_data = len(lines) > 1 or not whole
    return Head(header, [ln.rstrip("\r\n") for ln in lines[1:]], has_data)


def foreign_header(spec: ReportTypeSpec, names: Sequence[str]) -> str:
    """Pure: why a flat file's header (snake_case ``names``) is not one of ``spec``'s documents, or "".

    A document whose header names none of the declared key columns (none of the declared columns when
    the type has no key) is an error page, another report or an unknown layout: landing it would empty
    a snapshot or write rows without keys."""
    if not spec.columns:
        return ""
    present = set(names)
    wanted = [k for k in spec.key_columns if k != "section"] or [c.column for c in spec.columns]
    if any(k in present for k in wanted):
        return ""
    if not names or names == [""]:
        return f"the document is empty (no header line): not a {spec.name} document"
    return (
        f"the header names none of the columns {', '.join(wanted[:5])} that a {spec.name} document has "
        f"(it starts {', '.join(repr(n) for n in names[:3])}): an error page, another report or an "
        "undeclared layout"
    )


TRAILING = "__trailing_field__"


LAYOUT_SAMPLE_LINES = 100  # data lines looked at to decide whether rows carry a trailing tab


def _data_field_counts(lines: Sequence[str], limit: int = LAYOUT_SAMPLE_LINES) -> Counter[tuple[int, bool]]:
    """(fields, last field empty) of the first ``limit`` non-blank data lines."""
    counts: Counter[tuple[int, bool]] = Counter()
    for text in lines:
        if text.strip():
            fields = text.split("\t")
            counts[(len(fields), not fields[-1].strip())] += 1
            if sum(counts.values()) >= limit:
                break
    return counts


def _trailing_layout(header: list[str], counts: Counter[tuple[int, bool]]) -> tuple[list[str], bool]:
    """Pure: a trailing tab on the header line or on the data lines but not both (seen in flat files):
    (the header without its empty last name, whether the rows carry one more — empty — last field).
    Decided by the majority of the sampled data lines, and only a line whose extra last field is EMPTY
    counts as carrying a trailing tab: one malformed line (say the first) with a value too many must be
    quarantined alone, not make every well-formed row look ragged."""
    n = len(header)
    if header and n > 1 and not header[-1].strip():
        with_tab = counts[(n, True)]
        without = sum(c for (fields, _), c in counts.items() if fields == n - 1)
        return header[:-1], with_tab > without  # rows with the same trailing tab, or without it
    if header and counts[(n + 1, True)] > sum(c for (fields, _), c in counts.items() if fields == n):
        return header, True
    return header, False


LineOf: TypeAlias = Callable[[int], int]  # a row's index in a parsed block -> its line in the file


def _drop_trailing(strings: pa.Table, line_of: LineOf, bad: list[BadRow]) -> tuple[pa.Table, LineOf]:
    """Drop the empty trailing field; a row with a value there is quarantined (nothing is thrown away).
    Returns the rows kept and how to number them."""
    col = strings.column(TRAILING)
    filled = pc.fill_null(pc.not_equal(col, ""), False)
    if pc.any(filled).as_py():
        rows = strings.filter(filled).to_pylist()
        idx = pc.indices_nonzero(filled).to_pylist()
        for i, row in zip(idx, rows, strict=True):
            bad.append(
                BadRow(
                    line_of(int(i)),
                    "\t".join(str(v) for v in row.values()),
                    "a value after the last column of the header",
                )
            )
        keep = pc.invert(filled)
        kept = pc.indices_nonzero(keep).to_pylist()
        strings = strings.filter(keep)
        outer = line_of
        line_of = lambda i: outer(kept[i])  # noqa: E731
    return strings.drop_columns([TRAILING]), line_of


def line_numbering(accepted_before: int, skipped: Sequence[int], first_data_line: int = 2) -> LineOf:
    """Pure: numbers the rows of a parsed block whose first row is the document's ``accepted_before``-th
    accepted row (0-based), given the lines the parser skipped (``skipped``: sorted, 1-based; ragged
    rows): accepted row k sits at ``first_data_line + k + #{skipped lines before it}``."""
    # skipped line j has (skipped[j] - first_data_line - j) accepted rows before it
    before = [line - first_data_line - j for j, line in enumerate(skipped)]

    def line_of(i: int) -> int:
        k = accepted_before + i
        return first_data_line + k + bisect.bisect_right(before, k)

    return line_of


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
    for c in spec.columns:
        target = arrow_type(c.type)
        if c.column in names:
            typed, invalid = cast_strings(strings.column(c.column), c.type, locale)
            if fill and c.column in fill:
                typed = pc.fill_null(typed, pa.scalar(fill[c.column], target))
            columns[c.column] = typed
            if pc.any(invalid).as_py():
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


def iter_tsv(
    text: Path | TextSource,
    spec: ReportTypeSpec,
    *,
    block_size: int = BLOCK_SIZE,
    locale: CastLocale = DEFAULT_LOCALE,
    check_text: bool = False,
    threads: bool = False,
) -> Iterator[ParsedChunk]:
    """Stream a UTF-8 tab-separated flat file in blocks. ``threads``: Arrow's reader parses blocks ahead in
    its threads (overlapping the casts and the lake write); it cannot number a ragged row, so meeting one
    raises :class:`SerialParseNeededError` (the caller parses the document again without threads)."""
    source = as_source(text)
    head = read_head(source)
    check_text = check_text or source.check_text  # (reading the head may have found garbled text)
    raw_header, trailing = _trailing_layout(head.header, _data_field_counts(head.lines))
    if not raw_header and spec.replace == "key":
        return  # an empty document adds nothing to a keyed table (it replaces nothing either)
    english = spec.english_header(raw_header)
    names = header_names(english)
    # a declared column with its own curated name (not the header's snake_case) takes that name
    renamed = {c.source: c.column for c in spec.columns if c.name}
    if renamed:
        names = [renamed.get(h.strip(), n) for h, n in zip(english, names, strict=True)]
    foreign = foreign_header(spec, names)
    if foreign:  # not this report: quarantine the header line so the document is held, never landed
        empty = pa.table({n: pa.array([], pa.string()) for n in names})
        raw = "\t".join(raw_header)
        yield ParsedChunk(type_strings(spec, empty, 2).table, [BadRow(1, raw[:2000], foreign)])
        return
    if not head.has_data:
        return  # the declared header and no rows: an empty report (a snapshot of nothing)
    if trailing:
        names = [*names, TRAILING]
    ragged: list[BadRow] = []
    skipped: list[int] = []  # line numbers of the ragged rows skipped so far (for numbering the others)
    unnumbered = [False]

    def on_invalid(row: Any) -> str:
        if row.number is None and threads:
            unnumbered[0] = True
            return "error"
        if row.number and row.number > 0:
            bisect.insort(skipped, int(row.number))
        ragged.append(
            BadRow(
                line_number=int(row.number) if row.number and row.number > 0 else -1,
                raw_line=str(row.text),
                reason=f"expected {row.expected_columns} tab-separated fields, got {row.actual_columns}",
            )
        )
        return "skip"

    line = 2  # first data line (after the header)
    accepted = 0  # rows the parser returned so far
    stream = source.open()
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1, block_size=block_size, use_threads=threads
            ),
            parse_options=pacsv.ParseOptions(
                delimiter="\t",
                quote_char=False,
                double_quote=False,
                escape_char=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=not source.valid_utf8,  # (validated by its decoder: not again per value)
            ),
        )
        for batch in reader:
            strings = pa.Table.from_batches([batch])
            line_of = line_numbering(accepted, list(skipped))
            accepted += batch.num_rows
            if trailing:
                strings, line_of = _drop_trailing(strings, line_of, ragged)
            chunk = type_strings(
                spec,
                strings,
                line,
                locale=locale,
                header=raw_header,
                check_text=check_text,
                line_of=line_of,
            )
            line += batch.num_rows
            bad = chunk.bad
            if ragged:
                bad = [*ragged, *bad]
                ragged.clear()
            yield ParsedChunk(chunk.table, bad)
    except pa.ArrowInvalid as exc:
        if unnumbered[0]:
            raise SerialParseNeededError(
                "a row with the wrong number of fields: parsed again serially to number it", where=source.name
            ) from None
        if "straddl" in str(exc) or "larger than block size" in str(exc):
            stream.close()
            needed = 1 << (longest_line(source) + 2).bit_length()
            if block_size < needed <= MAX_BLOCK_SIZE:
                raise RowTooLongError(
                    f"a line is longer than the {block_size}-byte parse block", needed_block_size=needed
                ) from None
        raise BadDataError(
            f"flat file could not be parsed: {exc}",
            where=f"{spec.name} ({source.name})",
            hint="the raw document is kept in the raw zone; report this file if it looks valid",
        ) from None
    finally:
        stream.close()
    if ragged:
        yield ParsedChunk(
            type_strings(spec, pa.table({n: pa.array([], pa.string()) for n in names}), line).table, ragged
        )


def _flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in record.items():
        path = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, Mapping):
            out.update(_flatten(v, path))
        else:
            out[path] = v
    return out


def _as_text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list | dict):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    return str(v)


def fill_column(
    current: list[str | None] | None, source: str, flat: list[dict[str, Any]], doc: Mapping[str, Any]
) -> list[str | None]:
    """A column's values with blanks taken from ``source``: a record path, or a document path when it
    starts with ``reportSpecification.`` (e.g. the period a by-ASIN section aggregates)."""
    if source.startswith("reportSpecification."):
        spec_part = doc.get("reportSpecification")
        value = spec_part.get(source.split(".", 1)[1]) if isinstance(spec_part, Mapping) else None
        values = [_as_text(value)] * len(flat)
    else:
        values = [_as_text(row.get(source)) for row in flat]
    if current is None:
        return values
    return [c if c not in (None, "") else v for c, v in zip(current, values, strict=True)]


def iter_json(
    path: Path,
    spec: ReportTypeSpec,
    *,
    window_start: datetime | None = None,
    locale: CastLocale = DEFAULT_LOCALE,
    check_text: bool = False,
) -> Iterator[ParsedChunk]:
    """Rows of each declared section of a JSON report (the document is loaded whole: JSON reports are
    aggregated analytics, far smaller than flat files)."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except json.JSONDecodeError as exc:
        raise BadDataError(
            f"JSON report is not valid JSON: {exc}",
            where=f"{spec.name} ({path.name})",
            hint="the raw document is kept in the raw zone for inspection",
        ) from None
    if not isinstance(doc, dict):
        raise BadDataError(f"JSON report is a {type(doc).__name__}, expected an object", where=spec.name)
    if "errorDetails" in doc:
        raise ReportFailedError(
            f"Amazon returned an error document: {doc['errorDetails']}",
            where=spec.name,
            hint="check reportOptions (vendor reports need reportPeriod, distributorView, sellingProgram)",
        )
    spec_section = doc.get("reportSpecification") or {}
    start_text = spec_section.get("dataStartTime") or (iso(window_start) if window_start else None)
    fill: dict[str, Any] = {}
    if spec.window_column and start_text:
        typed, invalid = cast_strings(pa.array([str(start_text)]), spec.column(spec.window_column).type)
        if not invalid[0].as_py() and typed[0].is_valid:
            fill[spec.window_column] = typed[0].as_py()
    line = 1
    for section in spec.json_sections:
        records = doc.get(section.path) or []
        if not isinstance(records, list):
            raise BadDataError(f"section {section.path!r} is not an array", where=spec.name)
        if not records:
            continue
        flat = [spec.dealias(_flatten(r)) if isinstance(r, Mapping) else {"value": r} for r in records]
        keys: dict[str, str] = {}
        for row in flat:
            for k in row:
                if k not in keys:
                    keys[k] = snake_case(k)
        data: dict[str, list[str | None]] = {"section": [section.name] * len(flat)}
        for k, name in keys.items():
            data[name] = [_as_text(row.get(k)) for row in flat]
        for column, source in section.fill:
            data[column] = fill_column(data.get(column), source, flat, doc)
        strings = pa.table({k: pa.array(v, pa.string()) for k, v in data.items()})
        chunk = type_strings(spec, strings, line, fill=fill, locale=locale, check_text=check_text)
        line += len(flat)
        yield chunk


def iter_document(
    path: Path,
    spec: ReportTypeSpec,
    *,
    window_start: datetime | None = None,
    block_size: int = BLOCK_SIZE,
    locale: CastLocale = DEFAULT_LOCALE,
    check_text: bool = False,
    threads: bool = False,
) -> Iterator[ParsedChunk]:
    """Parsed chunks of a decoded document. ``locale``: the marketplace's date/number conventions;
    ``check_text``: quarantine rows with garbled text (set when the decoder found mojibake)."""
    if spec.format == "tsv":
        yield from iter_tsv(
            path, spec, block_size=block_size, locale=locale, check_text=check_text, threads=threads
        )
    elif spec.format == "json":
        yield from iter_json(path, spec, window_start=window_start, locale=locale, check_text=check_text)
    else:
        raise BadDataError(
            f"report format {spec.format!r} is not supported yet",
            where=spec.name,
            hint="use a TSV or JSON report type",
        )
