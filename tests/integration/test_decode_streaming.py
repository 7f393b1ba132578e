"""Flat files are decoded while they are parsed (splake.reports.textstream): what a separate decoding pass
used to decide before parsing is decided mid-document, and the document is staged again from the start —
so a document whose telling bytes come after the first megabyte lands exactly as a short one does.
Through the real ingest path (tests/support/conformance.py)."""
# ruff: noqa: RUF001

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import pytest

from splake.reports.decode import CorruptDocumentError, decoded
from splake.reports.textsource import HEAD_BYTES
from splake.reports.textstream import DecodeRestart, decoded_text
from splake.spapi.marketplaces import marketplace
from tests.support.conformance import ConformanceLab

LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"
HEADER = "item-name\titem-description\tlisting-id\tseller-sku\tprice\tquantity\topen-date\tstatus"
PLAIN = "Plain steel bottle 500 ml"  # ASCII: the same bytes in every charset


def _doc(late_name: str, *, rows: int) -> tuple[str, dict[str, str]]:
    """``rows`` ASCII rows (more than the head the parser looks at first), then a row named ``late_name``."""
    lines = [HEADER]
    want: dict[str, str] = {}
    for i in range(rows):
        sku = f"SKU-{i:06d}"
        lines.append(f"{PLAIN} {i}\t\tL-{i}\t{sku}\t19.99\t1\t02/11/2026 10:00:00 MET\tActive")
        want[sku] = f"{PLAIN} {i}"
    lines.append(f"{late_name}\t\tL-late\tLATE\t24.50\t1\t03/11/2026 09:30:00 CET\tActive")
    want["LATE"] = late_name
    return "\n".join(lines) + "\n", want


ROWS = 25_000  # ~2 MB: the telling row comes long after the first HEAD_BYTES


def _names(lab: ConformanceLab, report_id: str) -> dict[str, str]:
    got = lab.sql(f"select seller_sku, item_name from merchant_listings where report_id = '{report_id}'")
    return {r["seller_sku"]: r["item_name"] for r in got}


def _restarts(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "decode_restart" in r.getMessage()]


