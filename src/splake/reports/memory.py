"""Keeping the ingest's resident memory bounded on GB-sized documents, and its allocator cheap.

Arrow's allocator is chosen when Arrow's library loads, so :func:`configure_arrow_memory` must run before
the first ``import pyarrow`` (the CLI calls it at import; Lambdas get the same variables from the stack):

- **jemalloc** (``ARROW_DEFAULT_MEMORY_POOL``): the 1 GB orders ingest takes 24 CPU-s with it against 27-31
  with mimalloc, whose freed pages, purged at once to bound RSS, were faulted in again for every block
  (a quarter of the CPU was the kernel zeroing pages). Wheels without jemalloc fall back to mimalloc;
- **mimalloc**, when it is the one: purge freed memory at once (``MIMALLOC_PURGE_DELAY=0``), otherwise it
  keeps freed pages for a while and a streamed ingest that frees every block still shows a high peak RSS.

A user's own setting of either variable wins.

:func:`tune_gc` sets Python's cyclic garbage collector up for a process that lands many documents.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys

ARROW_MEMORY_DEFAULTS = {"ARROW_DEFAULT_MEMORY_POOL": "jemalloc", "MIMALLOC_PURGE_DELAY": "0"}


def configure_arrow_memory() -> bool:
    """Set the allocator defaults (never overriding the user's); False when Arrow is already loaded."""
    if "pyarrow.lib" in sys.modules:
        return False
    for key, value in ARROW_MEMORY_DEFAULTS.items():
        os.environ.setdefault(key, value)
    return True


# the youngest generation is collected after this many allocations (CPython's default: 700)
GC_YOUNG_THRESHOLD = 20_000


def tune_gc(*, freeze: bool = True) -> None:
    """For a process that lands many documents (``splake sync``/``demo``, the staging workers), once its
    start-up is done: what start-up loaded (modules, classes, compiled schemas; never garbage) is collected
    once and frozen, so that full collections no longer walk it, and the youngest generation is collected
    every 20,000 allocations, not 700. A sync of 300 small documents spent ~6 % of its process's CPU in the
    collector, mostly walking the same long-lived objects again. Not for library callers and test
    processes: frozen objects are never collected. ``freeze=False``: the threshold only (a staging worker:
    its heap is small, and its exit, unfrozen, would walk everything again)."""
    if freeze:
        gc.collect()
        gc.freeze()
        atexit.register(gc.unfreeze)  # the interpreter's last collections see them again (no "leaked" noise)
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)
