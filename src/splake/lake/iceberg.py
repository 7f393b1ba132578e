"""The curated zone: Iceberg tables written through pyiceberg (thin I/O over :mod:`splake.lake.tables`).

A write is two phases:

1. **stream** — each incoming record batch is shaped (:func:`~splake.lake.tables.prepare_batch`) and
   written to Parquet data files chunk by chunk; only file metadata stays in memory.
2. **commit** — ONE Iceberg transaction deletes what the write replaces (the scope, plus live rows
   elsewhere that carry one of the new row keys: :mod:`splake.lake.dedup`) and adds all new files. On a
   concurrent commit (``CommitFailedException``) the table is reloaded and the transaction rebuilt from
   the same files, so the replace is re-planned against what the other writer committed.

Readers therefore see either none or all of a document's rows, and a row key is never stored twice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import random
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import (
    CommitFailedException,
    NamespaceAlreadyExistsError,
    NoSuchTableError,
    TableAlreadyExistsError,
    ValidationException,
)
from pyiceberg.expressions import (
    AlwaysFalse,
    AlwaysTrue,
    And,
    BooleanExpression,
    EqualTo,
    GreaterThanOrEqual,
    In,
    LessThanOrEqual,
)
from pyiceberg.io.pyarrow import ArrowScan, _dataframe_to_data_files
from pyiceberg.manifest import DataFile
from pyiceberg.schema import assign_fresh_schema_ids
from pyiceberg.table import Table, Transaction

from splake.errors import BadDataError, ConflictError
from splake.lake import maintenance
from splake.lake.dedup import NO_MATCHES, KeyMatches, find_key_matches
from splake.lake.filters import delete_filter, literal
from splake.lake.iceberg_schema import grows, merge_schema, partition_spec, snapshot_props
from splake.lake.maintenance import TableInfo
from splake.lake.tables import (
    QUARANTINE_SCHEMA,
    QUARANTINE_SUFFIX,
    BadRow,
    DeletePlan,
    OccurrenceCounter,
    Provenance,
    ReplaceScope,
    TableSpec,
    WriteResult,
    adds_fields,
    normalize_type,
    prepare_batch,
    quarantine_batch,
    stored_schema,
)
from splake.logs import get_logger, log_event

log = get_logger(__name__)

Rows: TypeAlias = pa.Table | pa.RecordBatchReader | Iterable[pa.RecordBatch]

# We retry commits ourselves (re-planning the delete), so pyiceberg's own retry is switched off.
TABLE_PROPERTIES = {
    "commit.retry.num-retries": "0",
    "write.parquet.compression-codec": "zstd",
    # keep the metadata directory bounded (every commit writes a new metadata.json)
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "50",
}
CHUNK_ROWS = 50000  # rows buffered before a Parquet write
CHUNK_BYTES = 96 << 20


def _batches(rows: Rows) -> Iterator[pa.RecordBatch]:
    if isinstance(rows, pa.Table):
        yield from rows.to_batches(max_chunksize=CHUNK_ROWS)
    elif isinstance(rows, pa.RecordBatchReader):
        yield from rows
    else:
        for b in rows:
            if isinstance(b, pa.Table):
                yield from b.to_batches(max_chunksize=CHUNK_ROWS)
            else:
                yield b


@dataclass
class _Staged:
    files: list[DataFile]
    rows: int
    marketplaces: set[str]
    columns_added: list[str]


class CuratedLake:
    """Curated Iceberg tables of one namespace."""

    def __init__(
        self,
        catalog: Catalog,
        namespace: str,
        *,
        max_attempts: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.catalog = catalog
        self.namespace = namespace
        self.max_attempts = max_attempts
        self._sleep = sleep
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

    def _ensure_table(self, name: str, arrow_schema: pa.Schema, parts: tuple[tuple[str, str], ...]) -> Table:
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
                properties=TABLE_PROPERTIES,
            )
            log_event(log, "lake_table_created", table=f"{self.namespace}.{name}", partition=list(parts))
            return tbl
        except TableAlreadyExistsError:
            return self.catalog.load_table(ident)

    def _evolve(self, name: str, target: pa.Schema) -> tuple[Table, pa.Schema, tuple[str, ...]]:
        """Add target columns the table lacks; return the write schema aligned to the table's types."""
        for attempt in range(self.max_attempts):
            tbl = self.catalog.load_table(self.ident(name))
            current = tbl.schema()
            current_arrow = current.as_arrow()
            existing = {f.name for f in current.fields}
            changes = [
                f
                for f in target
                if f.name not in existing or adds_fields(f.type, current_arrow.field(f.name).type)
            ]
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
            table_arrow = tbl.schema().as_arrow()
            fields = []
            for f in target:
                fields.append(pa.field(f.name, normalize_type(table_arrow.field(f.name).type)))
            present = {f.name for f in fields}
            for f in table_arrow:
                if f.name not in present:
                    fields.append(pa.field(f.name, normalize_type(f.type)))
            return tbl, pa.schema(fields), tuple(f.name for f in changes)
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
        """Replace-and-add the rows of one document atomically (see the module docstring)."""
        scope = scope or ReplaceScope()
        resolved = scope.resolve(prov)
        if spec.replace == "window" and (resolved.start is None or resolved.end is None):
            raise BadDataError(
                f"table {spec.name} replaces by window but no window was given",
                where=f"report {prov.report_id}",
                hint="set Provenance.data_start/data_end or ReplaceScope(start, end)",
            )
        it = _batches(rows)
        first = next(it, None)
        incoming = first.schema if first is not None else spec.schema
        target = stored_schema(spec, incoming)
        self._ensure_table(spec.name, target, spec.partitioning())
        tbl, target, added = self._evolve(spec.name, target)
        plan = DeletePlan(
            mode=spec.replace,
            account_id=prov.account_id,
            marketplace_ids=resolved.marketplace_ids,
            window_column=spec.window_column,
            start=resolved.start,
            end=resolved.end,
        )
        batches = itertools.chain([first], it) if first is not None else iter(())
        staged = self._stage(spec, tbl, target, batches, prov)
        added = tuple(dict.fromkeys([*added, *staged.columns_added]))
        if not plan.marketplace_ids and staged.marketplaces:
            plan = dataclasses.replace(plan, marketplace_ids=tuple(sorted(staged.marketplaces)))
        props = snapshot_props(prov)
        try:
            snapshot_id, deleted, attempts, committed = self._commit(spec.name, plan, staged.files, props)
        except BaseException:
            self._drop_files(tbl, staged.files)
            raise
        written = sum(f.record_count for f in committed)
        result = WriteResult(
            table=spec.name,
            rows_written=written,
            rows_deleted=deleted,
            snapshot_id=snapshot_id,
            data_files=len(committed),
            columns_added=added,
            attempts=attempts,
            rows_superseded=staged.rows - written,
        )
        log_event(
            log,
            "lake_write",
            table=f"{self.namespace}.{spec.name}",
            report_id=prov.report_id,
            account_id=prov.account_id,
            rows=written,
            deleted=deleted,
            files=len(committed),
            attempts=attempts,
        )
        return result

    def _stage(
        self,
        spec: TableSpec,
        tbl: Table,
        target: pa.Schema,
        batches: Iterable[pa.RecordBatch],
        prov: Provenance,
    ) -> _Staged:
        counter = OccurrenceCounter()
        write_uuid = uuid.uuid4()
        file_counter = itertools.count(0)
        staged = _Staged(files=[], rows=0, marketplaces=set(), columns_added=[])
        buf: list[pa.RecordBatch] = []
        buf_rows = 0
        buf_bytes = 0
        # Parquet writes run inline, one chunk at a time: a background writer (one write in flight) was
        # tried and made peak memory grow with the document size (freed chunks stayed with the writer
        # thread's allocator), for no measurable speed on 2 cores.

        def flush() -> None:
            nonlocal buf, buf_rows, buf_bytes
            if not buf:
                return
            chunk = pa.Table.from_batches(buf, schema=target)
            buf, buf_rows, buf_bytes = [], 0, 0
            for data_file in _dataframe_to_data_files(
                table_metadata=tbl.metadata, df=chunk, io=tbl.io, write_uuid=write_uuid, counter=file_counter
            ):
                staged.files.append(data_file)

        try:
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                if grows(batch.schema, target):
                    # a column (or nested field) first appears mid-document: write what we have with the
                    # current schema, evolve the table (additive, so staged files stay valid), go on
                    flush()
                    wanted = stored_schema(spec, merge_schema(target, batch.schema))
                    tbl, target, more = self._evolve(spec.name, wanted)
                    staged.columns_added += [c for c in more if c not in staged.columns_added]
                stored = prepare_batch(spec, batch, target, prov, counter)
                staged.rows += stored.num_rows
                staged.marketplaces.update(pc.unique(stored.column("marketplace_id")).to_pylist())
                buf.append(stored)
                buf_rows += stored.num_rows
                buf_bytes += stored.nbytes
                if buf_rows >= CHUNK_ROWS or buf_bytes >= CHUNK_BYTES:
                    flush()
            flush()
        except BaseException:
            self._drop_files(tbl, staged.files)
            raise
        finally:
            counter.close()
        return staged

    def _drop_files(self, tbl: Table, files: list[DataFile]) -> None:
        for f in files:
            try:
                tbl.io.delete(f.file_path)
            except Exception:  # best effort: an orphan file is harmless (no snapshot references it)
                log_event(log, "lake_orphan_file", path=f.file_path)

    def _commit(
        self,
        name: str,
        plan: DeletePlan,
        files: list[DataFile],
        props: dict[str, str],
    ) -> tuple[int | None, int, int, list[DataFile]]:
        """Delete the replaced scope and add ``files`` in one transaction, retrying on conflicts.
        Returns (snapshot id, rows deleted, attempts, the files finally committed)."""
        last: Exception | None = None
        for attempt in range(self.max_attempts):
            tbl = self.catalog.load_table(self.ident(name))
            start = tbl.metadata.current_snapshot_id
            matches = (
                find_key_matches(tbl, [f.file_path for f in files], plan) if start is not None else NO_MATCHES
            )
            if len(matches.stale):
                files = self._drop_rows(tbl, files, matches.stale)
                log_event(log, "lake_stale_rows_skipped", table=name, rows=len(matches.stale))
            expr = delete_filter(plan, tbl.schema())
            if isinstance(expr, AlwaysFalse) and not files and not matches:
                return start, 0, attempt + 1, files
            try:
                txn = tbl.transaction()
                if matches:
                    self._rewrite_without(txn, tbl, plan, matches, props)
                if not isinstance(expr, AlwaysFalse) and start is not None:
                    with warnings.catch_warnings():  # "did not match any records" is expected
                        warnings.simplefilter("ignore", UserWarning)
                        txn.delete(expr, snapshot_properties=props)
                if files:
                    with txn.update_snapshot(snapshot_properties=props).fast_append() as app:
                        for f in files:
                            app.append_data_file(f)
                new = txn.commit_transaction()
            except (CommitFailedException, ValidationException) as exc:
                last = exc
                log_event(log, "lake_commit_retry", table=name, attempt=attempt + 1, error=str(exc)[:200])
                self._backoff(attempt)
                continue
            before = self._total(new, start)
            after = self._total(new, new.metadata.current_snapshot_id)
            added = sum(f.record_count for f in files)
            return new.metadata.current_snapshot_id, before + added - after, attempt + 1, files
        raise ConflictError(
            f"could not commit to {self.namespace}.{name} after {self.max_attempts} attempts: {last}",
            where="CuratedLake.write",
            hint="too many concurrent writers on one table; retry the sync (nothing was committed)",
        )

    def _rewrite_without(
        self, txn: Transaction, tbl: Table, plan: DeletePlan, matches: KeyMatches, props: dict[str, str]
    ) -> None:
        """Stage an overwrite that removes the live rows whose key is in ``matches.keys`` (exact: only
        the files that hold them are rewritten; candidates are pruned by marketplace and window range)."""
        schema = tbl.schema()
        row_filter: BooleanExpression = And(
            EqualTo(term="account_id", value=plan.account_id),
            In(term="marketplace_id", literals=list(matches.marketplaces)),
        )
        if plan.window_column and not matches.any_null_window and matches.window_min is not None:
            ftype = schema.find_field(plan.window_column).field_type
            row_filter = And(
                row_filter,
                And(
                    GreaterThanOrEqual(term=plan.window_column, value=literal(ftype, matches.window_min)),
                    LessThanOrEqual(
                        term=plan.window_column,
                        value=literal(ftype, matches.window_max or matches.window_min),
                    ),
                ),
            )
        drop = matches.keys
        hits = []
        for task in tbl.scan(row_filter=row_filter).plan_files():
            if matches.files is not None:
                if task.file.file_path in matches.files:
                    hits.append(task)
                continue
            with tbl.io.new_input(task.file.file_path).open() as fh:
                keys = pq.read_table(fh, columns=["row_key"]).column(0)
            if pc.any(pc.is_in(keys, value_set=drop)).as_py():
                hits.append(task)
        if not hits:
            return
        write_uuid = uuid.uuid4()
        counter = itertools.count(0)
        with txn.update_snapshot(snapshot_properties=props).overwrite() as overwrite:
            for task in hits:
                data = ArrowScan(
                    table_metadata=tbl.metadata, io=tbl.io, projected_schema=schema, row_filter=AlwaysTrue()
                ).to_table(tasks=[task])
                kept = data.filter(pc.invert(pc.is_in(data.column("row_key"), value_set=drop)))
                overwrite.delete_data_file(task.file)
                if kept.num_rows:
                    for new_file in _dataframe_to_data_files(
                        table_metadata=tbl.metadata,
                        df=kept,
                        io=tbl.io,
                        write_uuid=write_uuid,
                        counter=counter,
                    ):
                        overwrite.append_data_file(new_file)

    def _drop_rows(self, tbl: Table, files: list[DataFile], drop: pa.Array) -> list[DataFile]:
        """Rewrite staged (uncommitted) files without the rows whose key is in ``drop``."""
        out: list[DataFile] = []
        for f in files:
            with tbl.io.new_input(f.file_path).open() as fh:
                data = pq.read_table(fh)
            mask = pc.is_in(data.column("row_key"), value_set=drop)
            if not pc.any(mask).as_py():
                out.append(f)
                continue
            kept = data.filter(pc.invert(mask))
            if kept.num_rows:
                out.extend(
                    _dataframe_to_data_files(
                        table_metadata=tbl.metadata, df=kept, io=tbl.io, write_uuid=uuid.uuid4()
                    )
                )
            tbl.io.delete(f.file_path)
        return out

    @staticmethod
    def _total(tbl: Table, snapshot_id: int | None) -> int:
        snap = tbl.metadata.snapshot_by_id(snapshot_id) if snapshot_id is not None else None
        if snap is None or snap.summary is None:
            return 0
        return int(snap.summary.get("total-records") or 0)

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
        plan = DeletePlan(
            mode="key",
            account_id=prov.account_id,
            marketplace_ids=(),
            window_column=None,
            start=None,
            end=None,
        )
        try:
            self._commit_quarantine(name, plan, prov, files)
        except BaseException:
            self._drop_files(tbl, files)
            raise
        if bad_rows:
            log_event(log, "lake_quarantined", table=name, report_id=prov.report_id, rows=len(bad_rows))
        return len(bad_rows)

    def _commit_quarantine(
        self, name: str, plan: DeletePlan, prov: Provenance, files: list[DataFile]
    ) -> None:
        expr = And(
            EqualTo(term="account_id", value=prov.account_id),
            EqualTo(term="source_key", value=prov.source_key),
        )
        props = snapshot_props(prov)
        for attempt in range(self.max_attempts):
            tbl = self.catalog.load_table(self.ident(name))
            try:
                txn = tbl.transaction()
                if tbl.metadata.current_snapshot_id is not None:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", UserWarning)
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
