"""Decoding a downloaded report document: gunzip (once), charset → UTF-8, BOM stripped — streamed.

Which charset (:func:`decode_document`):

1. a byte-order mark wins (UTF-8, UTF-16);
2. no charset in the Content-Type: strict UTF-8 if every byte of the document is valid UTF-8, else the
   marketplace's fallback (cp1252 in the US/EU, cp932 in JP) — a UTF-8 document served without a label is
   never read as cp932/cp1252;
3. a charset label (Java-style names mapped to Python codecs; Shift_JIS and windows-31j decode as cp932,
   ISO-8859-1 as its superset cp1252) is used, unless the bytes contradict it: non-ASCII bytes that are
   all valid UTF-8 under a cp1252/cp932 label (text in those charsets practically never is) are read as
   UTF-8; a UTF-8 label on bytes that are not UTF-8 falls back to the marketplace's charset (logged as
   ``charset_label_contradicted``, noted on the result).

UTF-8 input is passed straight through (validated chunk by chunk, written as received: no transcoding).
Every decoded chunk is scanned for mojibake (U+FFFD, ``Ã©``-style sequences, see
:mod:`splake.reports.textcheck`); the count is returned so the parser quarantines the garbled rows instead
of landing them. The decoded text goes to a temp file in UTF-8 (never the whole document in memory).
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import os
import tempfile
import threading
import zlib
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from isal import igzip
from isal.igzip_lib import IsalError

from splake.errors import BadDataError, ConfigError, RetryableError
from splake.logs import get_logger, log_event
from splake.reports.prefetch import prefetch
from splake.reports.textcheck import count_suspect
from splake.spapi.marketplaces import marketplace

log = get_logger(__name__)

# Payload bytes decoded at a time. Small pieces keep glibc from hoarding MB-sized blocks across threads (the
# 1 GB ingest peaked at 585-616 MB RSS with 1 MB pieces, 541-550 MB with 256 KB) and each GIL hold short.
CHUNK = 256 << 10
READ_AHEAD = 8  # chunks read (gunzipped) ahead of the decoding
INLINE_CHUNKS = 4  # a payload of at most this many chunks (1 MB: small documents) is read without a thread
GZIP_MAGIC = b"\x1f\x8b"
# What reading a corrupt gzip payload raises: a truncated stream (EOFError), a bad header or CRC
# (gzip.BadGzipFile, an OSError), invalid deflate data (zlib.error; IsalError from ISA-L's gunzip).
GZIP_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    zlib.error,
    cast("type[Exception]", IsalError),  # (its stub declares an instance)
)

# Java / IANA charset names Amazon sends → the Python codec we decode with.
_CHARSET_ALIASES: dict[str, str] = {
    "cp1252": "cp1252",
    "windows-1252": "cp1252",
    "windows1252": "cp1252",
    "x-cp1252": "cp1252",
    "iso-8859-1": "cp1252",  # cp1252 is a superset for printable text (Amazon mislabels cp1252 as latin-1)
    "iso8859-1": "cp1252",
    "iso8859_1": "cp1252",
    "iso_8859_1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms932": "cp932",
    "windows-31j": "cp932",
    "cp932": "cp932",
    "ms_kanji": "cp932",
    "csshiftjis": "cp932",
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "x-utf-8": "utf-8",
    "euc-jp": "euc_jp",
    "utf-16": "utf-16",
    "utf-16le": "utf-16-le",
    "utf-16be": "utf-16-be",
}

_COUNTS = threading.local()  # per-thread count of replaced sequences (decoding runs in worker threads)


def _lenient(exc: UnicodeError) -> tuple[str, int]:
    """Error handler: bytes cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) decode as the C1
    control they are in latin-1; anything else becomes U+FFFD (counted and logged, never silent)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    if exc.encoding in ("cp1252",) and len(bad) == 1:
        return bytes(bad).decode("latin-1"), exc.end
    _COUNTS.replaced = getattr(_COUNTS, "replaced", 0) + 1
    return "\ufffd", exc.end


codecs.register_error("splake_lenient", _lenient)


