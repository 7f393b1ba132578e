"""Staging a document's rows as Parquet data files of an Iceberg table, written once, streamed.

:class:`DataFileWriter` replaces pyiceberg's ``_dataframe_to_data_files`` on the ingest path (one call per
buffered chunk there meant: a new file per 50k rows, the partition values of every row grouped and the
chunk copied once per partition — even when the whole chunk is one partition, as it nearly always is —
and a thread-pool hop per file). Here:

- each batch's partition values are computed with the table's own transforms; a batch whose partition
  columns hold one value (the usual case: one account, one marketplace, one month) is routed without a
  copy, otherwise it is split by partition (a window spanning two months);
- one Parquet file is open per partition and rows are appended to it in row groups of about
  ``row_group_rows`` rows; a file is closed when it reaches ``target_file_bytes`` (Arrow bytes written),
  so a GB document lands as a few files instead of hundreds;
- files are written by pyiceberg's own Parquet writer (same field ids, same column-name sanitising, same
  table write properties, same statistics from the footer), so the DataFiles are exactly what pyiceberg
  would have produced for that content.

Memory: the buffered rows of each open partition (one row group) plus what the Parquet encoder holds for
one row group. :meth:`DataFileWriter.abort` deletes every file written so far (a failed write leaves no
orphan it knows of).
"""

from __future__ import annotations

import contextlib
import itertools
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.io.fileformat import FileFormatFactory, FileFormatWriter
from pyiceberg.io.pyarrow import (
    _to_requested_schema,
    pyarrow_to_schema,
)
from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
from pyiceberg.partitioning import PartitionFieldValue, PartitionKey
from pyiceberg.schema import Schema, sanitize_column_names
from pyiceberg.table import Table
from pyiceberg.table.locations import load_location_provider
from pyiceberg.transforms import (
    DayTransform,
    HourTransform,
    IdentityTransform,
    MonthTransform,
    YearTransform,
)
from pyiceberg.typedef import Record

from splake.lake.parquet_format import ParquetWriter, PlannedParquetWriter
from splake.lake.parquet_stats import FooterStats
from splake.lake.schemacache import SchemaCache, arrow_key

# rows per Parquet row group (per partition). A row group is held whole until written (~740 Arrow bytes a
# stored orders row: 64-char row keys, provenance): 25k rows peak 556 MB on the 1 GB ingest, 50k 617 MB.
ROW_GROUP_ROWS = 25_000
_MIXED = object()  # a batch whose rows belong to more than one partition
_MONOTONE = (IdentityTransform, YearTransform, MonthTransform, DayTransform, HourTransform)
# encode row groups in one writer thread (Arrow releases the GIL) while the next batches are shaped; at
# most one row group in flight
BACKGROUND = True
TARGET_FILE_BYTES = 512 << 20  # Arrow bytes written to one data file before it is closed
_PARQUET = FileFormatFactory.get(FileFormat.PARQUET)


@dataclass
class _OpenFile:
    path: str
    output: Any  # pyiceberg OutputFile
    writer: FileFormatWriter
    key: PartitionKey | None
    bytes_written: int = 0
    buffered: list[pa.RecordBatch] = field(default_factory=list)
    buffered_rows: int = 0


