"""A decoded document's text, as the flat-file parser reads it: from a file, or decoded while it is read.

:class:`TextSource` is what :func:`splake.reports.parse.iter_tsv` parses: readable from its start any number
of times, with a cheap look at its head (header line and first data lines) before parsing.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

# Bytes of a document read to judge its layout before parsing (header, trailing tabs of the first lines).
HEAD_BYTES = 1 << 20
MAX_HEAD_BYTES = 64 << 20  # a first line longer than this is no report header (bounded memory)


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
class Head:
    """The start of a flat file: its header line, its first data lines (for the layout) and whether any
    data follows the header."""

    header: list[str]
    lines: list[str]
    has_data: bool


def _head_bytes(source: TextSource) -> tuple[bytes, bool]:
    """The complete lines in the first :data:`HEAD_BYTES` of ``source`` (more when even the header line is
    longer), and whether that is the whole text."""
    limit = HEAD_BYTES
    while True:
        data = source.head(limit)
        whole = len(data) < limit
        if not whole:
            cut = max(data.rfind(b"\n"), data.rfind(b"\r"))
            if cut < 0 and limit < MAX_HEAD_BYTES:
                limit *= 4  # not even the header line yet
                continue
            data = data[: cut + 1]
        return data, whole


def _header(first: str) -> list[str]:
    return first.rstrip("\r\n").split("\t") if first.strip() else []


def read_head(text: Path | TextSource) -> Head:
    """The header and the data lines (complete lines only) in the first :data:`HEAD_BYTES` of ``text``
    (more when even the header line is longer)."""
    data, whole = _head_bytes(as_source(text))
    lines = io.StringIO(data.decode("utf-8", errors="replace"), newline="").readlines()
    if not lines:
        return Head([], [], False)
    has_data = len(lines) > 1 or not whole
    return Head(_header(lines[0]), [ln.rstrip("\r\n") for ln in lines[1:]], has_data)


def read_header(text: Path | TextSource) -> list[str]:
    """``read_head(text).header`` without decoding and splitting the rest of the head (a line ends at the
    first CR or LF, bytes that never occur inside a UTF-8 sequence)."""
    data, _ = _head_bytes(as_source(text))
    ends = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
    first = data[: min(ends) + 1] if ends else data
    return _header(first.decode("utf-8", errors="replace"))
