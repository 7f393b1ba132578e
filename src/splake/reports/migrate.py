"""Bring an existing curated table up to a report type's current declaration when the change is not additive.

Most declaration changes need nothing here: a new column is added to the table on the next write (schema
evolution), and a column whose declared type changed keeps the type it is stored with (the lake casts new
values to the stored type: an existing ``float`` money column stays ``double``, a column first kept as a
string stays a string) — nothing breaks and no row changes meaning. New tables get the declared types.

A change of *row identity* is different: rows written under the old key would never be replaced by rows of
the new layout (duplicates). Those changes are migrations, run once per table under the table lock before
the next write:

- ``sales_and_traffic`` period columns: by-ASIN rows used to be dated with the (one-day) window start; they
  now carry ``start_date``/``end_date`` (the period the document aggregates) and no ``date``, and the window
  column is ``start_date``. Old documents covered exactly one day (``max_window`` was one day): an old row's
  period is ``date``..``date``. The migration adds the columns, then rewrites the old rows one
  (account, marketplace) at a time — fills the period, clears ``date`` on by-ASIN rows, recomputes the row
  keys with the new key columns — each in one overwrite (all-or-nothing, bounded memory); a crash midway
  leaves some groups to do, found again by their null ``start_date``. Done = a table property.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import AlwaysTrue, And, BooleanExpression, EqualTo, IsNull

from splake.lake.iceberg import CuratedLake
from splake.lake.tables import OccurrenceCounter, compute_row_keys
from splake.logs import get_logger, log_event
from splake.reports.types import ReportTypeSpec

log = get_logger(__name__)


@dataclass(frozen=True)
class Migration:
    report_type: str
    name: str  # also the table property ``splake.migration.<name>`` = "done" once complete
    pending_filter: Callable[[pa.Schema], BooleanExpression | None]  # rows still to migrate (None: all)
    add_columns: tuple[pa.Field, ...]  # columns the table must have first
    transform: Callable[[pa.Table], pa.Table]  # one group's rows, business-level (row keys recomputed after)


def _st_transform(rows: pa.Table) -> pa.Table:
    old = pc.is_null(rows.column("start_date"))
    by_asin = pc.and_(old, pc.equal(rows.column("section"), "by_asin"))
    day = rows.column("date")
    out = rows
    for name in ("start_date", "end_date"):
        out = out.set_column(out.column_names.index(name), name, pc.coalesce(out.column(name), day))
    return out.set_column(
        out.column_names.index("date"), "date", pc.if_else(by_asin, pa.scalar(None, pa.date32()), day)
    )


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "GET_SALES_AND_TRAFFIC_REPORT",
        "sales_and_traffic_period",
        lambda schema: IsNull(term="start_date"),
        (pa.field("start_date", pa.date32()), pa.field("end_date", pa.date32())),
        _st_transform,
    ),
)


def _rekey(rows: pa.Table, key_columns: tuple[str, ...]) -> pa.Array:
    """Row keys with the new key columns, per source document in stored order (exact repeats within one
    document are numbered as a fresh write of that document would number them)."""
    keys: list[str | None] = [None] * rows.num_rows
    groups = rows.group_by(["account_id", "source_key"], use_threads=False).aggregate([])
    for account_id, source_key in zip(
        groups.column("account_id").to_pylist(), groups.column("source_key").to_pylist(), strict=True
    ):
        mask = pc.and_(
            pc.equal(rows.column("account_id"), account_id),
            pc.equal(rows.column("source_key"), source_key)
            if source_key is not None
            else pc.is_null(rows.column("source_key")),
        )
        idx = pc.indices_nonzero(mask)
        part = rows.take(idx)
        batch = pa.RecordBatch.from_pydict({c: part.column(c).combine_chunks() for c in key_columns})
        new = compute_row_keys(
            batch,
            account_id,
            part.column("marketplace_id").combine_chunks(),
            list(key_columns),
            OccurrenceCounter(),
        )
        for pos, key in zip(idx.to_pylist(), new.to_pylist(), strict=True):
            keys[pos] = key
    return pa.array(keys, pa.string())


def _marker(m: Migration) -> str:
    return f"splake.migration.{m.name}"


def created_properties(spec: ReportTypeSpec) -> tuple[tuple[str, str], ...]:
    """Properties a report type's table is created with: its migrations done (a table created now holds
    no row of an older layout). Without them the first documents of a new table took the table lock to
    find nothing to migrate, and waited behind a committer lingering under that lock."""
    return tuple((_marker(m), "done") for m in MIGRATIONS if m.report_type == spec.name)


def may_be_pending(lake: CuratedLake, spec: ReportTypeSpec) -> bool:
    """Whether :func:`pending` needs asking (no I/O): the type declares migrations its table (in this
    process) was not seen done with."""
    return spec.table not in lake.migrated and any(m.report_type == spec.name for m in MIGRATIONS)


def pending(lake: CuratedLake, spec: ReportTypeSpec) -> list[Migration]:
    """The migrations this report type's table still needs (reads the table's properties; no lock)."""
    if not may_be_pending(lake, spec) or spec.table not in lake.table_names():
        return []
    todo = [m for m in MIGRATIONS if m.report_type == spec.name]
    props = lake.table(spec.table).properties
    left = [m for m in todo if props.get(_marker(m)) != "done"]
    if not left:  # (a marker is never taken back: asked once per table and process)
        lake.migrated.add(spec.table)
    return left


def migrate(lake: CuratedLake, spec: ReportTypeSpec) -> list[str]:
    """Run the migrations this report type's table still needs; returns the names of those that ran."""
    pending = [m for m in MIGRATIONS if m.report_type == spec.name]
    if not pending or spec.table not in lake.table_names():
        return []
    done: list[str] = []
    for m in pending:
        tbl = lake.table(spec.table)
        if tbl.properties.get(_marker(m)) == "done":
            continue
        missing = [f for f in m.add_columns if f.name not in tbl.schema().as_arrow().names]
        if missing:
            with tbl.update_schema() as upd:
                upd.union_by_name(pa.schema(missing))
            tbl = lake.table(spec.table)
        todo_filter = m.pending_filter(tbl.schema().as_arrow())
        todo = tbl.scan(
            row_filter=todo_filter if todo_filter is not None else AlwaysTrue(),
            selected_fields=("account_id", "marketplace_id"),
        ).to_arrow()
        groups = todo.group_by(["account_id", "marketplace_id"], use_threads=False).aggregate([]).to_pylist()
        rewritten = 0
        for g in groups:
            where = And(
                EqualTo(term="account_id", value=g["account_id"]),
                EqualTo(term="marketplace_id", value=g["marketplace_id"]),
            )
            tbl = lake.table(spec.table)
            rows = tbl.scan(row_filter=where).to_arrow()
            new = m.transform(rows)
            new = new.set_column(new.column_names.index("row_key"), "row_key", _rekey(new, spec.key_columns))
            target = tbl.schema().as_arrow()
            tbl.overwrite(
                new.select(target.names).cast(target),
                overwrite_filter=where,
                snapshot_properties={"splake.migration": m.name},
            )
            rewritten += new.num_rows
        with lake.table(spec.table).transaction() as tx:
            tx.set_properties({_marker(m): "done"})
        if groups:
            log_event(
                log,
                "lake_table_migrated",
                logging.WARNING,
                table=spec.table,
                migration=m.name,
                groups=len(groups),
                rows=rewritten,
            )
            done.append(m.name)
    return done
