"""SQL over the curated tables with DuckDB.

DuckDB's iceberg extension cannot be installed offline, so every table of the namespace is registered as a
view over exactly the data files its *current snapshot* lists (``scan().plan_files()``) — never a glob of
the data directory, which would also return files that overwrites replaced. Views are refreshed before
each query when the table's metadata changed, so a query always sees exactly the live rows.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

import duckdb
import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.table import Table

from splake.errors import BadDataError
from splake.lake.damage import TableDamagedError, load_checked, plain_reason
from splake.lake.dedup import arrow_dataset
from splake.lake.location import local_file
from splake.lake.tables import normalize_type
from splake.logs import get_logger, log_event

log = get_logger(__name__)

_MISSING = re.compile(r"Table with name (\S+) does not exist", re.IGNORECASE)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class QueryEngine:
    """Every curated table of ``namespace`` as a DuckDB view of the same name."""

    def __init__(self, catalog: Catalog, namespace: str, *, threads: int | None = None) -> None:
        self.catalog = catalog
        self.namespace = namespace
        self._con = duckdb.connect(":memory:")
        if threads:
            self._con.execute(f"SET threads={int(threads)}")
        self._lock = threading.RLock()
        self._versions: dict[str, str] = {}
        self._damaged: dict[str, str] = {}

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> QueryEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def tables(self) -> list[str]:
        try:
            return sorted(ident[-1] for ident in self.catalog.list_tables(self.namespace))
        except Exception:  # namespace not created yet
            return []

    def refresh(self) -> None:
        """(Re)register views whose table changed since the last call; drop views of dropped tables.
        A damaged table (unreadable metadata, a missing manifest or data file) gets no view and is
        remembered in :meth:`damaged` — every other table stays queryable."""
        with self._lock:
            names = self.tables()
            for gone in (set(self._versions) | set(self._damaged)) - set(names):
                self._con.execute(f"DROP VIEW IF EXISTS {_quote_ident(gone)}")
                self._versions.pop(gone, None)
                self._damaged.pop(gone, None)
            for name in names:
                try:
                    tbl = self.catalog.load_table((self.namespace, name))
                    version = tbl.metadata_location
                    if self._versions.get(name) == version:
                        continue
                    tbl, uris = load_checked(self.catalog, self.namespace, name)
                    self._register(name, tbl, uris)
                except NoSuchTableError:
                    continue
                except Exception as exc:
                    reason = exc.reason if isinstance(exc, TableDamagedError) else plain_reason(exc)
                    if self._damaged.get(name) != reason:
                        log_event(log, "table_damaged", logging.WARNING, table=name, reason=reason)
                    self._damaged[name] = reason
                    self._versions.pop(name, None)
                    self._con.execute(f"DROP VIEW IF EXISTS {_quote_ident(name)}")
                    continue
                self._damaged.pop(name, None)
                self._versions[name] = version

    def damaged(self) -> dict[str, str]:
        """{table: reason} of the tables the last refresh found damaged."""
        with self._lock:
            return dict(self._damaged)

    def _register(self, name: str, tbl: Table, uris: list[str]) -> None:
        view = _quote_ident(name)
        local = [local_file(tbl.io, u) for u in uris]
        if uris and all(p is not None for p in local):
            files = ", ".join(_quote_str(p) for p in local if p is not None)
            self._con.execute(
                f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM "
                f"read_parquet([{files}], union_by_name=true, hive_partitioning=false)"
            )
            return
        schema = pa.schema([pa.field(f.name, normalize_type(f.type)) for f in tbl.schema().as_arrow()])
        rel_name = f"__splake_arrow_{name}"
        if uris:
            # remote (S3) files DuckDB cannot read offline: a lazy Arrow dataset through the table FileIO
            self._con.register(rel_name, arrow_dataset(tbl.io, uris, schema))
        else:
            self._con.register(rel_name, schema.empty_table())
        self._con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {_quote_ident(rel_name)}")

    def sql(self, query: str, params: list[Any] | dict[str, Any] | None = None) -> pa.Table:
        """Run ``query`` against the live tables and return the result as Arrow. A query touching a
        damaged table raises :class:`~splake.lake.damage.TableDamagedError` (what, which table, the fix)."""
        with self._lock:
            self.refresh()
            try:
                return self._run(query, params)
            except duckdb.IOException:
                # a data file vanished under a registered view: re-check every table, then try once more
                self._versions.clear()
                self.refresh()
                return self._run(query, params)

    def _run(self, query: str, params: list[Any] | dict[str, Any] | None) -> pa.Table:
        try:
            return self._con.sql(query, params=params).to_arrow_table()
        except duckdb.CatalogException as exc:
            m = _MISSING.search(str(exc))
            if m and m.group(1).strip('"') in self._damaged:
                name = m.group(1).strip('"')
                raise TableDamagedError(name, self._damaged[name]) from None
            available = ", ".join(self._versions) or "none yet (run a sync first)"
            what = f"unknown table {m.group(1)}" if m else str(exc).splitlines()[0]
            raise BadDataError(
                f"{what} in namespace {self.namespace!r}",
                where="QueryEngine.sql",
                hint=f"available tables: {available}",
            ) from None
        except duckdb.IOException:
            raise
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise BadDataError(
                f"query failed: {first}",
                where="QueryEngine.sql",
                hint="check the SQL (DuckDB dialect); `DESCRIBE <table>` lists a table's columns; "
                f"tables: {', '.join(self._versions) or 'none yet'}",
            ) from None
