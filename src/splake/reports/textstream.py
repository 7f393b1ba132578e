"""A downloaded flat file's text as UTF-8, decoded while it is parsed (no temp file, no separate pass).

:func:`splake.reports.decode.decode_document` decodes a whole document into a UTF-8 temp file before the
parser reads it: a full sequential pass (a quarter of a 1 GB ingest's wall time) and a temp file as big as
the decoded text (more than a Lambda's default 512 MB of ``/tmp`` for a GB document). A
:class:`DecodedText` decodes the same way — the same charset plan, the same lenient cp1252 handling, the
same mojibake count — but chunk by chunk as the parser asks for bytes (gunzipped ahead in a thread; ISA-L
releases the GIL), so decoding overlaps parsing, casting and the lake write.

What a temp file decided before the parse starts is decided while streaming instead; when the answer
arrives too late for the rows already parsed, reading raises :class:`DecodeRestart` and the caller stages
the document again (its staged files are deleted on any error, so nothing of the first attempt remains):

- strict UTF-8 meets an invalid byte → the plan's next charset (the marketplace's fallback);
- a cp1252/cp932 label on bytes that turn out all valid UTF-8 with non-ASCII text → UTF-8 (decided at
  the end of the document, as the temp-file pass did);
- mojibake found (``suspect``) while the rows were parsed without the per-row garbled-text check → again
  with the check, so the garbled rows are quarantined, never landed.

Each restart happens at most once per cause; a document needs at most three passes, and a clean one
(nearly all) one.
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import io
import threading
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from splake.errors import BadDataError
from splake.logs import get_logger, log_event
from splake.reports import decode as dec
from splake.reports.textcheck import (
    count_suspect_utf8,
    may_hold_suspect,
    may_hold_suspect_utf8,
    single_byte_leads,
)
from splake.reports.textsource import HEAD_BYTES

log = get_logger(__name__)


class DecodeRestart(Exception):
    """Raised while reading: stage the document again with ``step`` (from the start) and/or ``check_text``."""

    def __init__(self, why: str, *, step: int | None = None, check_text: bool = False) -> None:
        super().__init__(why)
        self.why = why
        self.step = step
        self.check_text = check_text


@dataclass
class Outcome:
    """What one full read of the text found (complete once the reader reached the end)."""

    size: int = 0  # UTF-8 bytes produced
    suspect: int = 0  # mojibake signs
    replaced: int = 0  # undecodable sequences replaced with U+FFFD
    non_ascii: bool = False
    utf8_valid: bool = True  # every input byte so far was valid UTF-8
    finished: bool = False


@dataclass
class DecodedText:
    """The UTF-8 text of ``src`` (as received: gzip or not) decoded with ``plan[step]``, readable any
    number of times (:meth:`open`); ``check_text``: the parser already quarantines garbled rows, so
    mojibake found while reading is no reason to restart."""

    src: Path
    plan: list[tuple[str, str]]  # (codec, why) to try in order: decode.charset_plan
    step: int = 0
    check_text: bool = False
    gunzip: bool = False
    outcome: Outcome = field(default_factory=Outcome)
    notes: list[str] = field(default_factory=list)  # why the charset differs from the label
    # the last head() read: (step, limit, bytes) -- the parser and the drift check both read the head
    _head: tuple[int, int, bytes] | None = field(default=None, repr=False, compare=False)
    # a document that head() read to its end: (step, check_text, bytes, outcome) -- open() serves it again
    _whole: tuple[int, bool, bytes, Outcome] | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.src.name

    @property
    def valid_utf8(self) -> bool:
        """Always: strict UTF-8 is validated as it passes, everything else is encoded by Python's codec."""
        return True

    @property
    def codec(self) -> str:
        codec = self.plan[self.step][0]
        return "utf-8" if codec == "utf-8-lenient" else codec

    @property
    def charset_source(self) -> str:
        return self.plan[self.step][1]

    def open(self) -> BinaryIO:
        """A new binary stream of the text from its start; reading raises :class:`DecodeRestart` when the
        plan must change (:attr:`outcome` describes the read). A document :meth:`head` already read to its
        end without a restart, under the same charset step and text check, is served from that read (a
        small document: reading it again would decode the same bytes to the same outcome)."""
        whole = self._whole
        if whole is not None and whole[:2] == (self.step, self.check_text):
            self.outcome = dataclasses.replace(whole[3])
            return _Stream(piece for piece in (whole[2],) if piece)  # type: ignore[return-value]
        self.outcome = Outcome()
        return _Stream(self._chunks(self.outcome))  # type: ignore[return-value]

    def restart(self, signal: DecodeRestart) -> None:
        """Apply what a :class:`DecodeRestart` asks for (the next :meth:`open` reads accordingly)."""
        if signal.step is not None:
            if self.plan[self.step][1] == "content-type":  # the label was wrong: worth a warning
                self.notes.append(signal.why)
            self.step = signal.step
        if signal.check_text:
            self.check_text = True

    def head(self, limit: int = HEAD_BYTES) -> bytes:
        """The first ``limit`` bytes of the text (fewer for a shorter document). What reading them reveals
        is applied at once (nothing is parsed yet): bytes that are not UTF-8 switch to the fallback charset
        here, and a short document read to its end settles its charset and text check too. The same head
        again (same limit, same charset step: the decoded bytes depend on nothing else) is not read again."""
        if self._head is not None and self._head[:2] == (self.step, limit):
            return self._head[2]
        for _ in range(len(self.plan) + 2):
            try:
                with contextlib.closing(self.open()) as f:
                    data: bytes = f.read(limit)
                self._head = (self.step, limit, data)
                if len(data) < limit and self.outcome.finished:  # read to its end: the whole document
                    self._whole = (self.step, self.check_text, data, dataclasses.replace(self.outcome))
                return data
            except DecodeRestart as signal:
                self.restart(signal)
        raise AssertionError("DecodedText.head: the charset plan did not settle")  # pragma: no cover

    def _chunks(self, out: Outcome) -> Generator[bytes, None, None]:
        planned = self.plan[self.step][0]
        last = self.step == len(self.plan) - 1
        codec = "utf-8" if planned == "utf-8-lenient" else planned
        passthrough = planned == "utf-8"  # validated and passed on as received (no transcoding)
        strict = passthrough and not last
        decoder = codecs.getincrementaldecoder(codec)(errors="strict" if strict else "splake_lenient")
        utf8 = codecs.getincrementaldecoder("utf-8")(errors="strict")
        leads = None if passthrough else single_byte_leads(codec)  # cp1252: which bytes can start a sign
        first = True
        try:
            fin = dec.open_payload(self.src, self.gunzip)
        except OSError as exc:
            raise dec.corrupt(self.src, exc) from None
        with fin, contextlib.closing(dec.read_ahead(fin)) as pieces:
            try:
                for chunk in pieces:
                    final = not chunk
                    dec.reset_replaced()
                    if passthrough:
                        try:
                            text = decoder.decode(chunk, final=final)
                        except UnicodeDecodeError:
                            if strict:
                                raise DecodeRestart(
                                    f"not valid UTF-8: decoded as {self.plan[self.step + 1][0]}",
                                    step=self.step + 1,
                                ) from None
                            raise
                        if first and chunk.startswith(dec.UTF8_BOM):
                            chunk = chunk[len(dec.UTF8_BOM) :]
                            text = text.removeprefix("\ufeff")
                        data = chunk
                    else:
                        if out.utf8_valid:
                            try:
                                utf8.decode(chunk, final=final)
                            except UnicodeDecodeError:
                                out.utf8_valid = False
                        text = decoder.decode(chunk, final=final)
                        if first and text:
                            text = text.removeprefix("\ufeff")
                        data = text.encode("utf-8") if text else b""
                    replaced = dec.replaced_count()
                    out.replaced += replaced
                    if chunk:
                        first = first and not text
                        out.non_ascii = out.non_ascii or not chunk.isascii()
                    if data:  # (a character split between chunks is invalid UTF-8 to RE2: never a match)
                        if leads is not None and not replaced:  # (cp1252: a memchr per lead byte)
                            scan = may_hold_suspect(chunk, leads)
                        else:
                            scan = may_hold_suspect_utf8(data)
                        if scan:
                            out.suspect += count_suspect_utf8(data)
                        out.size += len(data)
                        yield data
                    if final:
                        break
            except UnicodeError as exc:  # e.g. "UTF-16 stream does not start with BOM"
                raise BadDataError(
                    f"report document cannot be decoded as {codec}: {exc}",
                    where=self.src.name,
                    hint="the Content-Type charset does not match the bytes; the raw document is kept in the "
                    "raw zone",
                ) from None
            except dec.GZIP_ERRORS as exc:  # a truncated or damaged gzip stream
                raise dec.corrupt(self.src, exc) from None
        out.finished = True
        utf8_next = not last and self.plan[self.step + 1][0] == "utf-8"
        if not passthrough and out.utf8_valid and out.non_ascii and utf8_next:
            raise DecodeRestart(
                f"the Content-Type says {codec} but the document is UTF-8: decoded as UTF-8",
                step=self.step + 1,
            )
        if out.suspect and not self.check_text:
            raise DecodeRestart("garbled text found: rows are checked one by one", check_text=True)


