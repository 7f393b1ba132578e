"""One entry point for every report format: TSV (``parse.iter_tsv``), JSON and XML (``parse_stream``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from splake.reports.locales import DEFAULT_LOCALE, CastLocale
from splake.reports.parse import BLOCK_SIZE, iter_tsv
from splake.reports.parse_stream import iter_json_stream, iter_xml
from splake.reports.textsource import TextSource
from splake.reports.typed import ParsedChunk
from splake.reports.types import ReportTypeSpec


def iter_document(
    path: Path | TextSource,
    spec: ReportTypeSpec,
    *,
    window_start: datetime | None = None,
    block_size: int = BLOCK_SIZE,
    locale: CastLocale = DEFAULT_LOCALE,
    check_text: bool = False,
    threads: bool = False,
) -> Iterator[ParsedChunk]:
    """Parsed chunks of a decoded (UTF-8) document, streamed whatever its format and size. ``threads``:
    see :func:`~splake.reports.parse.iter_tsv` (flat files only, which may be a :class:`TextSource`)."""
    if spec.format == "tsv":
        yield from iter_tsv(
            path, spec, block_size=block_size, locale=locale, check_text=check_text, threads=threads
        )
    elif not isinstance(path, Path):
        raise TypeError(f"{spec.name} ({spec.format}) documents are read from a decoded file")
    elif spec.format == "json":
        yield from iter_json_stream(
            path, spec, window_start=window_start, locale=locale, check_text=check_text
        )
    else:
        yield from iter_xml(path, spec, locale=locale, check_text=check_text)
