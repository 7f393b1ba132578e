"""The row-key counter's Bloom filter: never a false negative (a repeat would land as a first occurrence, with
a key of another row's text), and few false positives (each costs an exact search)."""

from __future__ import annotations

import collections
import random

import numpy as np
import pyarrow as pa
import pytest

from splake.lake import bloom
from splake.lake.bloom import BlockedBloom, rebuilt
from splake.lake.rowkeys import OccurrenceCounter


def _random(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False)


def test_every_added_value_is_reported_and_few_others() -> None:
    rng = np.random.default_rng(3)
    added = _random(rng, 200_000)
    f = BlockedBloom(len(added))
    for part in np.array_split(added, 37):
        f.add(part)
    assert f.maybe(added).all()
    assert not f.full()
    others = _random(rng, 200_000)
    assert f.maybe(others).mean() < 0.01  # 16 bits a value
    f.add(_random(rng, 200_000))  # twice what it was sized for: the most it holds before a rebuild
    assert not f.full() and f.maybe(added).all()
    assert f.maybe(others).mean() < 0.06  # 8 bits a value
    f.add(added[:1])
    assert f.full()


def test_a_rebuilt_filter_holds_the_same_values_in_more_words() -> None:
    rng = np.random.default_rng(5)
    parts = [_random(rng, n) for n in (1, 1000, 50_000)]
    small = BlockedBloom()
    for p in parts:
        small.add(p)
    assert small.full()
    big = rebuilt(parts, sum(len(p) for p in parts))
    assert big.nbytes > small.nbytes and not big.full()
    assert all(big.maybe(p).all() for p in parts)
    edges = np.array([0, 1, 2**63, 2**64 - 1], np.uint64)  # the extreme words and bits
    big.add(edges)
    assert big.maybe(edges).all()


def test_counter_numbers_repeats_exactly_when_the_filter_says_maybe_to_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A filter of 1 bit a value answers "maybe" for nearly every value: the exact level search decides."""
    monkeypatch.setattr(bloom, "BITS_PER_VALUE", 1)
    monkeypatch.setattr(bloom, "MIN_WORDS", 1)
    rng = random.Random(13)
    values = [rng.getrandbits(64) for _ in range(6_000)]
    values += rng.choices(values, k=3_000)
    rng.shuffle(values)
    counter = OccurrenceCounter(chunk=64)
    ref: collections.Counter[int] = collections.Counter()
    for lo in range(0, len(values), 389):
        batch = values[lo : lo + 389]
        expected = []
        for v in batch:
            expected.append(ref[v])
            ref[v] += 1
        assert counter.seen_many(pa.array(batch, pa.uint64())) == expected
    assert len(counter) == len(ref)
