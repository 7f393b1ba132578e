"""Overlapping a document's Parquet writes with its parsing: one background writer, one write in flight.

The staging loop (parse → cast → row keys → buffer) is Python-bound; writing a buffered chunk to Parquet
(encoding, compression, statistics, file I/O) runs in Arrow's C++ code without the GIL. With one chunk
written in the background while the next one is prepared, the two overlap on two cores; at most one
chunk is in flight, so memory stays bounded (one extra chunk).

```python
with OverlappedWriter() as w:
    for chunk in chunks:
        w.submit(write_chunk, chunk)   # waits for the previous write first
    files = w.results()              # every write's result, in order (raises the first failure)
```

On an exception inside the ``with`` block the writer waits for the write in flight (so no file appears
after the caller cleaned up); :meth:`results` then returns what was written (for the cleanup).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class OverlappedWriter(Generic[T]):
    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="splake-stage-write")
        self._pending: Future[list[T]] | None = None
        self._done: list[T] = []

    def __enter__(self) -> OverlappedWriter[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _collect(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._done.extend(pending.result())

    def submit(self, fn: Callable[..., list[T]], *args: Any) -> None:
        """Run ``fn(*args)`` in the background once the previous write finished (its failure is raised
        here)."""
        self._collect()
        self._pending = self._pool.submit(fn, *args)

    def results(self) -> list[T]:
        """Wait for the write in flight; every result so far, in submission order."""
        self._collect()
        return list(self._done)

    def written(self) -> list[T]:
        """For cleanup after a failure: what was written, including the write in flight if it succeeded
        (never raises)."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            # (its failure is the one being handled, or moot: nothing was written)
            with contextlib.suppress(BaseException):
                self._done.extend(pending.result())
        return list(self._done)

    def close(self) -> None:
        self.written()
        self._pool.shutdown(wait=True)
