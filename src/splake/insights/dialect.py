"""Marts are written in Trino SQL (what Athena runs) and transpiled to DuckDB for local use."""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot.errors import SqlglotError

from splake.errors import BadDataError

SOURCE_DIALECT = "trino"


@lru_cache(maxsize=256)
def to_duckdb(sql: str) -> str:
    """Transpile one Trino statement to DuckDB. Raises :class:`BadDataError` if it does not parse."""
    try:
        out = sqlglot.transpile(sql, read=SOURCE_DIALECT, write="duckdb")
    except SqlglotError as exc:
        raise BadDataError(
            f"mart SQL is not valid Trino SQL: {exc}",
            hint="marts are written in Trino/Athena SQL; fix the statement in splake/insights/marts.py",
        ) from None
    if len(out) != 1:
        raise BadDataError(f"mart SQL must be exactly one statement, got {len(out)}")
    return out[0]


def roundtrip(sql: str) -> tuple[str, str]:
    """Trino → DuckDB → Trino; returns both transpilations (raises on any error). Used by the tests
    to prove a mart stays portable between Athena and DuckDB."""
    duck = to_duckdb(sql)
    back = sqlglot.transpile(duck, read="duckdb", write=SOURCE_DIALECT)
    if len(back) != 1:
        raise BadDataError("round trip produced more than one statement")
    return duck, back[0]


def referenced_tables(sql: str) -> frozenset[str]:
    """Names of the tables a statement reads (CTE names excluded)."""
    tree = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
    ctes = {c.alias_or_name for c in tree.find_all(sqlglot.exp.CTE)}
    return frozenset(t.name for t in tree.find_all(sqlglot.exp.Table) if t.name not in ctes)


def view_ddl(name: str, sql: str, *, dialect: str = SOURCE_DIALECT, schema: str | None = None) -> str:
    """``CREATE OR REPLACE VIEW`` for a mart: ``dialect="trino"`` for Athena (Glue database ``schema``),
    ``"duckdb"`` for a local DuckDB connection whose tables are the curated tables."""
    body = sql.strip() if dialect == SOURCE_DIALECT else to_duckdb(sql)
    if dialect not in (SOURCE_DIALECT, "duckdb"):
        raise BadDataError(f"unknown dialect {dialect!r}", hint="use trino (Athena) or duckdb")
    target = f'"{schema}"."{name}"' if schema else f'"{name}"'
    return f"CREATE OR REPLACE VIEW {target} AS\n{body}"
