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
  period is ``date``..``date``: the migration fills the period, clears ``date`` on by-ASIN rows and recomputes
  every row key with the new key columns, in one overwrite (all-or-nothing, a new Iceberg snapshot).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from splake.lake.iceberg import CuratedLake
from splake.lake.tables import OccurrenceCounter, compute_row_keys
from splake.logs import get_logger, log_event
from splake.reports.types import ReportTypeSpec

log = get_logger(__name__)


@dataclass(frozen=True)
class Migration:
    report_type: str
    name: str
    needed: Callable[[pa.Schema], bool]  # the table's current arrow schema → must it run?
    transform: Callable[[pa.Table], pa.Table]  # business-level rewrite (row keys are recomputed after)


def _st_needed(schema: pa.Schema) -> bool:
    return "start_date" not in schema.names


def _st_transform(rows: pa.Table) -> pa.Table:
    by_asin = pc.equal(rows.column("section"), "by_asin")
    day = rows.column("date")
    out = rows
    for name in ("start_date", "end_date"):
        if name in out.column_names:
            out = out.drop_columns([name])
        out = out.append_column(pa.field(name, pa.date32()), day)
    idx = out.column_names.index("date")
    return out.set_column(idx, "date", pc.if_else(by_asin, pa.scalar(None, pa.date32()), day))


MIGRATIONS: tuple[Migration, ...] = (
    Migration("GET_SALES_AND_TRAFFIC_REPORT", "sales_and_traffic_period", _st_needed, _st_transform),
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


def migrate(lake: CuratedLake, spec: ReportTypeSpec) -> list[str]:
    """Run the migrations this report type's table still needs; returns their names (empty: none)."""
    pending = [m for m in MIGRATIONS if m.report_type == spec.name]
    if not pending or spec.table not in lake.table_names():
        return []
    done: list[str] = []
    for m in pending:
        tbl = lake.table(spec.table)
        if not m.needed(tbl.schema().as_arrow()):
            continue
        rows = tbl.scan().to_arrow()
        new = m.transform(rows)
        new = new.set_column(new.column_names.index("row_key"), "row_key", _rekey(new, spec.key_columns))
        added = [f for f in new.schema if f.name not in rows.column_names]
        if added:
            with tbl.update_schema() as upd:
                upd.union_by_name(pa.schema(added))
            tbl = lake.table(spec.table)
        target = tbl.schema().as_arrow()
        new = new.select(target.names).cast(target)
        tbl.overwrite(new, snapshot_properties={"splake.migration": m.name})
        log_event(
            log, "lake_table_migrated", logging.WARNING, table=spec.table, migration=m.name, rows=new.num_rows
        )
        done.append(m.name)
    return done
