"""Row keys are stored in every lake: these known vectors were written by the per-row ``hashlib``
implementation (before the vectorised one) and must never change (a changed key function makes a
re-ingest duplicate rows instead of replacing them)."""

from __future__ import annotations

import collections
import hashlib
import random
from datetime import UTC, datetime, timedelta, timezone

import pyarrow as pa
import pytest

from splake.lake import rowkeys
from splake.lake.rowkeys import KEY_VERSION, OccurrenceCounter, compute_row_keys


def _batch() -> tuple[pa.RecordBatch, pa.Array]:
    pst = timezone(timedelta(hours=-8))
    batch = pa.RecordBatch.from_pydict(
        {
            "order_id": pa.array(
                [
                    "111-2223334-5556667",
                    "111-2223334-5556667",
                    None,
                    "",
                    "a\\b\x1fc\x00d",
                    "111-2223334-5556667",
                ]
            ),
            "qty": pa.array([1, 1, 2, None, 3, 1], pa.int64()),
            "purchase_date": pa.array(
                [datetime(2026, 3, 1, 22, 30, tzinfo=pst)] * 6, pa.timestamp("us", tz="-08:00")
            ),
            "price": pa.array([19.99, 19.99, None, 0.1, 1e21, 19.99], pa.float64()),
            "promo": pa.array(
                [
                    {"id": "P1", "amount": None},
                    {"id": "P1", "amount": None},
                    None,
                    {"id": "P2", "amount": 1.5},
                    None,
                    {"id": "P1", "amount": None},
                ]
            ),
        }
    )
    return batch, pa.array(["ATVPDKIKX0DER"] * 5 + ["A1PA6795UKMFR9"])


COLUMNS = ["order_id", "qty", "purchase_date", "price", "promo"]
KNOWN_V1 = [
    "0f055d6a25464d2bfc4e5f652b4dc871ea6b763c915bc73337f686e08c0d5a5f",
    "fcc385601180f8c7b1f86f655848bba0bbfd400c49529ceff38c1e19c2f5628b",  # exact repeat of row 0: "#1"
    "8a3a5cb89fa71a017cbcf94d05fa2a1ab6b1b349b2f054f9a249aa3719f24a5a",
    "a112efcf5cb1579310c1287b4e9bb63627b2f4e479305b83146c6345e57fb077",
    "6238f7473bb69fdac9d7ad85c60485f1d161b51fccf8f78dc22c85c1ec9e6004",
    "769bf6ee587425290ab05c337226c3e30a1a00feba3f2591663a13528b256122",  # other marketplace: not a repeat
]


def test_known_vectors_of_key_version_1_never_change() -> None:
    assert KEY_VERSION == 1
    batch, market = _batch()
    keys = compute_row_keys(batch, "seller-na", market, COLUMNS, OccurrenceCounter()).to_pylist()
    assert keys == KNOWN_V1


def test_known_vectors_hold_for_slices_sharing_the_batchs_buffers() -> None:
    """Escaping is decided from the string buffers, which a slice shares with rows outside it: a slice
    without special characters (row 0-1, their buffer holds row 4's) and one with them (rows 3-4) keep
    the known keys."""
    batch, market = _batch()
    for start, length in ((0, 2), (3, 2), (4, 1)):
        keys = compute_row_keys(
            batch.slice(start, length), "seller-na", market.slice(start, length), COLUMNS, OccurrenceCounter()
        ).to_pylist()
        assert keys == KNOWN_V1[start : start + length]


def test_known_vectors_follow_the_documented_text() -> None:
    """The documented formula, computed by hand with hashlib (independently of the code under test)."""
    text = "seller-na\x1fATVPDKIKX0DER\x1f111-2223334-5556667\x1f1\x1f2026-03-02 06:30:00.000000Z\x1f19.99"
    text += '\x1f{"id":"P1"}'
    first = hashlib.sha256(text.encode()).hexdigest()
    assert first == KNOWN_V1[0]
    assert hashlib.sha256(f"{first}#1".encode()).hexdigest() == KNOWN_V1[1]
    null_row = "seller-na\x1fATVPDKIKX0DER\x1f\x00\x1f2\x1f2026-03-02 06:30:00.000000Z\x1f\x00\x1f\x00"
    assert hashlib.sha256(null_row.encode()).hexdigest() == KNOWN_V1[2]
    escaped = "seller-na\x1fATVPDKIKX0DER\x1fa\\\\b\\x1fc\\x00d\x1f3"
    escaped += "\x1f2026-03-02 06:30:00.000000Z\x1f1e+21\x1f\x00"
    assert hashlib.sha256(escaped.encode()).hexdigest() == KNOWN_V1[4]


