"""Row keys a new document shares with live rows *outside* the scope it replaces.

Rule: a row key is stored once. When a new row and a live row outside the replaced scope share a key, the
one with the later window value wins (ties and rows without a window value: the new document wins).

A window replace removes the rows whose window column lies in the new document's window. A row whose key
moved (an order updated again lands in a later "by last update" window, a listing appears under another
marketplace window) would otherwise be stored twice. Before committing, the lake semi-joins the new
document's staged files with the account's live files (row_key column only, in DuckDB, spilling rather than
holding keys in Python) and deletes the matches too. The result is exact and the delete stays narrow
(only the partitions the matches live in).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
from pyiceberg.expressions import EqualTo
from pyiceberg.io import FileIO
from pyiceberg.io.pyarrow import PyArrowFileIO
from pyiceberg.table import Table

from splake.lake.location import local_file
from splake.lake.tables import DeletePlan, window_bounds_for

DUCKDB_MEMORY_LIMIT = "128MB"


@dataclass(frozen=True)
class KeyMatches:
    """``keys``: live rows to delete (the new document's version replaces them); ``marketplaces`` and
    the window range narrow that delete. ``stale``: new rows to drop because the live row with the same
    key has a *later* window value (an older document re-run must not undo a newer update)."""

    keys: pa.Array
    marketplaces: tuple[str, ...]
    window_min: date | datetime | None
    window_max: date | datetime | None
    any_null_window: bool
    stale: pa.Array
    files: frozenset[str] | None = None  # data files holding ``keys`` (None = unknown: scan candidates)

    def __bool__(self) -> bool:
        return len(self.keys) > 0


_EMPTY = pa.array([], pa.string())
NO_MATCHES = KeyMatches(_EMPTY, (), None, None, False, _EMPTY)


def arrow_dataset(io: FileIO, paths: Sequence[str], schema: pa.Schema) -> ds.Dataset:
    """A lazily scanned Arrow dataset over Iceberg data files (local or S3, through the table's FileIO);
    files missing columns/struct fields of ``schema`` read them as null."""
    if isinstance(io, PyArrowFileIO):
        scheme, netloc, _ = PyArrowFileIO.parse_location(paths[0])
        fs = io.fs_by_scheme(scheme, netloc)
        local = [local_file(io, p) or PyArrowFileIO.parse_location(p)[2] for p in paths]
        return ds.dataset(local, schema=schema, format="parquet", filesystem=fs)
    return ds.dataset(  # pragma: no cover - other FileIOs (fsspec) expose no arrow filesystem
        [p.removeprefix("file://") for p in paths], schema=schema, format="parquet"
    )


def _relation(
    con: duckdb.DuckDBPyConnection, name: str, io: FileIO, paths: Sequence[str], schema: pa.Schema
) -> None:
    """Expose data files as a DuckDB view with a ``data_file`` column (the file's URI; NULL when unknown):
    native read_parquet for local files (memory-limited, spillable), a lazy Arrow dataset for remote ones."""
    local = [local_file(io, p) for p in paths]
    cols = ", ".join('"' + f.name + '"' for f in schema)
    if all(p is not None for p in local):
        files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in local)
        con.execute(f"CREATE TEMP TABLE {name}_files (path VARCHAR, uri VARCHAR)")
        con.executemany(f"INSERT INTO {name}_files VALUES (?, ?)", list(zip(local, paths, strict=True)))
        con.execute(
            f"CREATE VIEW {name} AS SELECT {cols}, f.uri AS data_file FROM "
            f"read_parquet([{files}], union_by_name=true, hive_partitioning=false, filename=true) r "
            f"JOIN {name}_files f ON r.filename = f.path"
        )
    else:
        con.register(f"{name}_arrow", arrow_dataset(io, paths, schema))
        con.execute(f"CREATE VIEW {name} AS SELECT {cols}, NULL::VARCHAR AS data_file FROM {name}_arrow")


def covered_sql(plan: DeletePlan, window_type: pa.DataType | None) -> tuple[str, list[Any]]:
    """SQL predicate (over alias ``e``) of live rows the plan's main scope deletes anyway."""
    if plan.mode == "key" or not plan.marketplace_ids:
        return "false", []
    marks = ", ".join("?" for _ in plan.marketplace_ids)
    sql = f"e.marketplace_id IN ({marks})"
    params: list[Any] = list(plan.marketplace_ids)
    if plan.mode == "window":
        if plan.start is None or plan.end is None or not plan.window_column or window_type is None:
            return "false", []
        lo, hi = window_bounds_for(window_type, plan.start, plan.end)
        sql += " AND e.window_value >= ? AND e.window_value < ?"
        params += [lo, hi]
    return sql, params


def find_key_matches(tbl: Table, new_paths: Sequence[str], plan: DeletePlan) -> KeyMatches:
    """Live rows of ``plan.account_id`` outside the plan's scope whose row key a staged file carries."""
    if not new_paths:
        return NO_MATCHES
    live = [
        task.file.file_path
        for task in tbl.scan(row_filter=EqualTo(term="account_id", value=plan.account_id)).plan_files()
    ]
    if not live:
        return NO_MATCHES
    table_arrow = tbl.schema().as_arrow()
    fields = [
        pa.field("row_key", pa.string()),
        pa.field("account_id", pa.string()),
        pa.field("marketplace_id", pa.string()),
    ]
    window_type: pa.DataType | None = None
    if plan.window_column and plan.window_column in table_arrow.names:
        window_type = table_arrow.field(plan.window_column).type
        if pa.types.is_timestamp(window_type):
            window_type = pa.timestamp("us", tz=window_type.tz)
        fields.append(pa.field(plan.window_column, window_type))
    new_fields = [pa.field("row_key", pa.string())]
    if window_type is not None:
        new_fields.append(fields[-1])
    covered, params = covered_sql(plan, window_type)
    col = f'"{plan.window_column}"' if window_type is not None else "NULL"
    spill = tempfile.mkdtemp(prefix="splake-duckdb-")
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"SET memory_limit='{DUCKDB_MEMORY_LIMIT}'")
        con.execute(f"SET temp_directory='{spill}'")
        con.execute("SET threads=2")
        con.execute("SET preserve_insertion_order=false")
        _relation(con, "existing_rows", tbl.io, live, pa.schema(fields))
        _relation(con, "new_rows", tbl.io, list(new_paths), pa.schema(new_fields))
        con.execute(
            f"""
            CREATE TEMP TABLE matches AS
            SELECT DISTINCT e.row_key, e.marketplace_id, e.window_value, e.data_file,
                   coalesce(e.window_value > n.window_value, false) AS existing_is_newer
            FROM (SELECT row_key, account_id, marketplace_id, {col} AS window_value, data_file
                  FROM existing_rows) e
            JOIN (SELECT row_key, {col} AS window_value FROM new_rows) n ON e.row_key = n.row_key
            WHERE e.account_id = ? AND NOT coalesce(({covered}), false)
            """,
            [plan.account_id, *params],
        )
        [(n_replace, n_stale)] = con.sql(
            "SELECT count(*) FILTER (NOT existing_is_newer), count(*) FILTER (existing_is_newer) FROM matches"
        ).fetchall()
        if n_replace == 0 and n_stale == 0:
            return NO_MATCHES
        keys = con.sql("SELECT row_key FROM matches WHERE NOT existing_is_newer").to_arrow_table().column(0)
        stale = (
            con.sql("SELECT DISTINCT row_key FROM matches WHERE existing_is_newer").to_arrow_table().column(0)
        )
        [(data_files, unknown)] = con.sql(
            "SELECT list(DISTINCT data_file), count(*) FILTER (data_file IS NULL) "
            "FROM matches WHERE NOT existing_is_newer"
        ).fetchall()
        [(markets, lo, hi, nulls)] = con.sql(
            "SELECT list(DISTINCT marketplace_id ORDER BY marketplace_id), min(window_value), "
            "max(window_value), count(*) FILTER (window_value IS NULL) "
            "FROM matches WHERE NOT existing_is_newer"
        ).fetchall()
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    return KeyMatches(
        keys=keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys,
        marketplaces=tuple(markets or ()),
        window_min=lo,
        window_max=hi,
        any_null_window=bool(nulls),
        stale=stale.combine_chunks() if isinstance(stale, pa.ChunkedArray) else stale,
        files=None if unknown else frozenset(f for f in (data_files or ()) if f is not None),
    )
