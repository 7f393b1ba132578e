"""export_table: CSV / Parquet / JSON lines round-trip the values (read back with independent readers)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from splake.errors import BadDataError
from splake.insights.export import export_table

TABLE = pa.table(
    {
        "day": pa.array([date(2026, 10, 1), date(2026, 10, 2)]),
        "sku": ["SKU-1", 'Größe, "L"\tÄ'],
        "units": pa.array([3, None], pa.int64()),
        "sales": [12.5, 0.1],
        "at": pa.array([datetime(2026, 10, 1, 12, tzinfo=UTC), None], pa.timestamp("us", tz="UTC")),
        "amount": pa.array([Decimal("1.10"), Decimal("-2.00")], pa.decimal128(10, 2)),
    }
)


def test_csv(tmp_path):
    out = tmp_path / "sub" / "x.csv"
    assert export_table(TABLE, "csv", out) == 2
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["sku"] for r in rows] == ["SKU-1", 'Größe, "L"\tÄ']
    assert rows[0]["units"] == "3" and rows[1]["units"] == ""
    assert rows[0]["day"] == "2026-10-01"
    assert not (tmp_path / "sub" / "x.csv.partial").exists()


def test_parquet(tmp_path):
    out = tmp_path / "x.parquet"
    export_table(TABLE, "parquet", out)
    back = pq.read_table(out)
    assert back.equals(TABLE)


def test_json_lines_to_stream():
    buf = io.BytesIO()
    export_table(TABLE, "JSON", buf)
    lines = [json.loads(x) for x in buf.getvalue().decode("utf-8").splitlines()]
    assert lines[0] == {
        "day": "2026-10-01",
        "sku": "SKU-1",
        "units": 3,
        "sales": 12.5,
        "at": "2026-10-01T12:00:00+00:00",
        "amount": "1.10",
    }
    assert lines[1]["units"] is None and lines[1]["sku"] == 'Größe, "L"\tÄ'


def test_unknown_format(tmp_path):
    with pytest.raises(BadDataError) as exc:
        export_table(TABLE, "xlsx", tmp_path / "x")
    assert "csv" in (exc.value.hint or "")
