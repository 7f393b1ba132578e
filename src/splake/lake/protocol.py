"""What the lake's helper modules need of :class:`splake.lake.iceberg.CuratedLake` (a Protocol, so
``staging``, ``commit`` and ``maintenance`` never import ``iceberg``, which imports them: no cycle)."""

from __future__ import annotations

from typing import Protocol

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table

from splake.lake.schemacache import SchemaCache


class Lake(Protocol):
    catalog: Catalog
    namespace: str
    max_attempts: int
    schemas: SchemaCache  # schema conversions made once per (table, schema version)

    def ident(self, name: str) -> tuple[str, str]: ...

    def table_names(self) -> list[str]: ...

    def _backoff(self, attempt: int) -> None: ...

    def _evolve(self, name: str, target: pa.Schema) -> tuple[Table, pa.Schema, tuple[str, ...]]: ...

    def _drop_files(self, tbl: Table, files: list[DataFile]) -> None: ...
