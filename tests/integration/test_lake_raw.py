"""Raw zone: byte-for-byte, immutable, idempotent documents with provenance sidecars."""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from splake.lake.objectstore import LocalObjectStore
from splake.lake.raw import META_SUFFIX, RawZone

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
META = {
    "report_id": "50012019",
    "document_id": "amzn1.tortuga.4.na.abc",
    "report_type": "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
    "marketplaces": ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"],
    "data_start": "2026-02-27T00:00:00+00:00",
    "data_end": "2026-02-28T00:00:00+00:00",
    "content_type": "text/tab-separated-values",
    "charset": "utf-8",
}


def _zone(tmp_path: Path, now: datetime = T0) -> tuple[RawZone, LocalObjectStore]:
    store = LocalObjectStore(tmp_path / "lake")
    return RawZone(store, clock=lambda: now), store


def _gz_doc(tmp_path: Path, text: str, name: str = "doc.gz") -> Path:
    p = tmp_path / name
    p.write_bytes(gzip.compress(text.encode(), mtime=1))
    return p


def test_put_document_keeps_gzipped_bytes_and_sidecar(tmp_path: Path) -> None:
    zone, store = _zone(tmp_path)
    doc = _gz_doc(tmp_path, "order-id\tsku\n111\tA\n")
    ref = zone.put_document("acme-na", "reports", "50012019__amzn1.tortuga.4.na.abc", doc, META)
    assert ref.key == (
        "raw/reports/acme-na/GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL/2026/02/27/"
        "50012019__amzn1.tortuga.4.na.abc.tsv.gz"
    )
    assert store.get_bytes(ref.key) == doc.read_bytes()  # still gzipped, byte-for-byte
    assert ref.sha256 == hashlib.sha256(doc.read_bytes()).hexdigest()
    assert ref.size == doc.stat().st_size
    meta = json.loads(store.get_bytes(ref.key + META_SUFFIX))
    assert meta["sha256"] == ref.sha256 and meta["size"] == ref.size
    assert meta["compression"] == "gzip"
    assert meta["report_id"] == "50012019" and meta["document_id"] == "amzn1.tortuga.4.na.abc"
    assert meta["marketplaces"] == ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]
    assert meta["account_id"] == "acme-na" and meta["charset"] == "utf-8"
    assert meta["received_at"] == T0.isoformat()


def test_reput_same_document_is_a_noop(tmp_path: Path) -> None:
    zone, store = _zone(tmp_path)
    doc = _gz_doc(tmp_path, "a\tb\n1\t2\n")
    first = zone.put_document("acct", "reports", "R__D", doc, META)
    before = {o.key: (o.size, o.modified) for o in store.list("raw/")}
    later, _ = _zone(tmp_path, now=datetime(2026, 3, 9, tzinfo=UTC))
    again = later.put_document("acct", "reports", "R__D", doc, META)
    assert again == first
    assert {o.key: (o.size, o.modified) for o in store.list("raw/")} == before
    assert json.loads(store.get_bytes(first.meta_key))["received_at"] == T0.isoformat()  # first receipt kept


def test_different_bytes_for_same_source_never_overwrite(tmp_path: Path) -> None:
    zone, store = _zone(tmp_path)
    first = zone.put_document("acct", "reports", "R__D", _gz_doc(tmp_path, "v1\n", "a.gz"), META)
    original = store.get_bytes(first.key)
    second = zone.put_document("acct", "reports", "R__D", _gz_doc(tmp_path, "v2\n", "b.gz"), META)
    assert second.sha256 != first.sha256
    assert second.key == first.key.replace("R__D.tsv.gz", f"R__D~{second.sha256[:12]}.tsv.gz")
    assert store.get_bytes(first.key) == original
    assert gzip.decompress(store.get_bytes(second.key)) == b"v2\n"
    assert json.loads(store.get_bytes(second.meta_key))["sha256"] == second.sha256


