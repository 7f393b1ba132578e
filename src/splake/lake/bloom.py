"""A blocked Bloom filter of 64-bit fingerprints (numpy): "certainly never seen" for nearly every value of
a batch in one gather, so the exact sorted-level search of :class:`splake.lake.rowkeys.OccurrenceCounter`
runs only for the few values it cannot rule out.

Each value sets :data:`BITS` bits in one 64-bit word: the word is chosen by the value's top 32 bits (scaled to
the number of words), the bits by its low 24 bits (the fingerprints are uniform hashes, so the two are
independent). A query is a gather
and a compare per value. False positives (a value reported as maybe seen) only cost an exact search; a
value that was added is always reported (no false negatives), whatever the fill.

The filter is sized for a number of values (:data:`BITS_PER_VALUE` bits each) and rebuilt twice as large
(from the values the caller keeps) when it holds twice that many: 1-2 bytes a value, about 0.5-4 % false
positives.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

BITS = 4  # bits set per value (in its word)
BITS_PER_VALUE = 16  # filter bits per value when it is (re)built (halved, at most, before the next rebuild)
MIN_WORDS = 1 << 10  # 8 KiB

_SIX = np.uint64(63)
_HALF = np.uint64(32)
_SHIFTS = [np.uint64(6 * i) for i in range(BITS)]
_ONE = np.uint64(1)


def _masks(values: np.ndarray) -> np.ndarray:
    """Each value's word mask: BITS bits chosen by its low 6*BITS bits."""
    mask: np.ndarray = np.left_shift(_ONE, values & _SIX)
    for shift in _SHIFTS[1:]:
        mask |= np.left_shift(_ONE, (values >> shift) & _SIX)
    return mask


class BlockedBloom:
    """Membership hints for uint64 fingerprints: :meth:`maybe` is True for every value :meth:`add`-ed (and
    for a few others)."""

    def __init__(self, capacity: int = 0) -> None:
        words = max(MIN_WORDS, -(-capacity * BITS_PER_VALUE // 64))
        self._words = np.zeros(words, np.uint64)
        self._scale = np.uint64(words)
        self._capacity = 2 * max(capacity, words * 64 // BITS_PER_VALUE)  # values before a rebuild pays
        self._count = 0

    @property
    def nbytes(self) -> int:
        return int(self._words.nbytes)

    def full(self) -> bool:
        """True once it holds more values than its size serves well (rebuild it larger with all values)."""
        return self._count > self._capacity

    def add(self, values: np.ndarray) -> None:
        """Record ``values`` (uint64; repeats allowed)."""
        if not len(values):
            return
        np.bitwise_or.at(self._words, self._index(values), _masks(values))
        self._count += len(values)

    def maybe(self, values: np.ndarray) -> np.ndarray:
        """Boolean mask: False where the value was certainly never added."""
        mask = _masks(values)
        found: np.ndarray = (self._words[self._index(values)] & mask) == mask
        return found

    def _index(self, values: np.ndarray) -> np.ndarray:
        """Each value's word: its top 32 bits scaled to the number of words (< 2**32 words: no overflow)."""
        index: np.ndarray = ((values >> _HALF) * self._scale) >> _HALF
        return index


def rebuilt(values: Iterable[np.ndarray], count: int) -> BlockedBloom:
    """A filter sized for ``count`` values holding ``values`` (arrays of uint64)."""
    bloom = BlockedBloom(count)
    for part in values:
        bloom.add(part)
    return bloom
