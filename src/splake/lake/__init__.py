"""The lake: raw zone (immutable documents) + curated Iceberg tables + SQL over them.

Public API (imported lazily, so ``splake.lake.objectstore`` or ``splake.lake.raw`` don't pull in
pyiceberg/duckdb)::

    from splake.lake import (RawZone, RawRef, LocalObjectStore, open_catalog, open_glue_catalog,
                             CuratedLake, TableSpec, Provenance, ReplaceScope, WriteResult, BadRow,
                             QueryEngine)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from splake.lake.catalog import open_catalog, open_glue_catalog, open_local_catalog
    from splake.lake.iceberg import CuratedLake
    from splake.lake.objectstore import LocalObjectStore
    from splake.lake.query import QueryEngine
    from splake.lake.raw import RawDocument, RawRef, RawZone
    from splake.lake.tables import (
        PROVENANCE_COLUMNS,
        BadRow,
        Provenance,
        ReplaceScope,
        TableSpec,
        WriteResult,
    )

_WHERE = {
    "open_catalog": "catalog",
    "open_glue_catalog": "catalog",
    "open_local_catalog": "catalog",
    "CuratedLake": "iceberg",
    "LocalObjectStore": "objectstore",
    "QueryEngine": "query",
    "RawDocument": "raw",
    "RawRef": "raw",
    "RawZone": "raw",
    "PROVENANCE_COLUMNS": "tables",
    "BadRow": "tables",
    "Provenance": "tables",
    "ReplaceScope": "tables",
    "TableSpec": "tables",
    "WriteResult": "tables",
}

__all__ = [
    "PROVENANCE_COLUMNS",
    "BadRow",
    "CuratedLake",
    "LocalObjectStore",
    "Provenance",
    "QueryEngine",
    "RawDocument",
    "RawRef",
    "RawZone",
    "ReplaceScope",
    "TableSpec",
    "WriteResult",
    "open_catalog",
    "open_glue_catalog",
    "open_local_catalog",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'splake.lake' has no attribute {name!r}")
    return getattr(importlib.import_module(f"splake.lake.{module}"), name)