def python_codec(name: str) -> str | None:
    """Map a Content-Type charset to a Python codec; None when unknown."""
    key = name.strip().strip('"').lower()
    if key in _CHARSET_ALIASES:
        return _CHARSET_ALIASES[key]
    try:
        return codecs.lookup(key).name
    except LookupError:
        return None


def resolve_charset(header_charset: str | None, marketplace_id: str | None) -> tuple[str, str]:
    """(codec, source) for a document: ``source`` is "content-type", "marketplace" or "default"."""
    if header_charset:
        codec = python_codec(header_charset)
        if codec:
            return codec, "content-type"
        log_event(log, "unknown_charset", charset=header_charset, marketplace_id=marketplace_id)
    if marketplace_id:
        with contextlib.suppress(ConfigError):  # unknown marketplace id: fall through to utf-8
            return marketplace(marketplace_id).fallback_charset, "marketplace"
    return "utf-8", "default"


class CorruptDocumentError(RetryableError):
    """The downloaded gzip stream is corrupt (a damaged transfer): download the document again."""

    code = "corrupt_document"


@dataclass(frozen=True)
class DecodedDocument:
    path: Path  # UTF-8 text, BOM stripped
    codec: str
    charset_source: str
    gunzipped: bool
    size: int  # decoded UTF-8 bytes
    replaced_chars: int  # undecodable sequences replaced with U+FFFD
    suspect: int = 0  # mojibake signs in the decoded text (U+FFFD, "Ã©"-style sequences)
    note: str | None = None  # why the charset differs from the label, when it does


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def open_payload(path: Path, gunzip: bool) -> BinaryIO:
    """The document's payload bytes: gunzipped by ISA-L (``isal.igzip``: the standard library's gzip
    stream and checks — CRC, length, multiple members — at a third of zlib's CPU: 2.2 -> 0.8 s for a GB)."""
    if gunzip:
        return cast(BinaryIO, igzip.open(path, "rb"))  # type: ignore[no-untyped-call]
    return open(path, "rb")


UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
WIDE = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")


class _NotUtf8(Exception):
    pass


def first_bytes(src: Path, gunzip: bool, n: int = 4) -> bytes:
    try:
        with open_payload(src, gunzip) as f:
            return f.read(n)
    except GZIP_ERRORS:
        return b""  # a corrupt stream is reported by the decoding pass


def read_ahead(fin: BinaryIO) -> Generator[bytes, None, None]:
    """The payload in CHUNK pieces, then ``b""``; past the first :data:`INLINE_CHUNKS` pieces, read (and
    gunzipped: ISA-L releases the GIL) by a prefetch thread while the caller decodes the previous pieces. (A
    small document is read inline: a reader thread per read cost it ~0.5 CPU-ms and overlapped nothing.
    The pieces and errors are the same either way.)"""
    for _ in range(INLINE_CHUNKS + 1):  # (+ the read that finds the end)
        piece = fin.read(CHUNK)
        if not piece:
            yield b""
            return
        yield piece
    pieces = prefetch(iter(lambda: fin.read(CHUNK), b""), READ_AHEAD, name="splake-gunzip")
    try:
        yield from pieces
        yield b""
    finally:
        pieces.close()  # the reader thread has stopped before the caller closes the file


