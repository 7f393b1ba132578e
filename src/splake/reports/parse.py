"""Parsing decoded (UTF-8) report documents into typed arrow tables + quarantined rows.

- TSV flat files: ``pyarrow.csv.open_csv`` (tab, no quoting — Amazon flat files are not quoted), every
  column read as a string, in blocks (bounded memory), then cast per declared type. Rows with the wrong
  number of fields or an unparseable value go to quarantine with the reason.
- JSON reports: :mod:`splake.reports.parse_json` (typing of rows for both: :mod:`splake.reports.typed`;
  the text a flat file is read from: :mod:`splake.reports.textsource`).

Header names become snake_case; undeclared columns are kept as strings (schema evolution); declared
columns absent from the document are null.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from splake.errors import BadDataError
from splake.lake.tables import BadRow
from splake.reports.locales import DEFAULT_LOCALE, CastLocale
from splake.reports.parse_json import iter_json
from splake.reports.textsource import TextSource, as_source, longest_line, read_head
from splake.reports.typed import LineOf, ParsedChunk, type_strings
from splake.reports.types import ReportTypeSpec, snake_case

# Text bytes per parse block (~13k order rows). Every block pays fixed costs (a few hundred Arrow kernel
# calls for casts and row keys, one DuckDB query, a probe of every row-key fingerprint level). Measured on
# the 1 GB orders file (bench ingest --kinds splake): 2 MB 33.2 CPU-s / 491 MB peak RSS, 3 MB 31.4 CPU-s /
# 556 MB, 4 MB 29.2 CPU-s / 604 MB (over the 600 MB budget): the block size trades CPU for peak RSS.
BLOCK_SIZE = 3 << 20


# A line longer than the parse block fails the block reader; the document is parsed again with a block
# big enough for its longest line, up to this size (bounded memory).
MAX_BLOCK_SIZE = 1 << 30


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