class DataFileWriter:
    """Writes stored batches (all in one arrow schema) into new data files of ``tbl``; :meth:`close` returns
    their :class:`DataFile` entries for one commit. Not thread-safe (one document, one writer)."""

    def __init__(
        self,
        tbl: Table,
        *,
        write_uuid: uuid.UUID | None = None,
        counter: itertools.count[int] | None = None,
        row_group_rows: int | None = None,
        target_file_bytes: int | None = None,
        background: bool | None = None,
        cache: SchemaCache | None = None,
    ) -> None:
        self._tbl = tbl
        self._cache = cache  # schema conversions made once per schema (else per writer)
        self._meta = tbl.metadata
        self._io = tbl.io
        self._uuid = write_uuid or uuid.uuid4()
        self._counter = counter or itertools.count(0)
        # (module settings read here, not bound as defaults: tests shrink them)
        self._row_group_rows = row_group_rows or ROW_GROUP_ROWS
        self._target_bytes = target_file_bytes or TARGET_FILE_BYTES
        self._spec = self._meta.spec()
        self._schema = self._meta.schema()
        self._file_schema: Schema
        if cache is not None:
            self._file_schema = cache.file_schema(self._meta, self._schema)
        else:
            sanitized = sanitize_column_names(self._schema)
            self._file_schema = sanitized if sanitized != self._schema else self._schema
        self._locations = load_location_provider(
            table_location=self._meta.location, table_properties=self._meta.properties
        )
        self._task_schema: Schema | None = None
        self._relabel: pa.Schema | Literal[False] | None = None  # see _to_file_schema
        self._arrow_schema: pa.Schema | None = None
        self._open: dict[tuple[Any, ...], _OpenFile] = {}
        self._done: list[DataFile] = []
        self._written: list[str] = []  # every file path created (for abort)
        self._background = BACKGROUND if background is None else background
        # (made at the first row group that is not a file's last: a small document never starts it)
        self._pool: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None

    # --- writing --------------------------------------------------------------------------------

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        if self._arrow_schema is None:
            self._arrow_schema = batch.schema
            if self._cache is not None:
                self._task_schema = self._cache.task_schema(self._meta, self._schema, batch.schema)
            else:
                self._task_schema = pyarrow_to_schema(
                    batch.schema,
                    name_mapping=self._schema.name_mapping,
                    format_version=self._meta.format_version,
                )
        elif batch.schema != self._arrow_schema:
            raise ValueError("DataFileWriter: every batch must have the schema of the first")
        for values, part in self._split(batch):
            self._append(values, part)

    def _split(self, batch: pa.RecordBatch) -> list[tuple[tuple[Any, ...], pa.RecordBatch]]:
        """(partition values, rows) pairs; the batch itself when it is one partition.

        Identity and time transforms (year/month/day/hour) are monotone, so a batch whose source column
        has no null and maps its minimum and maximum to one value is one partition: the transform runs on
        those two values only (pyiceberg's month transform of a whole batch held the GIL ~1.4 ms per 13k
        rows). Other transforms, and batches spanning partitions, transform every row."""
        if self._spec.is_unpartitioned():
            return [((), batch)]
        constant: list[Any] = []
        for pf in self._spec.fields:
            source = self._schema.find_field(pf.source_id)  # top-level (TableSpec partitions so)
            value = self._constant(pf.transform, source.field_type, batch.column(source.name))
            if value is _MIXED:
                return self._group(batch, self._transformed(batch))
            constant.append(value)
        return [(tuple(constant), batch)]

    def _transformed(self, batch: pa.RecordBatch) -> list[pa.Array]:
        columns: list[pa.Array] = []
        for pf in self._spec.fields:
            source = self._schema.find_field(pf.source_id)
            columns.append(pf.transform.pyarrow_transform(source.field_type)(batch.column(source.name)))
        return columns

    @staticmethod
    def _constant(transform: Any, field_type: Any, col: pa.Array) -> Any:
        """The one partition value of ``col`` under ``transform``, or ``_MIXED``."""
        nulls = col.null_count
        if nulls == len(col):
            return None
        if nulls:
            return _MIXED
        if isinstance(transform, _MONOTONE) and not pa.types.is_floating(col.type):  # (NaN has no order)
            lo_hi = pc.min_max(col)
            ends = pa.array([lo_hi["min"].as_py(), lo_hi["max"].as_py()], col.type)
            if not isinstance(transform, IdentityTransform):
                ends = transform.pyarrow_transform(field_type)(ends)
            lo, hi = ends[0], ends[1]
        else:
            out = transform.pyarrow_transform(field_type)(col)
            if out.null_count:
                return _MIXED
            lo_hi = pc.min_max(out)
            lo, hi = lo_hi["min"], lo_hi["max"]
        return lo.as_py() if lo == hi else _MIXED

    def _group(
        self, batch: pa.RecordBatch, columns: list[pa.Array]
    ) -> list[tuple[tuple[Any, ...], pa.RecordBatch]]:
        names = [f"p{i}" for i in range(len(columns))]
        keys = pa.table(dict(zip(names, columns, strict=True)))
        out = []
        for row in keys.group_by(names).aggregate([]).to_pylist():
            mask = None
            for name, col in zip(names, columns, strict=True):
                value = row[name]
                m = pc.is_null(col) if value is None else pc.fill_null(pc.equal(col, value), False)
                mask = m if mask is None else pc.and_(mask, m)
            out.append((tuple(row[n] for n in names), batch.filter(mask)))
        return out

    def _append(self, values: tuple[Any, ...], rows: pa.RecordBatch) -> None:
        f = self._open.get(values)
        if f is None:
            f = self._open[values] = self._new_file(values)
        f.buffered.append(rows)
        f.buffered_rows += rows.num_rows
        if f.buffered_rows >= self._row_group_rows:
            self._write_group(f)
            if f.bytes_written >= self._target_bytes:
                self._finish(values, f)

    def _new_file(self, values: tuple[Any, ...]) -> _OpenFile:
        key = None
        if not self._spec.is_unpartitioned():
            key = PartitionKey(
                field_values=[
                    PartitionFieldValue(field=pf, value=v)
                    for pf, v in zip(self._spec.fields, values, strict=True)
                ],
                partition_spec=self._spec,
                schema=self._schema,
            )
        name = f"00000-{next(self._counter)}-{self._uuid}.{_PARQUET.file_extension()}"
        path = self._locations.new_data_location(data_file_name=name, partition_key=key)
        output = self._io.new_output(path)
        writer: FileFormatWriter
        if self._cache is not None:
            plan = self._cache.stats_plan(self._meta, self._schema, self._file_schema)
            stats_key = (
                "footer",
                str(self._meta.table_uuid),
                self._schema.schema_id,
                tuple(sorted(self._meta.properties.items())),
            )
            stats = self._cache.memo(stats_key, lambda: FooterStats(plan))
            writer = PlannedParquetWriter(output, self._file_schema, self._meta.properties, stats)
        else:
            writer = ParquetWriter(output, self._file_schema, self._meta.properties)
        return _OpenFile(path=path, output=output, writer=writer, key=key)

    def _to_file_schema(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The batch in the file's arrow schema (field ids in the metadata), as pyiceberg converts it. The
        conversion is made once (per writer, or per schema pair with a :class:`SchemaCache`); when it only
        renamed or annotated fields (same types, all nullable: the usual case, the batches are already in
        the table's types; nested types always convert: their field ids live in the type) batches are
        relabelled without a copy, else each is converted."""
        if self._relabel is None:
            if self._cache is None:
                converted = self._convert(batch)
                self._relabel = self._relabel_of(batch, converted)
                return converted
            key = (
                "relabel",
                str(self._meta.table_uuid),
                self._schema.schema_id,
                self._meta.format_version,
                arrow_key(batch.schema),
            )
            self._relabel = self._cache.memo(key, lambda: self._relabel_of(batch, self._convert(batch)))
        if self._relabel is False:
            return self._convert(batch)
        return pa.RecordBatch.from_arrays(batch.columns, schema=self._relabel)

    def _convert(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        assert self._task_schema is not None
        return _to_requested_schema(
            requested_schema=self._file_schema,
            file_schema=self._task_schema,
            batch=batch,
            include_field_ids=True,
            format_model=_PARQUET,
        )

    @staticmethod
    def _relabel_of(batch: pa.RecordBatch, converted: pa.RecordBatch) -> pa.Schema | Literal[False]:
        same = (
            converted.schema.names == batch.schema.names  # (a reordering is a conversion)
            and converted.schema.types == batch.schema.types
            and all(f.nullable and not pa.types.is_nested(f.type) for f in converted.schema)
        )
        return converted.schema if same else False

    def _write_group(self, f: _OpenFile, *, last: bool = False) -> None:
        """The file's buffered rows → one row group (encoded by the writer thread unless it is the file's
        ``last``: nothing would overlap with it)."""
        if not f.buffered:
            return
        table = pa.Table.from_batches([self._to_file_schema(b) for b in f.buffered])
        f.buffered, f.buffered_rows = [], 0
        if not f.bytes_written:
            self._written.append(f.path)  # the file exists from its first row group on
        f.bytes_written += table.nbytes
        self._wait()  # at most one row group in flight (memory stays bounded), and in order
        if not self._background or last:
            f.writer.write(table)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="splake-parquet")
        self._pending = self._pool.submit(f.writer.write, table)

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()  # re-raises the writer thread's error here

    def _finish(self, values: tuple[Any, ...], f: _OpenFile) -> None:
        self._write_group(f, last=True)
        self._wait()
        del self._open[values]
        stats = f.writer.close()
        self._done.append(
            DataFile.from_args(
                content=DataFileContent.DATA,
                file_path=f.path,
                file_format=FileFormat.PARQUET,
                partition=f.key.partition if f.key is not None else Record(),
                file_size_in_bytes=len(f.output),
                sort_order_id=None,
                spec_id=self._meta.default_spec_id,
                equality_ids=None,
                key_metadata=None,
                **stats.to_serialized_dict(),
            )
        )

    def close(self) -> list[DataFile]:
        """Write what is buffered, close every file and return the DataFiles (in creation order)."""
        try:
            for values, f in list(self._open.items()):
                self._finish(values, f)
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
        return list(self._done)

    def abort(self) -> None:
        """Close and delete every file written (best effort; used when the write fails)."""
        with contextlib.suppress(Exception):  # its error is the reason we are here, or a consequence
            self._wait()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        for f in self._open.values():
            with contextlib.suppress(Exception):  # a half-written file may not close: it is deleted next
                f.writer.close()
        self._open.clear()
        for path in self._written:
            with contextlib.suppress(Exception):  # an orphan file is harmless (no snapshot references it)
                self._io.delete(path)
        self._written.clear()
        self._done.clear()