def test_keys_do_not_depend_on_batch_boundaries_and_repeats_span_batches() -> None:
    rng = random.Random(3)
    orders = [f"o{rng.randrange(400)}" for _ in range(3000)]
    market = pa.array(["US"] * 3000)
    batch = pa.RecordBatch.from_pydict({"order_id": pa.array(orders)})
    whole = compute_row_keys(batch, "a", market, ["order_id"], OccurrenceCounter()).to_pylist()
    counter = OccurrenceCounter()
    split: list[str] = []
    for lo, hi in ((0, 1), (1, 700), (700, 701), (701, 3000)):
        part = batch.slice(lo, hi - lo)
        keys = compute_row_keys(part, "a", market.slice(lo, hi - lo), ["order_id"], counter)
        split += keys.to_pylist()
    assert split == whole and len(set(whole)) == 3000
    # the n-th repeat of a value is sha256("<first key>#n"), in document order
    seen: collections.Counter[str] = collections.Counter()
    for o, key in zip(orders, whole, strict=True):
        first = hashlib.sha256(f"a\x1fUS\x1f{o}".encode()).hexdigest()
        n = seen[o]
        assert key == (first if n == 0 else hashlib.sha256(f"{first}#{n}".encode()).hexdigest())
        seen[o] += 1


def test_occurrence_counter_matches_a_reference_count_in_batches() -> None:
    rng = random.Random(7)
    values = [rng.getrandbits(64) for _ in range(20_000)]
    values += rng.choices(values, k=20_000)
    rng.shuffle(values)
    counter = OccurrenceCounter()
    ref: collections.Counter[int] = collections.Counter()
    expected, got = [], []
    for lo in range(0, len(values), 997):  # many level merges
        chunk = values[lo : lo + 997]
        got += counter.seen_many(pa.array(chunk, pa.uint64()))
        for v in chunk:
            expected.append(ref[v])
            ref[v] += 1
    assert got == expected
    assert len(counter) == len(ref)


def test_every_first_occurrence_is_keyed_by_its_own_text() -> None:
    # order-like keys that differ in a few characters: DuckDB's hash() of the texts (the repeat
    # fingerprint) collided on ~0.8% of them, numbering one row of each pair as a "repeat" of the other
    n = 100_000
    orders = [f"{i}" for i in range(n)]
    skus = [f"SKU-{i & 1023}" for i in range(n)]
    batch = pa.RecordBatch.from_pydict({"order_id": orders, "sku": skus})
    keys = compute_row_keys(
        batch, "acct", pa.array(["ATVPDKIKX0DER"] * n), ["order_id", "sku"], OccurrenceCounter()
    )
    expected = [
        hashlib.sha256(f"acct\x1fATVPDKIKX0DER\x1f{o}\x1f{s}".encode()).hexdigest()
        for o, s in zip(orders, skus, strict=True)
    ]
    wrong = [o for o, k, e in zip(orders, keys.to_pylist(), expected, strict=True) if k != e]
    assert not wrong, f"{len(wrong)} rows not keyed by their own text, e.g. order {wrong[:3]}"


