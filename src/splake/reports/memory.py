"""Keeping the ingest's resident memory bounded on GB-sized documents.

Arrow's default allocator (mimalloc) keeps freed pages for a while before returning them to the OS, so a
streamed ingest that frees every block still shows a high peak RSS. Asking mimalloc to purge freed memory
at once keeps RSS close to what is actually live. The option is read when Arrow's library loads, so
:func:`configure_arrow_memory` must run before the first ``import pyarrow`` (the CLI calls it at import).
"""

from __future__ import annotations

import os
import sys

MIMALLOC_DEFAULTS = {"MIMALLOC_PURGE_DELAY": "0"}


def configure_arrow_memory() -> bool:
    """Set the allocator defaults (never overriding the user's); False when Arrow is already loaded."""
    if "pyarrow.lib" in sys.modules:
        return False
    for key, value in MIMALLOC_DEFAULTS.items():
        os.environ.setdefault(key, value)
    return True
