"""The one key pass of a group commit (DuckDB over the row-key columns; see :mod:`splake.lake.grouping`).

Reads the staged files of all members once and the account's live files once (twice when keys repeat):

- *repeated keys*: keys carried by more than one staged row, or by a live row outside the scope of the
  member that brings the key (the cases a one-by-one commit resolves with :mod:`splake.lake.dedup`); their
  rows come back as :class:`~splake.lake.grouping.KeyRow` for :func:`~splake.lake.grouping.replay`;
- *scope drops*: staged rows (other keys) a later member's scope deletes, with the first such member;
- *scope deletes*: per member, the live rows (other keys, in the files the scopes touch) it deletes first.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
from pyiceberg.table import Table

from splake.lake.dedup import DUCKDB_MEMORY_LIMIT, _relation, arrow_dataset
from splake.lake.grouping import KeyRow, Scope
from splake.lake.location import local_file


@dataclass
class GroupKeys:
    live: list[KeyRow] = field(default_factory=list)
    staged: list[KeyRow] = field(default_factory=list)
    scope_drops: dict[int, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    scope_deletes: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    overflow: bool = False  # more rows to decide one by one than ``max_rows``: nothing else was filled


def window_type_of(tbl: Table, window_column: str | None) -> pa.DataType | None:
    table_arrow = tbl.schema().as_arrow()
    if not window_column or window_column not in table_arrow.names:
        return None
    t = table_arrow.field(window_column).type
    return pa.timestamp("us", tz=t.tz) if pa.types.is_timestamp(t) else t


def _sql_type(t: pa.DataType | None) -> str:
    if t is None:
        return "VARCHAR"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    raise ValueError(f"unsupported window column type {t}")


def _staged_view(
    con: duckdb.DuckDBPyConnection, tbl: Table, members: Sequence[Sequence[str]], cols: str
) -> None:
    parts = []
    for i, paths in enumerate(members):
        if not paths:
            continue
        local = [local_file(tbl.io, p) for p in paths]
        if all(p is not None for p in local):
            files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in local)
            src = f"read_parquet([{files}], union_by_name=true, hive_partitioning=false)"
        else:
            con.register(f"staged_{i}", arrow_dataset(tbl.io, paths, _staged_schema(tbl)))
            src = f"staged_{i}"
        parts.append(f"SELECT {cols}, {i} AS member FROM {src}")
    body = " UNION ALL ".join(parts) if parts else f"SELECT {cols}, 0 AS member WHERE false"
    con.execute(f"CREATE TEMP TABLE staged AS {body}")


def _staged_schema(tbl: Table) -> pa.Schema:
    return tbl.schema().as_arrow()


def _covers(alias: str) -> str:
    return (
        f"s.account = {alias}.account_id AND s.mkt = {alias}.marketplace_id "
        f"AND (s.snap OR ({alias}.w >= s.lo AND {alias}.w < s.hi))"
    )


def _count_scope_drops(con: duckdb.DuckDBPyConnection) -> int:
    [(n,)] = con.sql(
        f"""
        SELECT count(*) FROM staged n
        WHERE EXISTS (SELECT 1 FROM scopes s WHERE s.member > n.member AND {_covers("n")})
        """
    ).fetchall()
    return int(n)


def group_key_pass(
    tbl: Table,
    members: Sequence[Sequence[str]],
    scopes: Sequence[Scope | None],
    window_column: str | None,
    live_files: Sequence[str],
    touched_files: Sequence[str],
    max_rows: int = 200_000,
) -> GroupKeys:
    """``members``: staged file paths per member (in commit order); ``live_files``: the live files of the
    group's accounts; ``touched_files``: the live files the members' scopes may delete rows from. When
    more than ``max_rows`` staged rows would come back to Python (repeated keys, rows a later scope
    drops), returns ``overflow`` instead (bounded memory; the caller commits such a group one by one)."""
    wtype = window_type_of(tbl, window_column)
    wcol = f'"{window_column}"' if wtype is not None else "NULL"
    key_cols = f"row_key, account_id, marketplace_id, {wcol} AS w"
    out = GroupKeys()
    spill = tempfile.mkdtemp(prefix="splake-duckdb-")
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"SET memory_limit='{DUCKDB_MEMORY_LIMIT}'")
        con.execute(f"SET temp_directory='{spill}'")
        con.execute("SET threads=2")
        con.execute("SET preserve_insertion_order=false")
        con.execute("SET TimeZone='UTC'")
        sql_type = _sql_type(wtype)
        con.execute(
            f"CREATE TEMP TABLE scopes (member INTEGER, account VARCHAR, mkt VARCHAR, snap BOOLEAN, "
            f"lo {sql_type}, hi {sql_type})"
        )
        rows = [
            (s.member, s.account, m, s.snapshot, s.lo, s.hi)
            for s in scopes
            if s is not None
            for m in s.markets
        ]
        if rows:
            con.executemany("INSERT INTO scopes VALUES (?, ?, ?, ?, ?, ?)", rows)
        _staged_view(con, tbl, members, key_cols)
        con.execute(
            "CREATE TEMP TABLE repeated AS SELECT row_key FROM staged GROUP BY row_key HAVING count(*) > 1"
        )
        fields = [
            pa.field("row_key", pa.string()),
            pa.field("account_id", pa.string()),
            pa.field("marketplace_id", pa.string()),
        ]
        if wtype is not None:
            fields.append(pa.field(str(window_column), wtype))
        if live_files:
            _relation(con, "live_rows", tbl.io, live_files, pa.schema(fields))
            con.execute(
                f"""
                INSERT INTO repeated
                SELECT DISTINCT e.row_key
                FROM (SELECT {key_cols} FROM live_rows) e JOIN staged n ON e.row_key = n.row_key
                WHERE e.account_id = n.account_id
                  AND NOT EXISTS (SELECT 1 FROM scopes s WHERE s.member = n.member AND {_covers("e")})
                """
            )
        con.execute("CREATE TEMP TABLE keys AS SELECT DISTINCT row_key FROM repeated")
        [(n_keys,)] = con.sql("SELECT count(*) FROM keys").fetchall()
        if n_keys > max_rows or (rows and _count_scope_drops(con) + n_keys > max_rows):
            out.overflow = True
            return out
        if n_keys:
            out.staged = [
                KeyRow(k, a, m, w, member=i)
                for k, a, m, w, i in con.sql(
                    "SELECT row_key, account_id, marketplace_id, w, member FROM staged "
                    "WHERE row_key IN (SELECT row_key FROM keys) ORDER BY member"
                ).fetchall()
            ]
            if live_files:
                out.live = [
                    KeyRow(k, a, m, w, data_file=f)
                    for k, a, m, w, f in con.sql(
                        f"SELECT {key_cols}, data_file FROM live_rows "
                        "WHERE row_key IN (SELECT row_key FROM keys)"
                    ).fetchall()
                ]
        if rows:
            for member, key, by in con.sql(
                f"""
                SELECT n.member, n.row_key, min(s.member)
                FROM staged n JOIN scopes s ON s.member > n.member AND {_covers("n")}
                WHERE n.row_key NOT IN (SELECT row_key FROM keys)
                GROUP BY n.member, n.row_key
                """
            ).fetchall():
                out.scope_drops[member][key] = by
            if touched_files:
                _relation(con, "touched_rows", tbl.io, touched_files, pa.schema(fields))
                for by, n in con.sql(
                    f"""
                    SELECT first_member, count(*) FROM (
                        SELECT min(s.member) AS first_member
                        FROM (SELECT {key_cols} FROM touched_rows) e JOIN scopes s ON {_covers("e")}
                        WHERE e.row_key NOT IN (SELECT row_key FROM keys)
                        GROUP BY e.row_key
                    ) GROUP BY first_member
                    """
                ).fetchall():
                    out.scope_deletes[by] = n
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    return out