def test_late_non_utf8_bytes_switch_to_the_marketplace_charset(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    text, want = _doc("Küchenwaage „Präzision“ 5 kg €", rows=ROWS)
    body = text.encode("cp1252")
    assert body.index("Küchen".encode("cp1252")) > 2 * HEAD_BYTES - 200_000
    with ConformanceLab(tmp_path) as lab:
        out = lab.land_bytes(body, report_type=LISTINGS, marketplaces=("FR",), content_type="text/plain")
        assert out.status == "INGESTED" and out.entry.rows == ROWS + 1, out.entry.reason
        assert _names(lab, out.report_id) == want
        assert len(_restarts(caplog)) == 1  # decided mid-document: staged again from the start


def test_a_late_sign_of_utf8_under_a_cp1252_label_is_read_as_utf8(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    text, want = _doc("Tasse personnalisé – édition limitée", rows=ROWS)
    body = text.encode("utf-8")  # (served gzip-compressed, as Amazon does)
    with ConformanceLab(tmp_path) as lab:
        out = lab.land_bytes(
            body,
            report_type=LISTINGS,
            marketplaces=("FR",),
            content_type="text/plain;charset=Cp1252",
        )
        assert out.status == "INGESTED" and out.entry.rows == ROWS + 1, out.entry.reason
        assert _names(lab, out.report_id)["LATE"] == "Tasse personnalisé – édition limitée"  # not "Ã©"
        assert _names(lab, out.report_id) == want
        assert len(_restarts(caplog)) == 1


def test_late_garbled_text_is_quarantined_not_landed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    garbled = "Tasse personnalisé".encode().decode("cp1252")  # "personnalisÃ©"
    text, want = _doc(garbled, rows=ROWS)
    with ConformanceLab(tmp_path) as lab:
        out = lab.land_bytes(
            text.encode("utf-8"), report_type=LISTINGS, marketplaces=("FR",), content_type="text/plain"
        )
        assert out.status == "INGESTED" and out.entry.rows == ROWS and out.entry.quarantined == 1
        del want["LATE"]
        assert _names(lab, out.report_id) == want  # every other row, once (the first attempt left nothing)
        (q,) = lab.quarantine("merchant_listings", out.report_id)
        assert "mojibake" in q["reason"] and "nalisÃ©" in q["reason"]
        assert q["line_number"] == ROWS + 2
        assert len(_restarts(caplog)) == 1


def test_late_garbled_text_in_a_cp1252_document_is_quarantined(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A cp1252 document's decoder scans only the chunks holding a byte that can start a mojibake sign
    (textcheck.single_byte_leads): a garbled value far into the document (its "Ã©" stored as cp1252) is
    still found, and its row quarantined."""
    caplog.set_level(logging.INFO)
    garbled = "Tasse personnalisé".encode().decode("cp1252") + " für Küche"  # ü: the bytes are not UTF-8
    text, want = _doc(garbled, rows=ROWS)
    body = text.encode("cp1252")
    assert body.index(b"\xc3") > 2 * HEAD_BYTES - 200_000
    with ConformanceLab(tmp_path) as lab:
        out = lab.land_bytes(
            body, report_type=LISTINGS, marketplaces=("DE",), content_type="text/plain;charset=Cp1252"
        )
        assert out.status == "INGESTED" and out.entry.rows == ROWS and out.entry.quarantined == 1
        del want["LATE"]
        assert _names(lab, out.report_id) == want
        (q,) = lab.quarantine("merchant_listings", out.report_id)
        assert "mojibake" in q["reason"] and "nalisÃ©" in q["reason"]
        assert len(_restarts(caplog)) == 1


def test_characters_split_across_chunks_are_not_taken_for_garbled_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Multi-byte UTF-8 split by the decoder's 1 MB pieces: no false mojibake, no restart."""
    caplog.set_level(logging.INFO)
    names = ["Küchenwaage €", "【日本製】水筒 ①", "Crème brûlée — édition"]
    lines = [HEADER] + [
        f"{names[i % 3]} {i}\t\tL-{i}\tS-{i}\t19.99\t1\t02/11/2026 10:00:00 MET\tActive"
        for i in range(40_000)
    ]
    body = ("\n".join(lines) + "\n").encode("utf-8")
    assert len(body) > 3 * HEAD_BYTES
    with ConformanceLab(tmp_path) as lab:
        out = lab.land_bytes(body, report_type=LISTINGS, marketplaces=("DE",), content_type="text/plain")
        assert out.status == "INGESTED" and out.entry.rows == 40_000 and out.entry.quarantined == 0
        assert not _restarts(caplog)


def test_streamed_text_equals_the_decoded_file(tmp_path: Path) -> None:
    """The streamed text is byte for byte what the temp-file decoder writes, whatever the charset case."""
    euro = "Küchenwaage „Präzision“ 5 kg €\r\n"
    cases = {
        "cp1252 labelled": (euro.encode("cp1252") * 3, "Cp1252", "DE"),
        "cp1252 unlabelled": (euro.encode("cp1252") * 3, None, "DE"),
        "utf-8 with bom": (b"\xef\xbb\xbf" + euro.encode("utf-8") * 3, None, "DE"),
        "utf-8 under a cp1252 label": (euro.encode("utf-8") * 3, "Cp1252", "DE"),
        "shift_jis unlabelled": ("【日本製】水筒 ①\n".encode("cp932") * 3, None, "JP"),
        "cp1252 undefined byte": (b"a\x81b\x9dc\n", "Cp1252", "DE"),
        "bad utf-8 under a utf-8 label": (b"ok\n\xff\xfe bad\n", "UTF-8", "US"),
    }
    for name, (body, label, market) in cases.items():
        for packed in (body, gzip.compress(body)):
            src = tmp_path / "doc.bin"
            src.write_bytes(packed)
            mid = marketplace(market).id
            with decoded(src, header_charset=label, marketplace_id=mid) as doc:
                want = doc.path.read_bytes()
            text = decoded_text(src, header_charset=label, marketplace_id=mid)
            text.head()  # settles what the start of the document tells
            for _ in range(3):
                try:
                    with text.open() as f:
                        got = f.read()
                    break
                except DecodeRestart as signal:
                    text.restart(signal)
            assert got == want, name
            assert text.head(7) == want[:7], name


def test_the_same_head_is_read_once_and_a_new_charset_reads_it_again(tmp_path: Path) -> None:
    """The parser and the drift check both look at the head: the second look is served from the first read
    (the source file may even be gone), unless the limit or the charset step changed since."""
    src = tmp_path / "doc.bin"
    src.write_bytes(b"sku\tname\nA-1\tbottle\n")
    text = decoded_text(src, header_charset="UTF-8", marketplace_id=marketplace("US").id)
    assert len(text.plan) > 1 and text.step == 0
    first = text.head(8)
    assert first == b"sku\tname"
    src.rename(tmp_path / "moved.bin")
    assert text.head(8) == first  # not read again: the file is gone
    with pytest.raises(CorruptDocumentError):
        text.head(9)  # another limit is another read
    text.restart(DecodeRestart("test", step=1))
    with pytest.raises(CorruptDocumentError):
        text.head(8)  # another charset step: decoded anew
    (tmp_path / "moved.bin").rename(src)
    assert text.head(8) == first and text.step == 1


def test_a_document_the_head_read_whole_is_parsed_from_that_read(tmp_path: Path) -> None:
    """A small document read to its end by head() (no restart) is opened again from that read: the same
    bytes and outcome without the file; a changed text check (or charset step) decodes it anew."""
    src = tmp_path / "doc.bin"
    body = "sku\tname\nA-1\tcafé\n".encode("cp1252")
    src.write_bytes(gzip.compress(body))
    text = decoded_text(src, header_charset="Cp1252", marketplace_id=marketplace("DE").id)
    head = text.head()
    fresh = text.outcome
    assert head == "sku\tname\nA-1\tcafé\n".encode() and fresh.finished and fresh.non_ascii
    src.rename(tmp_path / "moved.bin")
    for _ in range(2):
        with text.open() as f:
            assert f.read() == head
        assert text.outcome == fresh and text.outcome is not fresh
    text.restart(DecodeRestart("test", check_text=True))
    with pytest.raises(CorruptDocumentError):
        with text.open() as f:
            f.read()
