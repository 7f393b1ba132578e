"""The curated zone: Iceberg tables written through pyiceberg (thin I/O over :mod:`splake.lake.tables`).

A write is two phases, callable separately (``stage`` → :class:`~splake.lake.staged.StagedWrite` →
``commit_staged``, possibly in another process) or together (``write``):

1. **stage** (:mod:`splake.lake.staging`) — the table's schema evolves as needed, each incoming record
   batch is shaped (:func:`~splake.lake.tables.prepare_batch`) and written to Parquet data files chunk by
   chunk; only file metadata stays in memory. Nothing is committed.
2. **commit** (:mod:`splake.lake.commit`) — ONE Iceberg transaction deletes what the documents replace
   (their scopes, plus live rows elsewhere that carry one of their row keys: :mod:`splake.lake.dedup`) and
   adds their files, with the result of committing them one by one in order. On a concurrent commit the
   table is reloaded and the transaction re-planned from the same staged files.

Readers therefore see either none or all of a document's rows, and a row key is never stored twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import random
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import (
    CommitFailedException,
    NamespaceAlreadyExistsError,
    NoSuchTableError,
    TableAlreadyExistsError,
    ValidationException,
)
from pyiceberg.expressions import And, EqualTo
from pyiceberg.io import FileIO
from pyiceberg.io.pyarrow import _dataframe_to_data_files
from pyiceberg.manifest import DataFile
from pyiceberg.schema import Schema, assign_fresh_schema_ids
from pyiceberg.table import Table
from pyiceberg.table.metadata import TableMetadata

from splake.errors import BadDataError, ConflictError
from splake.lake import maintenance
from splake.lake.commit import commit_group, committed_ids, scope_matches
from splake.lake.iceberg_schema import partition_spec, snapshot_props
from splake.lake.maintenance import TableInfo
from splake.lake.schemacache import SchemaCache, arrow_key
from splake.lake.staged import StagedWrite, data_file_to_json, new_staged_id
from splake.lake.staging import Rows, batches_of, drop_files, write_files
from splake.lake.tables import (
    QUARANTINE_SCHEMA,
    QUARANTINE_SUFFIX,
    BadRow,
    DeletePlan,
    Provenance,
    ReplaceScope,
    TableSpec,
    WriteResult,
    adds_fields,
    normalize_type,
    quarantine_batch,
    stored_schema,
)
from splake.lake.txn import transaction
from splake.logs import get_logger, log_event

log = get_logger(__name__)

# We retry commits ourselves (re-planning the delete), so pyiceberg's own retry is switched off.
TABLE_PROPERTIES = {
    "commit.retry.num-retries": "0",
    "write.parquet.compression-codec": "zstd",
    # keep the metadata directory bounded (every commit writes a new metadata.json)
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "50",
}


class CuratedLake:
    """Curated Iceberg tables of one namespace."""

    def __init__(
        self,
        catalog: Catalog,
        namespace: str,
        *,
        max_attempts: int = 8,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.catalog = catalog
        self.namespace = namespace
        self.max_attempts = max_attempts
        self._sleep = sleep
        self._clock = clock
        self.schemas = SchemaCache()
        # tables whose declared migrations are all done (splake.reports.migrate: done stays done)
        self.migrated: set[str] = set()
        with contextlib.suppress(NamespaceAlreadyExistsError):  # a concurrent creator won
            catalog.create_namespace_if_not_exists(namespace)

    # --- tables ---------------------------------------------------------------------------------

    def ident(self, name: str) -> tuple[str, str]:
        return (self.namespace, name)

    def table(self, name: str) -> Table:
        try:
            return self.catalog.load_table(self.ident(name))
        except NoSuchTableError:
            known = ", ".join(self.table_names()) or "none yet"
            raise BadDataError(
                f"no curated table {self.namespace}.{name}",
                where="CuratedLake",
                hint=f"tables in {self.namespace}: {known}; a table appears after its first sync",
            ) from None

    def table_names(self) -> list[str]:
        return sorted(ident[-1] for ident in self.catalog.list_tables(self.namespace))

    def _ensure_table(
        self,
        name: str,
        arrow_schema: pa.Schema,
        parts: tuple[tuple[str, str], ...],
        properties: tuple[tuple[str, str], ...] = (),
    ) -> Table:
        ident = self.ident(name)
        try:
            return self.catalog.load_table(ident)
        except NoSuchTableError:
            pass
        schema = assign_fresh_schema_ids(Catalog._convert_schema_if_needed(arrow_schema))
        try:
            tbl = self.catalog.create_table(
                ident,
                schema=schema,
                partition_spec=partition_spec(schema, parts),
                properties={**TABLE_PROPERTIES, **dict(properties)},
            )
            log_event(log, "lake_table_created", table=f"{self.namespace}.{name}", partition=list(parts))
            return tbl
        except TableAlreadyExistsError:
            return self.catalog.load_table(ident)

    def _evolve(
        self, name: str, target: pa.Schema, loaded: Table | None = None
    ) -> tuple[Table, pa.Schema, tuple[str, ...]]:
        """Add target columns the table lacks; return the write schema aligned to the table's types
        (``loaded``: the table as just loaded, saving the first attempt a catalog read)."""
        target_key = arrow_key(target)  # (both derivations below are kept per table schema and target)
        for attempt in range(self.max_attempts):
            tbl = loaded if attempt == 0 and loaded is not None else self.catalog.load_table(self.ident(name))
            current = tbl.schema()

            def missing(meta: TableMetadata = tbl.metadata, current: Schema = current) -> list[pa.Field]:
                current_arrow = self.schemas.arrow(meta, current)
                existing = {f.name for f in current.fields}
                return [
                    f
                    for f in target
                    if f.name not in existing or adds_fields(f.type, current_arrow.field(f.name).type)
                ]

            changes = self.schemas.memo(
                ("changes", str(tbl.metadata.table_uuid), current.schema_id, target_key), missing
            )
            if changes:
                try:
                    with tbl.update_schema() as upd:
                        upd.union_by_name(pa.schema(changes))
                except (CommitFailedException, ValidationException):
                    self._backoff(attempt)
                    continue
                except Exception as exc:  # pyiceberg refuses the change (incompatible types)
                    raise BadDataError(
                        f"cannot evolve {self.namespace}.{name} to hold columns "
                        f"{[f.name for f in changes]}: {exc}",
                        where="CuratedLake.write",
                        hint="a column changed type in the source; fix the parser/TableSpec to keep the type",
                    ) from None
                log_event(log, "lake_schema_evolved", table=name, changed=[f.name for f in changes])
                tbl = self.catalog.load_table(self.ident(name))

            def aligned(meta: TableMetadata = tbl.metadata, schema: Schema = tbl.schema()) -> pa.Schema:
                table_arrow = self.schemas.arrow(meta, schema)
                fields = []
                for f in target:
                    fields.append(pa.field(f.name, normalize_type(table_arrow.field(f.name).type)))
                present = {f.name for f in fields}
                for f in table_arrow:
                    if f.name not in present:
                        fields.append(pa.field(f.name, normalize_type(f.type)))
                return pa.schema(fields)

            key = ("aligned", str(tbl.metadata.table_uuid), tbl.schema().schema_id, target_key)
            return tbl, self.schemas.memo(key, aligned), tuple(f.name for f in changes)
        raise ConflictError(
            f"could not evolve the schema of {self.namespace}.{name} after {self.max_attempts} attempts",
            where="CuratedLake.write",
            hint="another writer keeps changing the table; retry the sync",
        )

    def _backoff(self, attempt: int) -> None:
        self._sleep(min(0.05 * (2**attempt), 2.0) * (1 + random.random()))

    # --- writing --------------------------------------------------------------------------------

    def write(
        self, spec: TableSpec, rows: Rows, prov: Provenance, scope: ReplaceScope | None = None
    ) -> WriteResult:
        """Replace-and-add the rows of one document atomically: :meth:`stage` + :meth:`commit_staged`."""
        staged = self.stage(spec, rows, prov, scope)
        try:
            [result] = self.commit_staged(spec.name, [staged])
        except BaseException:
            # not blindly: a commit whose outcome is unknown (the catalog took it, the answer was lost)
            # is recorded in the table, and then these files are the table's
            self.discard(staged)
            raise
        if result.data_files == 0:  # nothing of it was added: its files are nobody's
            drop_files(self._io(spec.name), staged.files)
        return result

    def stage(
        self, spec: TableSpec, rows: Rows, prov: Provenance, scope: ReplaceScope | None = None
    ) -> StagedWrite:
        """Phase 1: evolve the table's schema as needed and write the document's Parquet files, committing
        nothing. Commit with :meth:`commit_staged` (any process), or drop with :meth:`discard`."""
        staged_at = self._clock()
        scope = scope or ReplaceScope()
        resolved = scope.resolve(prov)
        if spec.replace == "window" and (resolved.start is None or resolved.end is None):
            raise BadDataError(
                f"table {spec.name} replaces by window but no window was given",
                where=f"report {prov.report_id}",
                hint="set Provenance.data_start/data_end or ReplaceScope(start, end)",
            )
        it = batches_of(rows)
        first = next(it, None)
        incoming = first.schema if first is not None else spec.schema
        target = self.schemas.memo(
            ("stored", arrow_key(spec.schema), arrow_key(incoming)), lambda: stored_schema(spec, incoming)
        )
        loaded = self._ensure_table(spec.name, target, spec.partitioning(), spec.properties)
        # (one catalog read per document: loading a table parses its whole metadata file)
        tbl, target, added = self._evolve(spec.name, target, loaded)
        plan = DeletePlan(
            mode=spec.replace,
            account_id=prov.account_id,
            marketplace_ids=resolved.marketplace_ids,
            window_column=spec.window_column,
            start=resolved.start,
            end=resolved.end,
        )
        batches = itertools.chain([first], it) if first is not None else iter(())
        files = write_files(self, spec, tbl, target, batches, prov)
        try:
            if not plan.marketplace_ids and files.marketplaces:
                plan = dataclasses.replace(plan, marketplace_ids=tuple(sorted(files.marketplaces)))
            return StagedWrite(
                id=new_staged_id(),
                table=spec.name,
                files=tuple(f.file_path for f in files.files),
                plan=plan,
                props=snapshot_props(prov),
                rows=files.rows,
                columns_added=tuple(dict.fromkeys([*added, *files.columns_added])),
                report_id=prov.report_id,
                account_id=prov.account_id,
                staged_at=staged_at,
                data_files=tuple(data_file_to_json(f) for f in files.files),
            )
        except BaseException:
            drop_files(tbl.io, [f.file_path for f in files.files])
            raise

    def commit_staged(self, table: str, staged: Sequence[StagedWrite]) -> list[WriteResult]:
        """Phase 2: commit staged writes of ``table`` with exactly the lake result of committing them one
        by one in list order; idempotent (writes a snapshot already records come back
        ``already_committed``). See :mod:`splake.lake.commit`."""
        results = commit_group(self, table, staged)
        for s, r in zip(staged, results, strict=True):
            log_event(
                log,
                "lake_write",
                table=f"{self.namespace}.{table}",
                report_id=s.report_id,
                account_id=s.account_id,
                rows=r.rows_written,
                deleted=r.rows_deleted,
                files=r.data_files,
                attempts=r.attempts,
                already_committed=r.already_committed,
            )
        return results

    def discard(self, staged: StagedWrite) -> None:
        """Delete a staged write's files (best effort) unless a snapshot records it as committed (then its
        files are the table's). When the table cannot be read, the files stay (orphans are harmless)."""
        try:
            tbl = self.catalog.load_table(self.ident(staged.table))
            if staged.id in committed_ids(tbl, staged.staged_at):
                return
        except Exception as exc:
            log_event(log, "lake_discard_skipped", table=staged.table, error=str(exc)[:200])
            return
        drop_files(tbl.io, staged.files)

    def _io(self, name: str) -> FileIO:
        return self.catalog.load_table(self.ident(name)).io

    def _drop_files(self, tbl: Table, files: list[DataFile]) -> None:
        drop_files(tbl.io, [f.file_path for f in files])

    # --- quarantine and status ------------------------------------------------------------------

    def quarantine(self, table_name: str, bad_rows: list[BadRow], prov: Provenance) -> int:
        """Keep unparseable source lines in ``<table>__quarantine`` with provenance. Re-quarantining
        the same source (same ``source_key``) replaces its earlier entries. Returns the rows stored."""
        name = table_name + QUARANTINE_SUFFIX
        tbl = self._ensure_table(name, QUARANTINE_SCHEMA, (("account_id", "identity"),))
        data = quarantine_batch(bad_rows, prov)
        files = (
            list(
                _dataframe_to_data_files(
                    table_metadata=tbl.metadata, df=data, io=tbl.io, write_uuid=uuid.uuid4()
                )
            )
            if bad_rows
            else []
        )
        try:
            self._commit_quarantine(name, prov, files)
        except ConflictError:  # every attempt was refused: nothing refers to the files
            self._drop_files(tbl, files)
            raise
        # (any other error may have come after the catalog took the commit: the files stay, as orphans
        # at worst, rather than deleting files a snapshot refers to)
        if bad_rows:
            log_event(log, "lake_quarantined", table=name, report_id=prov.report_id, rows=len(bad_rows))
        return len(bad_rows)

    def _commit_quarantine(self, name: str, prov: Provenance, files: list[DataFile]) -> None:
        expr = And(
            EqualTo(term="account_id", value=prov.account_id),
            EqualTo(term="source_key", value=prov.source_key),
        )
        props = snapshot_props(prov)
        for attempt in range(self.max_attempts):
            tbl = self.catalog.load_table(self.ident(name))
            try:
                txn = transaction(tbl)
                if scope_matches(tbl, expr):
                    txn.delete(expr, snapshot_properties=props)
                if files:
                    with txn.update_snapshot(snapshot_properties=props).fast_append() as app:
                        for f in files:
                            app.append_data_file(f)
                txn.commit_transaction()
                return
            except (CommitFailedException, ValidationException):
                self._backoff(attempt)
        raise ConflictError(
            f"could not commit to {self.namespace}.{name} after {self.max_attempts} attempts",
            where="CuratedLake.quarantine",
            hint="retry the sync",
        )

    # --- inspection and maintenance (splake.lake.maintenance) -----------------------------------

    def table_info(self) -> list[TableInfo]:
        """Per table: live rows, data files, snapshots kept, and the last commit (time, report, account)."""
        return maintenance.table_info(self)

    def table_stats(self) -> dict[str, int]:
        """Live row count of every table in the namespace (from the current snapshot's summary)."""
        return maintenance.table_stats(self)

    def compact(self, table_name: str, *, min_files: int = 8) -> int:
        """Merge small data files per partition (see :func:`splake.lake.maintenance.compact`)."""
        return maintenance.compact(self, table_name, min_files=min_files)

    def expire_snapshots(self, older_than: datetime, *, retain_last: int = 5) -> dict[str, int]:
        """Forget old snapshots and delete files only they referenced (:mod:`splake.lake.maintenance`)."""
        return maintenance.expire_snapshots(self, older_than, retain_last=retain_last)
