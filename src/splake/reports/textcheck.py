# ruff: noqa: RUF002  (the garbled characters are the point of this module)
"""Garbled text (mojibake) detection: text decoded with the wrong charset must not land silently.

Two signs, declared here once as a pattern (RE2 for the decoder's document scan and the Arrow kernels
that find the affected rows; the same pattern in Python ``re`` to quote the fragment in a reason):

- U+FFFD, the replacement character: bytes the codec could not decode;
- UTF-8 bytes read as cp1252/latin-1: a two-byte lead shown as ``Â``/``Ã``/``Ä``/``Å`` followed by a
  continuation byte 0x80–0xBF shown as ``€``…``¿`` (``Ã©`` for ``é``), or a three-byte lead ``â``/``ã``/``ï``
  followed by two of them (``â€™`` for ``’``). Legitimate text practically never pairs these characters.
"""

from __future__ import annotations

import codecs
import functools
import importlib
import re
from array import array

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _cp1252_char(b: int) -> str:
    try:
        return bytes([b]).decode("cp1252")
    except UnicodeDecodeError:
        return bytes([b]).decode("latin-1")  # undefined in cp1252: decoded as the C1 control


# what cp1252 shows for the continuation bytes 0x80-0x9F
_CP1252_HIGH = "".join(_cp1252_char(b) for b in range(0x80, 0xA0))
_CONT = "\u00a0-\u00bf" + "".join(sorted(set(_CP1252_HIGH)))
_CONT_RE2 = "".join(f"\\x{{{ord(c):X}}}" for c in sorted(set(_CP1252_HIGH))) + "\\x{A0}-\\x{BF}"

# Leads: the cp1252 view of UTF-8 lead bytes of the scripts Amazon's marketplaces write. Two-byte: 0xC2/0xC3
# (Latin-1 symbols and letters: Â, Ã), 0xC4/0xC5 (Latin Extended-A: Polish, Czech, Turkish: Ä, Å).
# Three-byte: 0xE2 (punctuation, €: â), 0xE3 (Japanese: ã), 0xEF (BOM, U+FFFD, full-width forms: ï).
_LEAD2, _LEAD3 = "ÂÃÄÅ", "âãï"
MOJIBAKE = re.compile(f"\ufffd|[{_LEAD2}][{_CONT}]|[{_LEAD3}][{_CONT}]{{2}}")
MOJIBAKE_RE2 = (
    "\\x{FFFD}|["
    + "".join(f"\\x{{{ord(c):X}}}" for c in _LEAD2)
    + f"][{_CONT_RE2}]|["
    + "".join(f"\\x{{{ord(c):X}}}" for c in _LEAD3)
    + f"][{_CONT_RE2}]{{2}}"
)
_LEADS = ("\ufffd", *_LEAD2, *_LEAD3)


def count_suspect(text: str) -> int:
    """Number of mojibake signs in ``text`` (0 for clean text). A one-character search for the leads runs
    at memory speed; only text holding one is scanned by the pattern (RE2, ~10x Python's ``re``)."""
    if text.isascii() or not any(lead in text for lead in _LEADS):
        return 0
    return int(pc.count_substring_regex(pa.array([text], pa.large_string()), MOJIBAKE_RE2)[0].as_py())


def count_suspect_utf8(data: bytes) -> int:
    """:func:`count_suspect` of UTF-8 bytes holding whole characters, without decoding them: the pattern
    runs in Arrow's RE2 kernel over the bytes as they are (no copy, the GIL released; the decoder's scan
    of a 1 GB document took 3 s of the GIL as 8 searches per decoded chunk)."""
    if data.isascii():
        return 0
    offsets = pa.py_buffer(array("q", [0, len(data)]))
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)])
    return int(pc.count_substring_regex(text, MOJIBAKE_RE2)[0].as_py())


@functools.cache
def single_byte_leads(codec: str) -> tuple[bytes, ...] | None:
    """The bytes that decode to a mojibake lead (or U+FFFD) under ``codec`` when it is a single-byte charmap
    codec (cp1252, the ISO-8859 family: each byte is one character, whatever surrounds it); None for any
    other codec (UTF-8, cp932, UTF-16...).

    Text decoded with such a codec can only hold a mojibake sign where its bytes hold one of these (every
    sign starts with a lead; U+FFFD otherwise only comes from the error handler, which counts it): a chunk
    without any of them needs no pattern scan (a memchr per byte instead of RE2 over the decoded text:
    the scan was 2 of a 1 GB cp1252 ingest's 22 CPU seconds)."""
    try:
        name = codecs.lookup(codec).name
        module = importlib.import_module("encodings." + name.replace("-", "_"))
    except (LookupError, ImportError):
        return None
    table = getattr(module, "decoding_table", None)  # (gencodec charmap codecs: one byte, one character)
    if not isinstance(table, str) or len(table) != 256:
        return None
    return tuple(bytes([b]) for b in range(256) if table[b] in _LEADS)


def may_hold_suspect(raw: bytes, leads: tuple[bytes, ...]) -> bool:
    """False when ``raw`` (bytes of a :func:`single_byte_leads` codec) holds none of ``leads``: its decoded
    text then has no mojibake sign but those its decoder's error handler made (U+FFFD, counted there)."""
    return any(lead in raw for lead in leads)


# The UTF-8 of every sign's first character: U+FFFD is EF BF BD; the leads C3 followed by one of these.
_LEAD_AFTER_C3 = np.zeros(256, dtype=bool)
_LEAD_AFTER_C3[[c.encode()[1] for c in _LEAD2 + _LEAD3]] = True


def may_hold_suspect_utf8(data: bytes) -> bool:
    """False when UTF-8 ``data`` holds no mojibake sign (no sign's first character is in it): a numpy pass
    over the bytes, ~4x cheaper than the pattern scan, which then only runs on the chunks this says True of
    (in UTF-8 text: the few holding an Â/Ã/Ä/Å/â/ã/ï or U+FFFD; é, ü, €... are other bytes)."""
    a = np.frombuffer(data, np.uint8)
    c3 = np.flatnonzero(a[:-1] == 0xC3)
    if len(c3) and bool(_LEAD_AFTER_C3[a[c3 + 1]].any()):
        return True
    ef = np.flatnonzero(a[:-2] == 0xEF)
    return bool(len(ef) and ((a[ef + 1] == 0xBF) & (a[ef + 2] == 0xBD)).any())


def first_suspect(text: str) -> str | None:
    """The garbled fragment with a little context, for quarantine reasons."""
    m = MOJIBAKE.search(text)
    if m is None:
        return None
    return text[max(0, m.start() - 8) : m.end() + 8]
