"""Row-key verification (`splake lake check`): expected keys are computed here with hashlib, independently of
the code under test; the buggy keys are produced by the released buggy fingerprint (DuckDB ``hash()`` of the
key text, the SQL 5bb07ed..148d46c ran) through the real key path."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import duckdb
import pyarrow as pa
import pytest

from splake.lake import rowkeys
from splake.lake.keycheck import verify_batches
from splake.lake.rowkeys import OccurrenceCounter, compute_row_keys
from tests.unit.test_lake_rowkeys import COLUMNS, KNOWN_V1, _batch

BUGGY_SQL = "SELECT sha256(t) AS k, hash(t) AS fp FROM batch"  # the fingerprint of 5bb07ed..148d46c
ACCT, MARKET = "acct", "ATVPDKIKX0DER"
# two order keys whose texts collide under DuckDB hash() (the fix's test case: 10367/SKU-127, 10369/SKU-129)
A = {"order_id": "10367", "sku": "SKU-127"}
B = {"order_id": "10369", "sku": "SKU-129"}


def _text(row: dict[str, str]) -> str:
    return f"{ACCT}\x1f{MARKET}\x1f{row['order_id']}\x1f{row['sku']}"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _doc(rows: Sequence[dict[str, str]], source: str) -> pa.RecordBatch:
    """One landed document's stored rows, keyed by the landing path's code."""
    n = len(rows)
    biz = pa.RecordBatch.from_pylist(list(rows))
    keys = compute_row_keys(biz, ACCT, pa.array([MARKET] * n), ["order_id", "sku"], OccurrenceCounter())
    return pa.RecordBatch.from_pydict(
        {
            "account_id": [ACCT] * n,
            "marketplace_id": [MARKET] * n,
            "source_key": [source] * n,
            "row_key": keys,
            "order_id": [r["order_id"] for r in rows],
            "sku": [r["sku"] for r in rows],
        }
    )


def test_the_pair_collides_under_the_buggy_fingerprint() -> None:
    con = duckdb.connect()
    (ha, hb), *_ = con.execute("SELECT hash(?), hash(?)", [_text(A), _text(B)]).fetchall()
    assert ha == hb and _text(A) != _text(B)


def test_pinned_vectors_pass_through_the_check() -> None:
    batch, market = _batch()
    n = batch.num_rows
    cols = {c: batch.column(c) for c in COLUMNS}
    stored = pa.RecordBatch.from_pydict(
        {
            "account_id": ["seller-na"] * n,
            "marketplace_id": market,
            "source_key": ["raw/doc-1"] * n,
            "row_key": KNOWN_V1,
            **cols,
        }
    )
    r = verify_batches("t", lambda: [stored.slice(0, 3), stored.slice(3)], COLUMNS)
    assert (r.rows, r.wrong, r.unproven, r.same_key) == (6, 0, 0, 0)
    bad = pa.RecordBatch.from_pydict({**stored.to_pydict(), "row_key": [*KNOWN_V1[:5], _sha("x")]})
    r = verify_batches("t", lambda: [bad], COLUMNS)
    assert (r.wrong, r.unknown_form) == (1, 1)
    assert r.examples == [
        {"row_key": _sha("x"), "account_id": "seller-na", "marketplace_id": "A1PA6795UKMFR9"}
    ]


def test_the_released_bug_is_found_and_the_row_stored_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:
        m.setattr(rowkeys, "_KEYS_SQL", BUGGY_SQL)  # the released version's fingerprint
        m.setattr(rowkeys, "SMALL_BATCH", 0)  # (hashed by its SQL, as every batch was then)
        old = _doc([A, B], "raw/by-last-update-1")
    buggy = _sha(_sha(_text(B)) + "#1")
    assert old.column("row_key").to_pylist() == [_sha(_text(A)), buggy]
    later = _doc([B], "raw/by-last-update-2")  # the next report carries B: fixed code, correct key
    assert later.column("row_key").to_pylist() == [_sha(_text(B))]
    r = verify_batches("orders", lambda: [old, later], ["order_id", "sku"])
    assert (r.rows, r.wrong, r.bug_keyed, r.unknown_form, r.doubled) == (3, 1, 1, 0, 1)
    assert r.examples == [{"row_key": buggy, "account_id": ACCT, "marketplace_id": MARKET}]
    # the same lake without the later report: still wrong (bug-keyed), not yet stored twice
    r = verify_batches("orders", lambda: [old], ["order_id", "sku"])
    assert (r.wrong, r.bug_keyed, r.doubled) == (1, 1, 0)


def test_a_key_of_another_rows_repeat_form_is_wrong() -> None:
    doc = _doc([A, B], "raw/1")
    forged = pa.RecordBatch.from_pydict(
        {**doc.to_pydict(), "row_key": [_sha(_text(A)), _sha(_sha(_text(A)) + "#1")]}
    )
    r = verify_batches("orders", lambda: [forged], ["order_id", "sku"])
    assert (r.wrong, r.unknown_form, r.bug_keyed) == (1, 1, 0)
    assert r.examples[0]["row_key"] == _sha(_sha(_text(A)) + "#1")


def test_genuine_repeats_pass_even_when_the_first_copy_was_replaced() -> None:
    c = {"order_id": "777", "sku": "SKU-1"}
    twice = _doc([c, c, A], "raw/1")
    assert twice.column("row_key").to_pylist()[1] == _sha(_sha(_text(c)) + "#1")
    r = verify_batches("orders", lambda: [twice], ["order_id", "sku"])
    assert (r.wrong, r.unproven) == (0, 0)
    # a later document replaced the first copy (same key): the #1 row has no earlier copy in its document
    # any more, and no colliding text: not a wrong key
    later = _doc([c], "raw/2")
    r = verify_batches("orders", lambda: [twice.slice(1), later], ["order_id", "sku"])
    assert (r.wrong, r.unproven, r.same_key) == (0, 1, 0)


def test_identical_stored_keys_are_counted() -> None:
    doc = _doc([A], "raw/1")
    r = verify_batches("orders", lambda: [doc, doc], ["order_id", "sku"])
    assert (r.rows, r.same_key, r.ok) == (2, 1, False)


def test_many_genuine_repeats_are_numbered_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    from splake.lake import keycheck

    monkeypatch.setattr(keycheck, "_CANDIDATES", 50)  # several texts per query, one text over several
    c, d = {"order_id": "1", "sku": "S"}, {"order_id": "2", "sku": "S"}
    doc = _doc([c] * 300 + [d] * 5 + [A], "raw/1")
    want = [_sha(_text(c))] + [_sha(_sha(_text(c)) + f"#{n}") for n in range(1, 300)]
    assert doc.column("row_key").to_pylist()[:300] == want
    r = verify_batches("orders", lambda: [doc.slice(0, 100), doc.slice(100)], ["order_id", "sku"])
    assert (r.rows, r.wrong, r.unproven, r.same_key) == (306, 0, 0, 0)
    # a repeat number no document of these rows could have given: wrong
    far = pa.RecordBatch.from_pydict(
        {**doc.to_pydict(), "row_key": [*want[:299], _sha(_sha(_text(c)) + "#5000"), *doc.column(3)[300:]]}
    )
    r = verify_batches("orders", lambda: [far], ["order_id", "sku"])
    assert (r.wrong, r.unknown_form) == (1, 1)
