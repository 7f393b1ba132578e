"""Keeping the ingest's resident memory bounded on GB-sized documents, and its allocator cheap.

Arrow's allocator is chosen when Arrow's library loads, so :func:`configure_arrow_memory` must run before
the first ``import pyarrow`` (the CLI calls it at import; Lambdas get the same variables from the stack):

- **jemalloc** (``ARROW_DEFAULT_MEMORY_POOL``): the 1 GB orders ingest takes 24 CPU-s with it against 27-31
  with mimalloc, whose freed pages, purged at once to bound RSS, were faulted in again for every block
  (a quarter of the CPU was the kernel zeroing pages). Wheels without jemalloc fall back to mimalloc;
- **mimalloc**, when it is the one: purge freed memory at once (``MIMALLOC_PURGE_DELAY=0``), otherwise it
  keeps freed pages for a while and a streamed ingest that frees every block still shows a high peak RSS.

A user's own setting of either variable wins.
"""

from __future__ import annotations

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
