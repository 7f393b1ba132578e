"""Conversions of an Iceberg table schema, made once per schema instead of once per document.

Staging a document converted the table's schema several times (Iceberg → Arrow, the sanitised file
schema, the incoming Arrow schema → Iceberg by name mapping, the Parquet statistics plan and column-path
mapping): pyiceberg visitors over every field, a fixed cost of every document that dominated small ones.
Within a table (its ``table_uuid``), a ``schema_id`` names one schema forever (evolution adds a schema under
a new id, never edits one), so each conversion is kept by (table uuid, schema id, and whatever else it
depends on: the incoming Arrow schema with its metadata, the table properties). A table dropped and
re-created has a new uuid. Values are treated as read-only by every user.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import pyarrow as pa
from pyiceberg.io.pyarrow import (
    StatisticsCollector,
    compute_statistics_plan,
    parquet_path_to_id_mapping,
    pyarrow_to_schema,
)
from pyiceberg.schema import Schema, sanitize_column_names
from pyiceberg.table.metadata import TableMetadata

T = TypeVar("T")

ENTRIES = 256  # conversions kept (a few per table and schema version)

StatsPlan = tuple[dict[int, StatisticsCollector], dict[str, int]]


def arrow_key(schema: pa.Schema) -> bytes:
    """An exact key for an Arrow schema: its IPC serialisation (names, types, nullability, metadata)."""
    return bytes(schema.serialize().to_pybytes())


class SchemaCache:
    """Bounded, thread-safe cache of schema conversions (one per lake object)."""

    def __init__(self, size: int = ENTRIES) -> None:
        self._size = size
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def _get(self, key: Hashable, make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                found: T = self._values[key]
                return found
        value = make()  # (outside the lock: a race computes the same value twice, harmlessly)
        with self._lock:
            self._values[key] = value
            while len(self._values) > self._size:
                self._values.popitem(last=False)
        return value

    @staticmethod
    def _id(meta: TableMetadata, schema: Schema) -> tuple[str, int]:
        return (str(meta.table_uuid), schema.schema_id)

    def arrow(self, meta: TableMetadata, schema: Schema) -> pa.Schema:
        """``schema.as_arrow()``."""
        return self._get(("arrow", *self._id(meta, schema)), schema.as_arrow)

    def file_schema(self, meta: TableMetadata, schema: Schema) -> Schema:
        """The schema data files are written in (column names sanitised as pyiceberg writes them)."""

        def make() -> Schema:
            sanitized = sanitize_column_names(schema)
            return sanitized if sanitized != schema else schema

        return self._get(("file", *self._id(meta, schema)), make)

    def task_schema(self, meta: TableMetadata, schema: Schema, incoming: pa.Schema) -> Schema:
        """``incoming`` as an Iceberg schema, field ids by the table schema's name mapping."""
        key = ("task", *self._id(meta, schema), meta.format_version, arrow_key(incoming))
        return self._get(
            key,
            lambda: pyarrow_to_schema(
                incoming, name_mapping=schema.name_mapping, format_version=meta.format_version
            ),
        )

    def stats_plan(self, meta: TableMetadata, schema: Schema, file_schema: Schema) -> StatsPlan:
        """The Parquet statistics plan and column-path → field-id mapping of ``file_schema`` (the one
        ``schema`` is written in) under the table's properties."""
        key = ("stats", *self._id(meta, schema), tuple(sorted(meta.properties.items())))
        return self._get(
            key,
            lambda: (
                compute_statistics_plan(file_schema, meta.properties),
                parquet_path_to_id_mapping(file_schema),
            ),
        )

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """Any other value derived from a key that names its inputs exactly (callers build the key)."""
        return self._get(("memo", key), make)