def test_a_multi_megabyte_document_is_digested_while_it_is_copied(tmp_path: Path) -> None:
    """The digest is computed in a thread while the store writes the copy: both complete and agree with
    the bytes, for a document of several read chunks; a different one of that size still becomes a
    variant, never an overwrite."""
    import os

    from splake.lake.raw import HASH_INLINE_BYTES

    zone, store = _zone(tmp_path)
    big = tmp_path / "big.gz"
    big.write_bytes(gzip.compress(os.urandom(5 << 20), compresslevel=1, mtime=1))
    assert big.stat().st_size > HASH_INLINE_BYTES  # (a small one is hashed first, in the caller)
    ref = zone.put_document("acct", "reports", "R__D", big, META)
    assert store.get_bytes(ref.key) == big.read_bytes()
    assert ref.sha256 == hashlib.sha256(big.read_bytes()).hexdigest() and ref.size == big.stat().st_size
    assert json.loads(store.get_bytes(ref.meta_key))["sha256"] == ref.sha256
    other = tmp_path / "other.gz"
    other.write_bytes(gzip.compress(os.urandom(5 << 20), compresslevel=1, mtime=1))
    second = zone.put_document("acct", "reports", "R__D", other, META)
    assert (
        second.key.endswith(f"R__D~{second.sha256[:12]}.tsv.gz")
        and store.get_bytes(ref.key) == big.read_bytes()
    )
    assert second.sha256 == hashlib.sha256(other.read_bytes()).hexdigest()


def test_uncompressed_document_and_charset_roundtrip(tmp_path: Path) -> None:
    zone, _ = _zone(tmp_path)
    text = "出品者SKU\t価格\nSKU-1\t1200\n"
    doc = tmp_path / "jp.tsv"
    doc.write_bytes(text.encode("cp932"))
    meta = {**META, "report_type": "GET_MERCHANT_LISTINGS_ALL_DATA", "charset": "Shift_JIS"}
    ref = zone.put_document("acme-jp", "reports", "R9__D9", doc, meta)
    assert ref.key.endswith("/R9__D9.tsv")
    [doc_back] = list(zone.iter_documents("raw/reports/acme-jp/"))
    assert doc_back.meta["compression"] is None
    assert doc_back.read_text() == text


def test_put_records_is_deterministic_ndjson_gz(tmp_path: Path) -> None:
    zone, store = _zone(tmp_path)
    records = [
        {"asin": "B0001", "attrs": {"b": 2, "a": 1}},
        {"asin": "B0002", "when": datetime(2026, 1, 1, tzinfo=UTC)},
    ]
    meta = {"type": "getCatalogItem", "marketplaces": ["ATVPDKIKX0DER"]}
    ref = zone.put_records("acct", "items", "catalog-20260304", records, meta)
    assert ref.key == "raw/items/acct/getCatalogItem/2026/03/04/catalog-20260304.ndjson.gz"
    again = zone.put_records("acct", "items", "catalog-20260304", iter(records), meta)
    assert again == ref
    assert len([o for o in store.list("raw/items/") if not o.key.endswith(META_SUFFIX)]) == 1
    [doc] = list(zone.iter_documents("raw/items/"))
    lines = [json.loads(line) for line in doc.open_decoded().read().decode().splitlines()]
    assert lines == [
        {"asin": "B0001", "attrs": {"a": 1, "b": 2}},
        {"asin": "B0002", "when": "2026-01-01T00:00:00+00:00"},
    ]
    assert doc.meta["records"] == 2 and doc.meta["compression"] == "gzip"


def test_crash_between_object_and_sidecar_is_repaired(tmp_path: Path) -> None:
    zone, store = _zone(tmp_path)
    doc = _gz_doc(tmp_path, "x\n")
    ref = zone.put_document("acct", "reports", "R__D", doc, META)
    (store.root / ref.meta_key).unlink()  # as if the process died before writing the sidecar
    assert list(zone.iter_documents("raw/")) == []  # half-landed documents are not served
    again = zone.put_document("acct", "reports", "R__D", doc, META)
    assert again == ref
    assert [d.key for d in zone.iter_documents("raw/")] == [ref.key]


def test_iter_documents_filters_by_prefix_and_reads_totals(tmp_path: Path) -> None:
    zone, _ = _zone(tmp_path)
    for acct, n in (("a1", 3), ("a2", 5)):
        body = "sku\tqty\n" + "".join(f"S{i}\t{i}\n" for i in range(n))
        zone.put_document(acct, "reports", f"R{acct}__D", _gz_doc(tmp_path, body, f"{acct}.gz"), META)
    docs = list(zone.iter_documents("raw/reports/a2/"))
    assert [d.meta["account_id"] for d in docs] == ["a2"]
    total = sum(int(line.split(b"\t")[1]) for line in docs[0].open_decoded().read().splitlines()[1:])
    assert total == sum(range(5))
    assert len(list(zone.iter_documents())) == 2
