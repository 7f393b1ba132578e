# ruff: noqa: RUF002  (the garbled characters are the point of this module)
"""Garbled text (mojibake) detection: text decoded with the wrong charset must not land silently.

Two signs, both declared here once (Python ``re`` for the decoder's document-level scan, RE2 for the
Arrow kernels that find the affected rows):

- U+FFFD, the replacement character: bytes the codec could not decode;
- UTF-8 bytes read as cp1252/latin-1: a lead byte 0xC2–0xDF shown as ``Â``…``ß`` followed by a
  continuation byte 0x80–0xBF shown as ``€``…``¿`` (``Ã©`` for ``é``), or a three-byte lead 0xE0–0xEF
  (``â``…``ï``) followed by two of them (``â€™`` for ``’``). Legitimate text practically never pairs
  these characters.
"""

from __future__ import annotations

import re


def _cp1252_char(b: int) -> str:
    try:
        return bytes([b]).decode("cp1252")
    except UnicodeDecodeError:
        return bytes([b]).decode("latin-1")  # undefined in cp1252: decoded as the C1 control


# what cp1252 shows for the continuation bytes 0x80-0x9F
_CP1252_HIGH = "".join(_cp1252_char(b) for b in range(0x80, 0xA0))
_CONT = "\u00a0-\u00bf" + "".join(sorted(set(_CP1252_HIGH)))
_CONT_RE2 = "".join(f"\\x{{{ord(c):X}}}" for c in sorted(set(_CP1252_HIGH))) + "\\x{A0}-\\x{BF}"

MOJIBAKE = re.compile(f"\ufffd|[\u00c2-\u00df][{_CONT}]|[\u00e0-\u00ef][{_CONT}]{{2}}")
MOJIBAKE_RE2 = f"\\x{{FFFD}}|[\\x{{C2}}-\\x{{DF}}][{_CONT_RE2}]|[\\x{{E0}}-\\x{{EF}}][{_CONT_RE2}]{{2}}"


def count_suspect(text: str) -> int:
    """Number of mojibake signs in ``text`` (0 for clean text)."""
    return sum(1 for _ in MOJIBAKE.finditer(text))


def first_suspect(text: str) -> str | None:
    """The garbled fragment with a little context, for quarantine reasons."""
    m = MOJIBAKE.search(text)
    if m is None:
        return None
    return text[max(0, m.start() - 8) : m.end() + 8]
