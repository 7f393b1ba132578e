"""Row keys: the deterministic identity of a curated row, computed in vectorised kernels.

**The key function is part of every lake's data and must never change** (a changed key makes a re-ingest
add rows next to the old ones instead of replacing them). Version 1, the only one:

    text = "\\x1f".join(part(account_id), part(marketplace_id), part(c) for c in key columns)
    part(v) = "\\x00" for null, else the value as text (Arrow's cast to string; timestamps with a time zone
              in UTC; nested values as JSON with sorted keys, null struct fields dropped), with
              "\\\\" → "\\\\\\\\", "\\x1f" → "\\\\x1f", "\\x00" → "\\\\x00" escaped
    key(row) = sha256(utf8(text)).hexdigest()                      for the first occurrence in a document
    key(row) = sha256(ascii(f"{first_key}#{n}")).hexdigest()       for its n-th exact repeat (n = 1, 2, …)

``tests/unit/test_lake_rowkeys.py`` pins known vectors: keys written by earlier versions never change.

Speed (the per-row Python loop over ``hashlib`` was the largest single cost of an ingest): the texts are
joined with Arrow kernels and hashed by DuckDB's ``sha256`` over the whole batch (the same hex digest as
``hashlib``; a batch of at most ``SMALL_BATCH`` rows — a small document — is hashed with ``hashlib`` in
Python instead: a DuckDB query costs ~1 ms whatever its size). Exact repeats are found with a 64-bit
fingerprint of each text (the first 8 bytes of its sha256, whichever computed it) in sorted
numpy arrays merged in levels (LSM-style; a big level is kept in sorted chunks and merged chunk by chunk;
numpy, not Arrow kernels: 2.2x less CPU for the same searches), searched per batch (``searchsorted``) only
for the values a Bloom filter of all of them (:mod:`splake.lake.bloom`) cannot rule out — a few percent at
most (the level search was 0.9 of a 4M-row document's 1.4 CPU seconds of counting) — so a 10M-row document
costs ~10 bytes per distinct row plus a few MB of merge scratch and no Python per-row work unless it has
repeats. Fingerprints only decide which rows are numbered as repeats; two
different texts with the same 64-bit fingerprint in one document (about 1 in 10^6 for a 4M-row document)
would number the second as a repeat (still a unique, deterministic key).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from splake.lake.bloom import BlockedBloom, rebuilt

KEY_VERSION = 1
SEP = "\x1f"  # unit separator between key parts
NULL = "\x00"  # stands for a null key value (distinct from the empty string)
_LEVEL_FANOUT = 8  # a fingerprint level is merged into the next when it outgrows 1/8 of it
# Fingerprints per chunk of a big level (2 MiB). Levels used to be single arrays: merging into the largest
# took concat + sort indices + take, 3x the whole level, and the allocator kept the blocks of each size
# it outgrew (landing 2M rows grew RSS by ~180 MB instead of ~110 MB; more for bigger documents).
_CHUNK = 1 << 18


def _drop_nulls(value: Any) -> Any:
    """Nested key values without null struct fields, so a struct that later gains (null) fields through
    schema evolution keeps the same row key."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


_SPECIAL = (b"\\", SEP.encode(), NULL.encode())


def _may_hold_special(text: pa.Array | pa.ChunkedArray) -> bool:
    """False when no value can hold an escape char, separator or null marker: the string data buffers are
    searched as bytes (memchr speed; a buffer shared with values outside the array can only say "maybe",
    and escaping text that holds none changes nothing)."""
    for chunk in text.chunks if isinstance(text, pa.ChunkedArray) else [text]:
        buffers = chunk.buffers()
        data = buffers[2] if len(buffers) > 2 else None
        if data is None:
            continue
        raw = data.to_pybytes()
        if any(c in raw for c in _SPECIAL):
            return True
    return False


def _escape(text: pa.Array) -> pa.Array:
    """Make values unambiguous once joined: escape the escape char, the separator and the null marker."""
    if not _may_hold_special(text):
        return text  # the usual case: a byte search instead of three copies
    for raw, escaped in (("\\", "\\\\"), (SEP, "\\x1f"), (NULL, "\\x00")):
        text = pc.replace_substring(text, raw, escaped)
    return text


