"""The lake: raw zone (immutable documents) + curated Iceberg tables + SQL over them.

Public API::

    from splake.lake import (RawZone, RawRef, LocalObjectStore, open_catalog, open_glue_catalog,
                             CuratedLake, TableSpec, Provenance, ReplaceScope, WriteResult, BadRow,
                             QueryEngine)
"""

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
