"""The Parquet file writer of a staged data file: pyiceberg's own (same field ids, same footer statistics),
with each column's dictionary encoding chosen from the data, and the statistics plan given once."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.io.pyarrow import ParquetFormatWriter
from pyiceberg.schema import Schema
from pyiceberg.typedef import Properties

from splake.lake.parquet_stats import FooterStats, SerializedStats

# Dictionary encoding is chosen per column from a file's first row group: a column with more distinct values
# than DICTIONARY_MAX_DISTINCT of its rows (order ids, ASINs, timestamps, row keys) is written plain — the
# encoder would hash every value into a dictionary that saves nothing (the 100 MB orders file: Parquet
# writing 0.75 -> 0.61 CPU-s and 34.9 -> 30.7 MB).
DICTIONARY_MAX_DISTINCT = 0.5
ALWAYS_PLAIN = frozenset({"row_key"})  # unique by construction
DICTIONARY_SAMPLE_MIN = 5_000  # rows a first row group needs for its distinct counts to decide
# A smaller file is written plain: zstd takes the repeats a dictionary would, and a dictionary page per
# column is a fixed cost (real small documents, zstd: 21 orders rows x 87 columns 3.4 -> 2.4 ms and
# 35.3 -> 32.9 KB; 1,500 listings rows x 59 columns 4.2 -> 3.2 ms and 147 -> 134 KB; 881 inventory rows
# 2.5 -> 1.6 ms and 79 -> 75 KB).


def dictionary_columns(table: pa.Table, max_distinct: float = DICTIONARY_MAX_DISTINCT) -> list[str]:
    """The columns of ``table`` worth a dictionary: nested ones (left to the writer) and those with at most
    ``max_distinct`` distinct values per row; none in a file whose first row group is small."""
    if table.num_rows < DICTIONARY_SAMPLE_MIN:
        return []
    out = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        if name in ALWAYS_PLAIN:
            continue
        if pa.types.is_nested(column.type) or column.null_count == len(column):
            out.append(name)
            continue
        distinct = pc.count_distinct(column, mode="only_valid").as_py()
        if distinct <= max_distinct * (len(column) - column.null_count):
            out.append(name)
    return out


class ParquetWriter(ParquetFormatWriter):
    """pyiceberg's Parquet writer (same footer statistics, same field ids) choosing each column's dictionary
    encoding from the first row group (:func:`dictionary_columns`)."""

    def write(self, table: pa.Table) -> None:
        if self._writer is None:
            self._parquet_writer_kwargs["use_dictionary"] = dictionary_columns(table)
        super().write(table)


class PlannedParquetWriter(ParquetWriter):
    """pyiceberg's Parquet writer with the footer statistics computed by :class:`FooterStats` (prepared once
    per table schema, kept by the :class:`SchemaCache`) instead of derived from the schema at every close."""

    def __init__(self, output: Any, file_schema: Schema, properties: Properties, stats: FooterStats) -> None:
        super().__init__(output, file_schema, properties)
        self._stats = stats
        self._serialized: SerializedStats | None = None

    def close(self) -> Any:
        if self._serialized is not None:
            return self._serialized
        if self._writer is None or self._fos is None:
            raise ValueError("Cannot close a writer that was never written to")
        with self._fos:
            self._writer.close()
            self._serialized = self._stats.statistics(self._writer.writer.metadata)
        return self._serialized
