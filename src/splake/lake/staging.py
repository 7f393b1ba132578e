"""Phase 1 of a lake write: stream a document's record batches into Parquet data files (no commit).

Each incoming batch is shaped (:func:`~splake.lake.tables.prepare_batch`) and buffered; every
``CHUNK_ROWS`` rows / ``CHUNK_BYTES`` bytes the buffer is written as Parquet (split by partition), so only
file metadata stays in memory. A column first seen mid-document evolves the table (additive) before the
batch is written. On any error the files written so far are deleted.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.io import FileIO
from pyiceberg.io.pyarrow import _dataframe_to_data_files
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table

from splake.lake.iceberg_schema import grows, merge_schema
from splake.lake.tables import OccurrenceCounter, Provenance, TableSpec, prepare_batch, stored_schema
from splake.logs import get_logger, log_event

if TYPE_CHECKING:
    from splake.lake.iceberg import CuratedLake

log = get_logger(__name__)

Rows: TypeAlias = pa.Table | pa.RecordBatchReader | Iterable[pa.RecordBatch]

CHUNK_ROWS = 50000  # rows buffered before a Parquet write
CHUNK_BYTES = 96 << 20


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
    lake: CuratedLake,
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
                tbl, target, more = lake._evolve(spec.name, wanted)
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