def _pass_through(fin: BinaryIO, out: BinaryIO, *, strict: bool) -> tuple[int, int, bool]:
    """Copy UTF-8 as received (BOM dropped), validating it: (bytes written, mojibake signs, non-ASCII
    seen). ``strict``: raise :class:`_NotUtf8` at the first invalid byte (nothing useful is written)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    size = suspect = 0
    first, non_ascii = True, False
    with contextlib.closing(read_ahead(fin)) as chunks:  # reader stopped before fin closes
        for chunk in chunks:
            final = not chunk
            try:
                text = decoder.decode(chunk, final=final)
            except UnicodeDecodeError:
                if strict:
                    raise _NotUtf8 from None
                raise
            if first and chunk:
                if chunk.startswith(UTF8_BOM):
                    chunk = chunk[len(UTF8_BOM) :]
                    text = text.removeprefix("\ufeff")
                first = False
            if chunk:
                non_ascii = non_ascii or not chunk.isascii()
                suspect += count_suspect(text)
                out.write(chunk)
                size += len(chunk)
            if final:
                break
    return size, suspect, non_ascii


def _transcode(fin: BinaryIO, out: BinaryIO, codec: str) -> tuple[int, int, bool]:
    """Decode ``codec`` → UTF-8 (lenient: see :func:`_lenient`): (bytes written, mojibake signs, whether
    the input was entirely valid UTF-8 with non-ASCII bytes — i.e. the codec was probably wrong)."""
    decoder = codecs.getincrementaldecoder(codec)(errors="splake_lenient")
    utf8 = codecs.getincrementaldecoder("utf-8")(errors="strict")
    utf8_ok, non_ascii = True, False
    size = suspect = 0
    first = True
    with contextlib.closing(read_ahead(fin)) as chunks:  # reader stopped before fin closes
        for chunk in chunks:
            final = not chunk
            if utf8_ok:
                non_ascii = non_ascii or not chunk.isascii()
                try:
                    utf8.decode(chunk, final=final)
                except UnicodeDecodeError:
                    utf8_ok = False
            text = decoder.decode(chunk, final=final)
            if first and text:
                text = text.removeprefix("\ufeff")
                first = False
            if text:
                suspect += count_suspect(text)
                data = text.encode("utf-8")
                out.write(data)
                size += len(data)
            if final:
                break
    return size, suspect, utf8_ok and non_ascii


def charset_plan(label: str | None, fallback: str, head: bytes) -> list[tuple[str, str]]:
    """Pure: the (codec, why) pairs to try in order (see the module docstring). ``label``: the Python codec
    of the Content-Type charset (None when absent); ``fallback``: the marketplace's; ``head``: the first
    payload bytes (a byte-order mark decides). ``utf-8-lenient``: UTF-8 with U+FFFD for bad bytes."""
    if label in WIDE:
        return [(label, "content-type")]
    if head.startswith(UTF8_BOM):
        return [("utf-8", "bom"), ("utf-8-lenient", "bom")]
    if head[:2] in UTF16_BOMS:
        return [("utf-16", "bom")]
    if label is None or label == "utf-8":
        # not valid UTF-8 (whatever the label says): the marketplace's charset, else lenient UTF-8
        first = ("utf-8", "content-type" if label else "utf-8-valid")
        return [first, ("utf-8-lenient" if fallback == "utf-8" else fallback, "marketplace")]
    return [(label, "content-type"), ("utf-8", "bytes")]


def reset_replaced() -> None:
    """Start counting replaced sequences afresh (this thread's count: decoding runs in worker threads)."""
    _COUNTS.replaced = 0


def replaced_count() -> int:
    """Sequences replaced with U+FFFD in this thread since :func:`reset_replaced`."""
    return int(getattr(_COUNTS, "replaced", 0))


def corrupt(src: Path, exc: BaseException) -> CorruptDocumentError:
    return CorruptDocumentError(
        f"report document is not valid gzip: {exc}",
        where=str(src.name),
        hint="the download was corrupted; it is fetched again on the next attempt",
    )


def label_and_fallback(header_charset: str | None, marketplace_id: str | None) -> tuple[str | None, str]:
    """(the Python codec of the Content-Type charset or None, the marketplace's fallback codec); an
    unknown label is logged and ignored."""
    label = python_codec(header_charset) if header_charset else None
    if header_charset and label is None:
        log_event(log, "unknown_charset", charset=header_charset, marketplace_id=marketplace_id)
    fallback, _ = resolve_charset(None, marketplace_id)
    return label, fallback


def payload_plan(
    src: Path, label: str | None, fallback: str, compression: str | None
) -> tuple[bool, list[tuple[str, str]]]:
    """(whether ``src`` is gzip by its magic bytes, the charsets to try): what every decoder of a
    downloaded document starts from."""
    gunzip = is_gzip(src)
    if compression and compression.upper() == "GZIP" and not gunzip:
        log_event(log, "gzip_already_decoded", path=src.name)
    return gunzip, charset_plan(label, fallback, first_bytes(src, gunzip))


def decode_document(
    src: Path,
    *,
    label: str | None,
    fallback: str,
    compression: str | None = None,
    dest_dir: Path | None = None,
) -> DecodedDocument:
    """Stream ``src`` (as received) into a UTF-8 temp file, choosing the charset as the module docstring
    says. ``label``: the Python codec of the Content-Type charset (None when absent); ``fallback``: the
    marketplace's. Gunzips when the bytes are gzip (magic check — a server that already removed the
    compression is never gunzipped twice). Raises CorruptDocumentError (retryable: download again) when
    the gzip stream is corrupt, BadDataError when the bytes cannot be decoded at all."""
    gunzip, plan = payload_plan(src, label, fallback, compression)
    note: str | None = None
    fd, name = tempfile.mkstemp(prefix="splake-doc-", suffix=".txt", dir=dest_dir)
    out_path = Path(name)
    os.close(fd)
    _COUNTS.replaced = 0
    codec, source = plan[0]
    try:
        for i, step in enumerate(plan):
            codec, source = step
            last = i == len(plan) - 1
            _COUNTS.replaced = 0
            with open(out_path, "wb") as out, open_payload(src, gunzip) as fin:
                if codec == "utf-8":
                    try:
                        size, suspect, _ = _pass_through(fin, out, strict=not last)
                    except _NotUtf8:
                        if label == "utf-8":
                            note = (
                                f"the Content-Type says UTF-8 but the bytes are not: decoded as {plan[-1][0]}"
                            )
                            log_event(log, "charset_label_contradicted", label=label, path=src.name)
                        continue  # not UTF-8: the next candidate (fallback) from the start
                    break
                size, suspect, looks_utf8 = _transcode(
                    fin, out, "utf-8" if codec == "utf-8-lenient" else codec
                )
                if looks_utf8 and not last and plan[i + 1][0] == "utf-8":
                    note = f"the Content-Type says {codec} but the document is UTF-8: decoded as UTF-8"
                    log_event(log, "charset_label_contradicted", label=codec, path=src.name)
                    continue
                break
    except UnicodeError as exc:  # e.g. "UTF-16 stream does not start with BOM" (not a per-byte error)
        out_path.unlink(missing_ok=True)
        raise BadDataError(
            f"report document cannot be decoded as {codec}: {exc}",
            where=str(src.name),
            hint="the Content-Type charset does not match the bytes; the raw document is kept in the raw "
            "zone",
        ) from None
    except GZIP_ERRORS as exc:
        out_path.unlink(missing_ok=True)
        raise CorruptDocumentError(
            f"report document is not valid gzip: {exc}",
            where=str(src.name),
            hint="the download was corrupted; it is fetched again on the next attempt",
        ) from None
    except BaseException:
        out_path.unlink(missing_ok=True)
        raise
    codec = "utf-8" if codec == "utf-8-lenient" else codec
    replaced = int(getattr(_COUNTS, "replaced", 0))
    if replaced:
        log_event(log, "undecodable_bytes_replaced", codec=codec, count=replaced, path=src.name)
    if suspect:
        log_event(log, "garbled_text_found", codec=codec, source=source, count=suspect, path=src.name)
    return DecodedDocument(out_path, codec, source, gunzip, size, replaced, suspect, note)


def decode_to_utf8(
    src: Path,
    *,
    codec: str,
    compression: str | None = None,
    dest_dir: Path | None = None,
    charset_source: str = "content-type",
) -> DecodedDocument:
    """Decode with a known codec (a label): see :func:`decode_document`."""
    doc = decode_document(src, label=codec, fallback=codec, compression=compression, dest_dir=dest_dir)
    if doc.charset_source == "content-type" and charset_source != "content-type":
        return dataclasses.replace(doc, charset_source=charset_source)
    return doc


@contextmanager
def decoded(
    src: Path, *, header_charset: str | None, marketplace_id: str | None, compression: str | None = None
) -> Iterator[DecodedDocument]:
    """Context manager around :func:`decode_to_utf8` that removes the temp file afterwards."""
    label, fallback = label_and_fallback(header_charset, marketplace_id)
    doc = decode_document(src, label=label, fallback=fallback, compression=compression, dest_dir=src.parent)
    try:
        yield doc
    finally:
        doc.path.unlink(missing_ok=True)