class _Stream(io.RawIOBase):
    """A binary stream over an iterator of byte chunks (what ``pyarrow.csv.open_csv`` reads). ``read(n)``
    returns exactly ``n`` bytes until the end, copied once from the chunks (no buffered reader between)."""

    def __init__(self, chunks: Generator[bytes, None, None]) -> None:
        self._chunks = chunks
        self._rest = memoryview(b"")
        self._lock = threading.Lock()  # a reader thread may still be reading when the stream is closed
        self._ended = False

    def readable(self) -> bool:
        return True

    def _next(self) -> bool:
        if self._ended:
            return False
        try:
            self._rest = memoryview(next(self._chunks))
        except StopIteration:
            self._ended = True
            return False
        return True

    def read(self, size: int | None = -1) -> bytes:
        with self._lock:
            if self.closed:
                raise ValueError("read of closed DecodedText stream")
            parts: list[memoryview] = []
            want = size if size is not None and size >= 0 else -1
            while want:
                if not self._rest and not self._next():
                    break
                take = len(self._rest) if want < 0 else min(want, len(self._rest))
                parts.append(self._rest[:take])
                self._rest = self._rest[take:]
                if want > 0:
                    want -= take
            if len(parts) == 1:
                return parts[0].tobytes()
            return b"".join(parts)

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        with self._lock:
            if not self._ended:
                self._ended = True
                self._chunks.close()  # stops the gunzip thread, closes the payload file
        super().close()


def decoded_text(
    src: Path, *, header_charset: str | None, marketplace_id: str | None, compression: str | None = None
) -> DecodedText:
    """The document ``src`` (as downloaded) as a :class:`DecodedText`: gzip by its magic bytes, the charset
    plan from the Content-Type charset, a byte-order mark and the marketplace's fallback."""
    label, fallback = dec.label_and_fallback(header_charset, marketplace_id)
    gunzip, plan = dec.payload_plan(src, label, fallback, compression)
    return DecodedText(src, plan, gunzip=gunzip)


def log_decoding(text: DecodedText) -> None:
    """Log what the last full read found: a contradicted label, replaced bytes, garbled text."""
    out = text.outcome
    for note in text.notes:
        log_event(log, "charset_label_contradicted", note=note, path=text.name)
    if out.replaced:
        log_event(log, "undecodable_bytes_replaced", codec=text.codec, count=out.replaced, path=text.name)
    if out.suspect:
        log_event(
            log,
            "garbled_text_found",
            codec=text.codec,
            source=text.charset_source,
            count=out.suspect,
            path=text.name,
        )
