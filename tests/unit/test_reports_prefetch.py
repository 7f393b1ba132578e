"""The prefetch stage (splake.reports.prefetch): same items in the same order, the generator's error after
the items it yielded before it, bounded read-ahead, and a consumer that stops early stops and closes the
generator (its ``finally`` runs: files are closed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from splake.reports.prefetch import prefetch


def test_items_come_out_in_order() -> None:
    assert list(prefetch(iter(range(1000)), 3)) == list(range(1000))


def test_the_generators_error_comes_after_the_items_before_it() -> None:
    def gen() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("bad block")

    got: list[int] = []
    with pytest.raises(ValueError, match="bad block"):
        for x in prefetch(gen()):
            got.append(x)
    assert got == [1, 2]


def test_read_ahead_is_bounded() -> None:
    produced: list[int] = []

    def gen() -> Iterator[int]:
        for i in range(100):
            produced.append(i)
            yield i

    it = prefetch(gen(), 2)
    assert next(it) == 0
    time.sleep(0.3)  # give the producer every chance to run ahead
    # the consumer holds item 0; 2 wait in the queue; the producer holds one more it cannot put
    assert len(produced) <= 4
    it.close()


def test_a_consumer_that_stops_early_closes_the_generator_in_its_thread() -> None:
    closed: list[str] = []

    def gen() -> Iterator[int]:
        try:
            yield from range(10_000)
        finally:
            closed.append(threading.current_thread().name)

    it = prefetch(gen(), 2, name="producer-under-test")
    assert next(it) == 0
    it.close()  # e.g. the lake write failed
    assert closed == ["producer-under-test"]


@pytest.mark.parametrize("chunks", [0, 1, 3, 4, 9])
def test_read_ahead_gives_every_byte_and_starts_a_reader_only_past_the_inline_chunks(
    chunks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from splake.reports import decode

    started: list[str] = []

    def recorded(items: Iterator[bytes], depth: int = 2, *, name: str = "") -> Iterator[bytes]:
        started.append(name)
        return prefetch(items, depth, name=name)

    monkeypatch.setattr(decode, "prefetch", recorded)
    payload = bytes(range(256)) * (decode.CHUNK // 256) * chunks + b"tail" * (chunks > 0)
    pieces = list(decode.read_ahead(io.BytesIO(payload)))
    assert b"".join(pieces) == payload and pieces[-1] == b""
    assert all(len(p) == decode.CHUNK for p in pieces[:-2])
    assert started == (["splake-gunzip"] if len(payload) > decode.INLINE_CHUNKS * decode.CHUNK else [])