def key_strings(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Each value as a canonical string: nulls → the null marker, nested values → sorted JSON."""
    t = arr.type
    if pa.types.is_nested(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
        values = [
            None
            if v is None
            else json.dumps(_drop_nulls(v), sort_keys=True, default=str, separators=(",", ":"))
            for v in arr.to_pylist()
        ]
        return pc.fill_null(_escape(pa.array(values, pa.string())), NULL)
    if pa.types.is_timestamp(t) and t.tz:
        arr = pc.cast(arr, pa.timestamp(t.unit, tz="UTC"))
    return pc.fill_null(_escape(pc.cast(arr, pa.string())), NULL)


def key_texts(
    batch: pa.RecordBatch,
    account_id: str | pa.Array | pa.ChunkedArray,
    marketplace: pa.Array | pa.ChunkedArray,
    key_columns: Sequence[str],
) -> pa.Array:
    """The joined key text of every row (what is hashed). ``account_id``: one account for the batch, or
    one per row (``splake lake check`` recomputes the texts of stored rows of many accounts)."""
    n = batch.num_rows
    account = pa.repeat(pa.scalar(account_id, pa.string()), n) if isinstance(account_id, str) else account_id
    parts: list[pa.Array] = [key_strings(account), key_strings(marketplace)]
    for col in key_columns:
        parts.append(key_strings(batch.column(col)) if col in batch.schema.names else pa.repeat(NULL, n))
    joined = pc.binary_join_element_wise(*parts, SEP)
    return joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined


def repeat_key(first_key: str, occurrence: int) -> str:
    return hashlib.sha256(f"{first_key}#{occurrence}".encode("ascii")).hexdigest()


_THREAD = threading.local()  # per thread: the DuckDB connection row keys are hashed with


class OccurrenceCounter:
    """Numbers exact repeats of 64-bit fingerprints across the batches of one document.

    :meth:`occurrences` takes a batch of fingerprints and returns, per row, how often it was seen before
    (``None`` when no row of the batch was: the common case, decided with numpy only — a sort of the
    batch and a binary search in each level, a few hundred microseconds for 13k rows).

    The fingerprints seen are kept in levels (LSM-style, each a sorted array of distinct values, at most
    1/8 of the next one's size; the largest levels are kept as sorted chunks of ``chunk`` values with
    disjoint ranges, so a merge copies the chunks a run falls into, never the whole level at once)."""

    def __init__(self, capacity: int = 0, *, chunk: int = _CHUNK) -> None:
        del capacity  # (sized on demand)
        self._chunk = chunk  # fingerprints per chunk of a big level
        # sorted uint64 levels, largest first; each a list of chunks (ascending, disjoint value ranges)
        self._levels: list[list[np.ndarray]] = []
        self._repeats: dict[int, int] = {}
        self._distinct = 0
        # every stored fingerprint, as a hint: only the values it cannot rule out are searched in the levels
        self._bloom = BlockedBloom()

    def connection(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection for hashing: in-memory, one per thread, kept for the thread's next documents
        (opening one costs ~18 ms: per document, that was a quarter of staging a small one). The hashing
        query keeps no state in it."""
        con: duckdb.DuckDBPyConnection | None = getattr(_THREAD, "con", None)
        if con is None:
            con = _THREAD.con = duckdb.connect(config={"memory_limit": "64MB", "threads": 2})
        return con

    def close(self) -> None:
        """Nothing to release (the connection belongs to the thread); kept for callers' symmetry."""

    def __len__(self) -> int:
        return self._distinct

    def stored(self) -> list[np.ndarray]:
        """The levels, largest first, each as one sorted array (for tests and diagnostics)."""
        return [np.concatenate(level) if level else np.empty(0, np.uint64) for level in self._levels]

    def seen(self, fp: int) -> int:
        """Record ``fp``; return how many times it was seen before (0 for the first occurrence)."""
        return self.seen_many([fp])[0]

    def seen_many(self, fps: Sequence[int] | pa.Array) -> list[int]:
        arr = fps if isinstance(fps, pa.Array) else pa.array(list(fps), pa.uint64())
        occ = self.occurrences(arr)
        return [0] * len(arr) if occ is None else occ

    def _known(self, values: np.ndarray, *, ordered: bool) -> np.ndarray:
        """Boolean mask: each value already in a level (``ordered``: ``values`` is sorted). The Bloom filter
        rules out nearly all values of a batch; the rest are searched in the levels."""
        known = np.zeros(len(values), dtype=bool)
        if not self._levels:
            return known
        maybe = self._bloom.maybe(values)
        if not maybe.any():
            return known
        candidates = values[maybe]  # (a boolean mask keeps the order)
        found = np.zeros(len(candidates), dtype=bool)
        for level in self._levels:
            found |= _member(level, candidates, ordered=ordered)
        known[maybe] = found
        return known

    def _add(self, run: np.ndarray) -> None:
        """Record ``run`` (sorted, distinct, none seen before)."""
        if not len(run):
            return
        self._distinct += len(run)
        self._bloom.add(run)
        level = [run]
        while self._levels and _size(self._levels[-1]) <= _size(level) * _LEVEL_FANOUT:
            level = _merge(self._levels.pop(), level, self._chunk)
        self._levels.append(level)
        if self._bloom.full():  # sized again for what it holds (from the levels: every value once)
            del self._bloom  # (freed first: the old and the new filter are never held at once)
            self._bloom = rebuilt((c for lv in self._levels for c in lv), self._distinct)

    def occurrences(self, fps: pa.Array) -> list[int] | None:
        n = len(fps)
        if not n:
            return None
        values = _as_numpy(fps)
        ordered = np.sort(values)
        repeats_here = n > 1 and bool((ordered[1:] == ordered[:-1]).any())
        if not repeats_here and not (self._levels and self._known(ordered, ordered=True).any()):
            self._add(ordered)
            return None
        # rare: repeats in this batch. Number them in row order (Python, this batch only).
        before = self._known(values, ordered=False).tolist() if self._levels else [False] * n
        out = [0] * n
        first_here: set[int] = set()
        for pos, fp in enumerate(values.tolist()):
            if before[pos] or fp in first_here:
                k = self._repeats.get(fp, 0) + 1
                self._repeats[fp] = k
                out[pos] = k
            else:
                first_here.add(fp)
        self._add(np.array(sorted(first_here), np.uint64))
        return out


def _as_numpy(fps: pa.Array | pa.ChunkedArray) -> np.ndarray:
    arr = fps.combine_chunks() if isinstance(fps, pa.ChunkedArray) else fps
    if arr.type != pa.uint64():
        arr = arr.cast(pa.uint64())
    if arr.null_count:
        raise ValueError("row-key fingerprints must not be null")
    values: np.ndarray = arr.to_numpy(zero_copy_only=False)
    return values


_EMPTY = np.empty(0, np.uint64)


def _size(level: list[np.ndarray]) -> int:
    return sum(len(c) for c in level)


def _firsts(level: list[np.ndarray]) -> np.ndarray:
    return np.array([c[0] for c in level[1:]], np.uint64)


def _member_sorted(chunk: np.ndarray, values: np.ndarray) -> np.ndarray:
    idx = np.searchsorted(chunk, values)
    np.minimum(idx, len(chunk) - 1, out=idx)
    hit: np.ndarray = chunk[idx] == values
    return hit


def _member(level: list[np.ndarray], values: np.ndarray, *, ordered: bool) -> np.ndarray:
    """Boolean mask: each value in ``level`` (searched chunk by chunk: a chunk per value range)."""
    if len(level) == 1:
        return _member_sorted(level[0], values)
    if not ordered:
        order = np.argsort(values, kind="stable")
        mask = np.empty(len(values), dtype=bool)
        mask[order] = _member(level, values[order], ordered=True)
        return mask
    bounds = [0, *np.searchsorted(values, _firsts(level)).tolist(), len(values)]
    parts = [
        _member_sorted(c, values[lo:hi])
        for c, lo, hi in zip(level, bounds[:-1], bounds[1:], strict=True)
        if hi > lo
    ]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _merge(level: list[np.ndarray], run: list[np.ndarray], chunk: int) -> list[np.ndarray]:
    """Merge the sorted, chunked ``run`` into the sorted, chunked ``level`` (disjoint values), chunk by
    chunk: the scratch is a chunk or two, not the level. Chunks outgrowing ``2 * chunk`` are split."""
    incoming = np.concatenate(run) if len(run) > 1 else run[0]
    run.clear()
    if _size(level) + len(incoming) <= 2 * chunk:
        merged = np.concatenate([*level, incoming])
        merged.sort(kind="stable")  # two sorted runs: one linear merge pass
        level.clear()
        return [merged]
    ends = [*np.searchsorted(incoming, _firsts(level)).tolist(), len(incoming)]
    out: list[np.ndarray] = []
    lo = 0
    for i, hi in enumerate(ends):
        piece = level[i]
        if hi > lo:  # the run's values below the next chunk's first one
            part = incoming[lo:hi]
            piece = np.insert(piece, np.searchsorted(piece, part), part)
            lo = hi
        level[i] = _EMPTY  # release the old chunk as soon as it is merged
        if len(piece) > 2 * chunk:  # split (copies: a view would keep the whole piece alive)
            out += [piece[at : at + chunk].copy() for at in range(0, len(piece), chunk)]
        else:
            out.append(piece)
    return out


# The fingerprint is DuckDB's hash() of the (uniformly random) hex digest, not of the text: hash(text)
# collides for texts that differ in a few characters ('a\x1fUS\x1f10367\x1fSKU-127' and '...10369\x1fSKU-129'
# share one: 824 of 100,000 such order keys), which numbered the second as a repeat and gave it
# sha256("<other row's key>#1") instead of sha256(its text): a key that depends on another row, so a later
# document without that row stored it twice. Over digests, 4M rows gave no collision.
# (Since 2026-11-29 the fingerprint is the digest's first 8 bytes, not DuckDB's hash() of the hex digest: as
# uniform, the same whether hashlib or DuckDB made the digest, and no second hash per row.)
_KEYS_SQL = "SELECT sha256(t) AS k FROM batch"
SMALL_BATCH = 4096  # rows hashed with hashlib in Python (~0.5 µs a row) rather than by a DuckDB query
_HEX_VALUE = np.zeros(256, np.uint8)
_HEX_VALUE[np.frombuffer(b"0123456789abcdef", np.uint8)] = np.arange(16, dtype=np.uint8)


def digest_fingerprints(keys: pa.Array) -> np.ndarray:
    """The fingerprint of each key (64-char lowercase sha256 hex): its first 8 digest bytes as uint64."""
    n = len(keys)
    wide = pa.types.is_large_string(keys.type)
    offsets = np.frombuffer(keys.buffers()[1], np.int64 if wide else np.int32)[
        keys.offset : keys.offset + n + 1
    ]
    if n and (offsets[-1] - offsets[0] != 64 * n or np.any(np.diff(offsets) != 64)):
        raise ValueError("row keys must be 64-character sha256 hex digests")
    data = np.frombuffer(keys.buffers()[2], np.uint8)[offsets[0] : offsets[0] + 64 * n] if n else _NO_BYTES
    nibbles = _HEX_VALUE[data.reshape(n, 64)[:, :16]]
    digest = (nibbles[:, 0::2] << 4) | nibbles[:, 1::2]  # n x 8 bytes, big-endian
    return np.ascontiguousarray(digest).view(">u8").ravel().astype(np.uint64)


_NO_BYTES = np.zeros(0, np.uint8)


def _hashed_here(texts: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """(sha256 hex keys, fingerprints) of a small batch, by hashlib."""
    sha256 = hashlib.sha256
    digests = [sha256(t.encode()).digest() for t in texts.to_pylist()]
    fps = np.frombuffer(b"".join(d[:8] for d in digests), ">u8").astype(np.uint64)
    return pa.array([d.hex() for d in digests], pa.string()), fps


def compute_keys(texts: pa.Array, counter: OccurrenceCounter) -> pa.Array:
    """sha256 hex of each text (DuckDB, vectorised; hashlib for a small batch); exact repeats numbered
    through ``counter``."""
    if not len(texts):
        return pa.array([], pa.string())
    if len(texts) <= SMALL_BATCH:
        keys, fps = _hashed_here(texts)
    else:
        batch = pa.table({"t": texts})  # noqa: F841  (scanned by DuckDB by name)
        res = counter.connection().sql(_KEYS_SQL).to_arrow_table()
        keys = res.column("k").combine_chunks().cast(pa.string())
        # (a query giving its own "fp" is how tests and bench/keycheck_bench.py replay the released buggy
        # fingerprint of 5bb07ed..148d46c, with SMALL_BATCH = 0)
        fps = res.column("fp") if "fp" in res.column_names else digest_fingerprints(keys)
    occ = counter.occurrences(fps if isinstance(fps, pa.ChunkedArray) else pa.array(fps, pa.uint64()))
    if occ is None:
        return keys
    out = keys.to_pylist()
    for pos, n in enumerate(occ):
        if n:
            out[pos] = repeat_key(out[pos], n)
    return pa.array(out, pa.string())


def compute_row_keys(
    batch: pa.RecordBatch,
    account_id: str,
    marketplace: pa.Array,
    key_columns: Sequence[str],
    counter: OccurrenceCounter,
) -> pa.Array:
    """The row keys (version 1, see the module doc) of one batch of a document; ``counter`` is the
    document's (batches in document order)."""
    return compute_keys(key_texts(batch, account_id, marketplace, key_columns), counter)
