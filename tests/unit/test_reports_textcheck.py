"""Mojibake detection: the prefilter never hides a sign the full pattern finds, and UTF-8 text read with the
wrong single-byte charset is always detected."""
# ruff: noqa: RUF001

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from splake.reports.textcheck import MOJIBAKE, MOJIBAKE_RE2, count_suspect

LETTERS = "aZ09 \t-.,äöüÄÖÜßéèêàâçîïôûùœÉÈÀÂÇÎÏÔñãõáíóúÑÃÕąćęłńśźżĄŁŚŻčšžř€–—‘’“”•…™©®°±日本製ステンレス水筒①"
ALPHABET = st.sampled_from([*LETTERS, "\ufffd", "Ã©", "â€™", "Â ", "Å‚", "ï»¿"])


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(ALPHABET, max_size=40))
def test_prefilter_agrees_with_the_full_pattern(parts: list[str]) -> None:
    text = "".join(parts)
    assert count_suspect(text) == len(MOJIBAKE.findall(text))
    assert bool(pc.match_substring_regex(pa.array([text]), MOJIBAKE_RE2)[0].as_py()) == bool(
        MOJIBAKE.search(text)
    )


# Latin letters of the marketplaces' languages, typographic punctuation, € and Japanese kana (kanji-only
# text is not covered: UTF-8 kanji read as cp1252 start with æ/ç/è/é…, real letters the prefilter skips;
# Japanese text practically always holds kana, and a contradicted label is caught by the decoder first)
GARBLE = "äöüÄÖÜßéèàçñãąłśžč€–’“ステンレスの①"


@settings(max_examples=150, deadline=None)
@given(text=st.text(st.sampled_from(list(GARBLE)), min_size=1, max_size=20))
def test_utf8_read_as_cp1252_is_always_detected(text: str) -> None:
    garbled = text.encode("utf-8").decode("cp1252", errors="replace")
    assert count_suspect(garbled) > 0


WORDS = "Küchenwaage Präzision Äpfel Ärger Öl Übung Straße château pâte naïf São Ação Ñandú ŁÓDŹ Žluťoučký "
WORDS += "Ångström Œuvre „Zitat“ ‘quote’ – 5 € 10 % 25°C ©2020 ®™ 【日本製】ステンレス 水筒 ５００ｍｌ ①"


@settings(max_examples=100, deadline=None)
@given(words=st.lists(st.sampled_from(WORDS.split()), min_size=1, max_size=12))
def test_real_words_are_not_flagged(words: list[str]) -> None:
    assert count_suspect(" ".join(words)) == 0


def test_the_utf8_byte_count_equals_the_text_count() -> None:
    from splake.reports.textcheck import count_suspect, count_suspect_utf8

    texts = [
        "plain ascii",
        "Küchenwaage „Präzision“ 5 kg €",
        "Tasse personnalisÃ© â€“ Ã©dition",  # garbled twice over
        "bad \ufffd byte",
        "【日本製】ステンレス 水筒 ① ã€",
        "Ä alone, Å alone, ï alone",
    ]
    for text in texts:
        assert count_suspect_utf8(text.encode("utf-8")) == count_suspect(text), text
    assert count_suspect_utf8(b"") == 0


SINGLE_BYTE = ["cp1252", "iso8859-15", "cp1250", "mac-roman", "koi8-r"]
LEAD_HEAVY = bytes([0xC2, 0xC3, 0xC4, 0xC5, 0xE2, 0xE3, 0xEF, 0x80, 0x81, 0x92, 0xA9, 0xBC, 0xBF, 0x8D, 0x9D])


@settings(max_examples=200, deadline=None)
@given(
    raw=st.lists(st.one_of(st.integers(0, 255), st.sampled_from(list(LEAD_HEAVY))), max_size=60).map(bytes),
    codec=st.sampled_from(SINGLE_BYTE),
)
def test_a_chunk_without_lead_bytes_decodes_to_text_without_mojibake(raw: bytes, codec: str) -> None:
    """The decoder skips the pattern scan of a chunk whose bytes hold none of the codec's lead bytes: its
    decoded text must then hold no sign at all (the full pattern, run here, agrees), unless the error
    handler replaced a byte (which the decoder counts and then scans)."""
    from splake.reports import decode as dec
    from splake.reports.textcheck import count_suspect_utf8, may_hold_suspect, single_byte_leads

    leads = single_byte_leads(codec)
    assert leads is not None
    dec.reset_replaced()
    text = raw.decode(codec, errors="splake_lenient")
    if not may_hold_suspect(raw, leads) and not dec.replaced_count():
        assert count_suspect_utf8(text.encode("utf-8")) == 0, (codec, raw)


def test_only_single_byte_codecs_have_lead_bytes() -> None:
    from splake.reports.textcheck import single_byte_leads

    for codec in ("utf-8", "cp932", "utf-16", "euc_jp", "no-such-codec"):
        assert single_byte_leads(codec) is None, codec
    cp1252 = single_byte_leads("cp1252")
    assert cp1252 is not None
    assert b"".join(cp1252).decode("cp1252") == "ÂÃÄÅâãï"


@settings(max_examples=300, deadline=None)
@given(
    data=st.one_of(
        st.lists(ALPHABET, max_size=40).map(lambda parts: "".join(parts).encode("utf-8")),
        st.binary(max_size=60),
        st.lists(
            st.sampled_from([b"\xc3", b"\x82", b"\xa3", b"\xaf", b"\xef", b"\xbf", b"\xbd", b"a", b"\xa9"])
        ).map(b"".join),
    )
)
def test_utf8_without_a_signs_first_character_has_no_mojibake(data: bytes) -> None:
    """The UTF-8 chunks' prefilter: where it says no, the full pattern finds nothing."""
    from splake.reports.textcheck import count_suspect_utf8, may_hold_suspect_utf8

    if not may_hold_suspect_utf8(data):
        assert count_suspect_utf8(data) == 0, data


def test_the_utf8_prefilter_passes_ordinary_text_and_catches_the_signs() -> None:
    from splake.reports.textcheck import may_hold_suspect_utf8

    assert not may_hold_suspect_utf8("Küchenwaage „Präzision“ 5 kg € – Crème brûlée, Zürich ①".encode())
    for garbled in ("personnalisÃ©", "â€™", "bad \ufffd byte", "Å‚", "Ã"):
        assert may_hold_suspect_utf8(garbled.encode()), garbled
