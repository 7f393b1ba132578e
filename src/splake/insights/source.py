"""Where mart SQL runs. A :class:`SqlSource` answers DuckDB SQL with Arrow tables and lists its tables.

- :class:`DuckDBSource` — any DuckDB connection whose tables/views are the curated tables (tests, exports).
- :func:`open_lake_source` — the curated lake of a config (``splake.lake.query.QueryEngine``).
"""

from __future__ import annotations

from typing import Any, Protocol

import pyarrow as pa


class SqlSource(Protocol):
    def sql(self, query: str) -> pa.Table: ...

    def table_names(self) -> frozenset[str]: ...


class DuckDBSource:
    """A DuckDB connection; its base tables and views are the curated tables."""

    def __init__(self, con: Any) -> None:
        self._con = con

    def sql(self, query: str) -> pa.Table:
        result: pa.Table = self._con.sql(query).to_arrow_table()
        return result

    def table_names(self) -> frozenset[str]:
        rows = self._con.execute("select table_name from information_schema.tables").fetchall()
        return frozenset(str(r[0]) for r in rows)


class LakeSource:
    """The curated lake through :class:`splake.lake.query.QueryEngine` (each table is a DuckDB view;
    views refresh when a table's snapshot changes, so a long-running server sees new syncs)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def sql(self, query: str) -> pa.Table:
        result: pa.Table = self.engine.sql(query)
        return result

    def table_names(self) -> frozenset[str]:
        return frozenset(self.engine.tables())