def test_occurrence_counter_with_chunked_levels_matches_a_reference_count() -> None:
    # small chunks: the big levels are chunked and merged chunk by chunk from the first few thousand values
    rng = random.Random(11)
    values = [rng.getrandbits(64) for _ in range(30_000)]
    values += rng.choices(values, k=10_000)
    rng.shuffle(values)
    counter = OccurrenceCounter(chunk=64)
    ref: collections.Counter[int] = collections.Counter()
    i = 0
    while i < len(values):
        batch = values[i : i + rng.choice((1, 5, 63, 64, 65, 129, 500, 3_000))]
        i += len(batch)
        expected = []
        for v in batch:
            expected.append(ref[v])
            ref[v] += 1
        assert counter.seen_many(batch) == expected
    assert len(counter) == len(ref)
    # the levels stay sorted, distinct and chunked at most 2 chunks wide
    stored: list[int] = []
    for level in counter._levels:
        assert all(0 < len(c) <= 2 * 64 for c in level) or len(level) == 1
        values_in_level = [int(v) for c in level for v in c.tolist()]
        assert values_in_level == sorted(set(values_in_level))
        stored += values_in_level
    assert sorted(stored) == sorted(ref)


def test_timestamps_are_keyed_in_utc_whatever_their_zone() -> None:
    t = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
    a = pa.RecordBatch.from_pydict({"ts": pa.array([t], pa.timestamp("us", tz="UTC"))})
    b = pa.RecordBatch.from_pydict({"ts": pa.array([t], pa.timestamp("us", tz="+05:00"))})
    m = pa.array(["US"])
    assert compute_row_keys(a, "x", m, ["ts"], OccurrenceCounter()) == compute_row_keys(
        b, "x", m, ["ts"], OccurrenceCounter()
    )


def test_hashing_connection_is_reused_per_thread() -> None:
    """Opening a DuckDB connection costs ~18 ms: one per thread, shared by its documents' counters."""
    import threading

    from splake.lake.rowkeys import OccurrenceCounter

    a, b = OccurrenceCounter(), OccurrenceCounter()
    assert a.connection() is b.connection()
    other: list[object] = []
    t = threading.Thread(target=lambda: other.append(OccurrenceCounter().connection()))
    t.start()
    t.join()
    assert other[0] is not a.connection(), "DuckDB connections are not shared between threads"


def test_hashlib_and_duckdb_batches_key_alike_and_number_repeats_across_each_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Small batches are hashed with hashlib, large ones by DuckDB: a document mixing both (each path
    forced with SMALL_BATCH) keys every row by the documented rule, repeats numbered across the paths."""
    rng = random.Random(5)
    orders = [f"o{rng.randrange(150)}" for _ in range(600)]
    market = pa.array(["US"] * 600)
    batch = pa.RecordBatch.from_pydict({"order_id": pa.array(orders)})
    seen: collections.Counter[str] = collections.Counter()
    expected = []
    for o in orders:
        first = hashlib.sha256(f"a\x1fUS\x1f{o}".encode()).hexdigest()
        n = seen[o]
        expected.append(first if n == 0 else hashlib.sha256(f"{first}#{n}".encode()).hexdigest())
        seen[o] += 1
    for small in (0, 40, 10_000):  # all DuckDB / mixed / all hashlib
        monkeypatch.setattr(rowkeys, "SMALL_BATCH", small)
        counter = OccurrenceCounter()
        got: list[str] = []
        for lo, hi in ((0, 30), (30, 130), (130, 131), (131, 170), (170, 600)):
            keys = compute_row_keys(
                batch.slice(lo, hi - lo), "a", market.slice(lo, hi - lo), ["order_id"], counter
            )
            got += keys.to_pylist()
        assert got == expected, small
        known, known_market = _batch()
        assert compute_row_keys(
            known, "seller-na", known_market, COLUMNS, OccurrenceCounter()
        ).to_pylist() == (KNOWN_V1)


def test_fingerprints_are_the_digests_first_eight_bytes() -> None:
    texts = [f"acct\x1fUS\x1f{i}" for i in range(50)]
    want = [int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "big") for t in texts]
    keys = pa.array([hashlib.sha256(t.encode()).hexdigest() for t in texts])
    assert rowkeys.digest_fingerprints(keys).tolist() == want
    assert rowkeys.digest_fingerprints(keys.slice(7, 20)).tolist() == want[7:27]
    assert rowkeys.digest_fingerprints(pa.array([], pa.string())).tolist() == []
    with pytest.raises(ValueError, match="64-character"):
        rowkeys.digest_fingerprints(pa.array(["abc"]))
