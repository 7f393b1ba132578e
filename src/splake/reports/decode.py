"""Decoding a downloaded report document: gunzip (once), charset → UTF-8, BOM stripped — streamed.

Charset: from the download's Content-Type (Java-style names mapped to Python codecs; Shift_JIS and
windows-31j decode as cp932, ISO-8859-1 as its superset cp1252), else the marketplace's fallback. The
decoded text goes to a temp file in UTF-8 (never the whole document in memory).
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import os
import tempfile
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from splake.errors import BadDataError, ConfigError, RetryableError
from splake.logs import get_logger, log_event
from splake.spapi.marketplaces import marketplace

log = get_logger(__name__)

CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"

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


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def _open_payload(path: Path, gunzip: bool) -> BinaryIO:
    if gunzip:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def decode_to_utf8(
    src: Path,
    *,
    codec: str,
    compression: str | None = None,
    dest_dir: Path | None = None,
    charset_source: str = "content-type",
) -> DecodedDocument:
    """Stream ``src`` (as received) into a UTF-8 temp file. Gunzips when the bytes are gzip (magic
    check — a server that already removed the compression is never gunzipped twice). Raises
    CorruptDocumentError (retryable: download again) when the gzip stream is corrupt."""
    gunzip = _is_gzip(src)
    if compression and compression.upper() == "GZIP" and not gunzip:
        log_event(log, "gzip_already_decoded", path=src.name)
    fd, name = tempfile.mkstemp(prefix="splake-doc-", suffix=".txt", dir=dest_dir)
    out_path = Path(name)
    decoder = codecs.getincrementaldecoder(codec)(errors="splake_lenient")
    size = 0
    first = True
    _COUNTS.replaced = 0
    try:
        with os.fdopen(fd, "wb") as out, _open_payload(src, gunzip) as fin:
            while True:
                chunk = fin.read(CHUNK)
                final = not chunk
                text = decoder.decode(chunk, final=final)
                if first and text:
                    text = text.removeprefix("\ufeff")
                    first = False
                if text:
                    data = text.encode("utf-8")
                    out.write(data)
                    size += len(data)
                if final:
                    break
    except UnicodeError as exc:  # e.g. "UTF-16 stream does not start with BOM" (not a per-byte error)
        out_path.unlink(missing_ok=True)
        raise BadDataError(
            f"report document cannot be decoded as {codec}: {exc}",
            where=str(src.name),
            hint="the Content-Type charset does not match the bytes; the raw document is kept in the raw "
            "zone",
        ) from None
    except (OSError, EOFError, zlib.error) as exc:
        out_path.unlink(missing_ok=True)
        raise CorruptDocumentError(
            f"report document is not valid gzip: {exc}",
            where=str(src.name),
            hint="the download was corrupted; it is fetched again on the next attempt",
        ) from None
    except BaseException:
        out_path.unlink(missing_ok=True)
        raise
    replaced = int(getattr(_COUNTS, "replaced", 0))
    if replaced:
        log_event(log, "undecodable_bytes_replaced", codec=codec, count=replaced, path=src.name)
    return DecodedDocument(out_path, codec, charset_source, gunzip, size, replaced)


@contextmanager
def decoded(
    src: Path, *, header_charset: str | None, marketplace_id: str | None, compression: str | None = None
) -> Iterator[DecodedDocument]:
    """Context manager around :func:`decode_to_utf8` that removes the temp file afterwards."""
    codec, source = resolve_charset(header_charset, marketplace_id)
    doc = decode_to_utf8(
        src, codec=codec, compression=compression, dest_dir=src.parent, charset_source=source
    )
    try:
        yield doc
    finally:
        doc.path.unlink(missing_ok=True)
