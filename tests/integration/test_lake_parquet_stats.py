"""splake.lake.parquet_stats.FooterStats gives exactly pyiceberg's DataFile statistics of a Parquet footer
(the expectation is pyiceberg's own data_file_statistics_from_parquet_metadata, computed here): every column
type splake writes, several row groups, nulls, long and non-ASCII text, and per-column metrics modes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyiceberg.io.pyarrow import (
    compute_statistics_plan,
    data_file_statistics_from_parquet_metadata,
    parquet_path_to_id_mapping,
    schema_to_pyarrow,
)
from pyiceberg.schema import Schema
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    ListType,
    LongType,
    NestedField,
    StringType,
    StructType,
    TimestampType,
    TimestamptzType,
)

from splake.lake.parquet_stats import FooterStats

SCHEMA = Schema(
    NestedField(1, "s", StringType()),
    NestedField(2, "long_text", StringType()),
    NestedField(3, "b", BinaryType()),
    NestedField(4, "i", IntegerType()),
    NestedField(5, "l", LongType()),
    NestedField(6, "f", FloatType()),
    NestedField(7, "d", DoubleType()),
    NestedField(8, "dec9", DecimalType(9, 2)),
    NestedField(9, "dec18", DecimalType(18, 4)),
    NestedField(10, "dec38", DecimalType(38, 6)),
    NestedField(11, "flag", BooleanType()),
    NestedField(12, "day", DateType()),
    NestedField(13, "ts", TimestampType()),
    NestedField(14, "tstz", TimestamptzType()),
    NestedField(15, "empty", StringType()),
    NestedField(
        16, "point", StructType(NestedField(17, "x", LongType()), NestedField(18, "tag", StringType()))
    ),
    NestedField(19, "tags", ListType(20, StringType())),
)


def _rows(n: int, start: int) -> dict[str, list[Any]]:
    k = range(start, start + n)
    return {
        "s": [None if i % 5 == 0 else f"v{i % 13}" for i in k],
        "long_text": [("Küche-" * 5) + str(i) if i % 3 else "\U0001f600" * 20 for i in k],
        "b": [bytes([i % 256]) * 20 for i in k],
        "i": [i - 50 for i in k],
        "l": [None if i % 7 == 0 else i * 1_000_003 for i in k],
        "f": [float("nan") if i == 3 else i / 3 for i in k],
        "d": [-i / 7 for i in k],
        "dec9": [Decimal(i) / 100 for i in k],
        "dec18": [Decimal(-i) / 10_000 for i in k],
        "dec38": [None if i % 4 == 0 else Decimal(i * 12345) / 1_000_000 for i in k],
        "flag": [i % 2 == 0 for i in k],
        "day": [date(2026, 1, 1 + i % 28) for i in k],
        "ts": [datetime(2026, 3, 1, i % 24, 0) for i in k],
        "tstz": [datetime(2025, 12, 31, 23, i % 60, tzinfo=UTC) for i in k],
        "empty": [None] * n,
        "point": [{"x": i, "tag": f"t{i}"} for i in k],
        "tags": [[f"a{i}", "b"] for i in k],
    }


PROPERTIES = [
    {},
    {"write.metadata.metrics.default": "full"},
    {"write.metadata.metrics.default": "counts", "write.metadata.metrics.column.s": "truncate(2)"},
    {"write.metadata.metrics.default": "truncate(4)", "write.metadata.metrics.column.l": "none"},
]


@pytest.mark.parametrize("props", PROPERTIES)
@pytest.mark.parametrize("decimals_as_integers", [True, False])
def test_footer_statistics_are_pyicebergs(
    props: dict[str, str], decimals_as_integers: bool, tmp_path: Path
) -> None:
    arrow_schema = schema_to_pyarrow(SCHEMA)
    table = pa.concat_tables(pa.table(_rows(40, at), schema=arrow_schema) for at in (0, 40, 80))
    path = tmp_path / f"{uuid.uuid4()}.parquet"
    pq.write_table(table, path, row_group_size=40, store_decimal_as_integer=decimals_as_integers)
    metadata = pq.read_metadata(path)
    assert metadata.num_row_groups == 3
    plan = (compute_statistics_plan(SCHEMA, props), parquet_path_to_id_mapping(SCHEMA))
    want = data_file_statistics_from_parquet_metadata(metadata, *plan).to_serialized_dict()
    got = FooterStats(plan).statistics(metadata).to_serialized_dict()
    assert got == want
    assert list(got["lower_bounds"]) == list(want["lower_bounds"])  # (same order too)
    assert got["lower_bounds"] or props.get("write.metadata.metrics.default") == "counts"


def test_an_unplanned_column_is_an_error_as_in_pyiceberg(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"s": ["a"], "other": [1]}), path)
    plan = (compute_statistics_plan(SCHEMA, {}), parquet_path_to_id_mapping(SCHEMA))
    with pytest.raises(KeyError):
        data_file_statistics_from_parquet_metadata(pq.read_metadata(path), *plan)
    with pytest.raises(KeyError):
        FooterStats(plan).statistics(pq.read_metadata(path))
