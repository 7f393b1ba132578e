"""Phase 1 of a lake write: stream a document's record batches into Parquet data files (no commit).

Each incoming batch is shaped (:func:`~splake.lake.tables.prepare_batch`) and handed to a
:class:`~splake.lake.parquet_writer.DataFileWriter` (one open Parquet file per partition, row groups
appended as they fill), so only a row group and file metadata stay in memory. A column first seen
mid-document evolves the table (additive) before the batch is written. On any error the files written so
far are deleted.
"""

from __future__ import annotations

import functools
import itertools
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.io import FileIO
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table

from splake.lake.iceberg_schema import grows, merge_schema
from splake.lake.parquet_writer import DataFileWriter
from splake.lake.protocol import Lake
from splake.lake.schemacache import arrow_key
from splake.lake.tables import OccurrenceCounter, Provenance, TableSpec, prepare_batch, stored_schema
from splake.logs import get_logger, log_event

log = get_logger(__name__)

Rows: TypeAlias = pa.Table | pa.RecordBatchReader | Iterable[pa.RecordBatch]

CHUNK_ROWS = 50000  # rows per batch when the rows come as a table


def batches_of(rows: Rows) -> Iterator[pa.RecordBatch]:
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
class StagedFiles:
    files: list[DataFile] = field(default_factory=list)
    rows: int = 0
    marketplaces: set[str] = field(default_factory=set)
    columns_added: list[str] = field(default_factory=list)


def write_files(
    lake: Lake,
    spec: TableSpec,
    tbl: Table,
    target: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    prov: Provenance,
) -> StagedFiles:
    """Write ``batches`` as Parquet data files of ``spec``'s table (uncommitted)."""
    counter = OccurrenceCounter()
    write_uuid = uuid.uuid4()
    file_counter = itertools.count(0)
    staged = StagedFiles()
    # one file per partition, row groups encoded by a writer thread (splake.lake.parquet_writer)
    writer = DataFileWriter(tbl, write_uuid=write_uuid, counter=file_counter, cache=lake.schemas)
    try:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            key = ("grows", arrow_key(batch.schema), arrow_key(target))
            if lake.schemas.memo(key, functools.partial(grows, batch.schema, target)):
                # a column (or nested field) first appears mid-document: close the files written with the
                # current schema, evolve the table (additive, so staged files stay valid), go on
                staged.files += writer.close()
                wanted = stored_schema(spec, merge_schema(target, batch.schema))
                tbl, target, more = lake._evolve(spec.name, wanted)
                staged.columns_added += [c for c in more if c not in staged.columns_added]
                writer = DataFileWriter(tbl, write_uuid=write_uuid, counter=file_counter, cache=lake.schemas)
            stored = prepare_batch(spec, batch, target, prov, counter)
            staged.rows += stored.num_rows
            staged.marketplaces.update(pc.unique(stored.column("marketplace_id")).to_pylist())
            writer.write(stored)
        staged.files += writer.close()
    except BaseException:
        writer.abort()
        drop_files(tbl.io, [f.file_path for f in staged.files])
        raise
    finally:
        counter.close()
    return staged


def drop_files(io: FileIO, paths: Sequence[str]) -> None:
    """Delete uncommitted data files (best effort: an orphan file is harmless, no snapshot references it)."""
    for path in paths:
        try:
            io.delete(path)
        except Exception:
            log_event(log, "lake_orphan_file", path=path)
