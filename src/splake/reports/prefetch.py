"""Run a generator one step ahead in its own thread (a bounded pipeline stage).

The flat-file ingest uses it so the next blocks are parsed and cast (Arrow kernels: the GIL is released)
while the current ones are keyed and written. Items, and the generator's exception if it raises, come out
in order; at most ``depth`` items wait in between (bounded memory). Closing the consumer (or an error in
it) stops the producer at its next item and closes the generator in its own thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

T = TypeVar("T")

_END = object()
_POLL = 0.05  # seconds between checks of the stop flag while the queue is full


class _Raised:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetch(
    items: Iterator[T], depth: int = 2, *, name: str = "splake-prefetch"
) -> Generator[T, None, None]:
    """Yield what ``items`` yields, produced by a background thread up to ``depth`` items ahead."""
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            put(_Raised(exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # in this thread: where the generator runs

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                return
            if isinstance(item, _Raised):
                raise item.exc
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()
