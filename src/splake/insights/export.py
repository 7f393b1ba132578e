"""Export an Arrow table (a query or mart result) as CSV, Parquet or JSON (one object per line)."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Literal, cast

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from splake.errors import BadDataError

ExportFormat = Literal["csv", "parquet", "json"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "parquet", "json")


def _json_default(v: Any) -> Any:
    if isinstance(v, datetime | date | time):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, bytes):
        return v.hex()
    raise TypeError(f"cannot encode {type(v).__name__} as JSON")


def _write(table: pa.Table, fmt: str, sink: BinaryIO) -> None:
    if fmt == "csv":
        pacsv.write_csv(table, sink)
    elif fmt == "parquet":
        pq.write_table(table, sink)
    else:
        for batch in table.to_batches(max_chunksize=10_000):
            for row in batch.to_pylist():
                line = json.dumps(row, default=_json_default, ensure_ascii=False) + "\n"
                sink.write(line.encode("utf-8"))


def export_table(table: pa.Table, fmt: str, out: str | Path | BinaryIO | None) -> int:
    """Write ``table`` as ``fmt`` (csv | parquet | json = JSON lines) to a path, a binary stream, or
    stdout when ``out`` is None or "-". Returns the number of rows written."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise BadDataError(f"unknown export format {fmt!r}", hint="use one of: " + ", ".join(FORMATS))
    if out is None or (isinstance(out, str) and out == "-"):
        if fmt == "parquet" and sys.stdout.isatty():
            raise BadDataError("refusing to write Parquet to a terminal", hint="pass --out FILE.parquet")
        _write(table, fmt, cast(BinaryIO, sys.stdout.buffer))
        sys.stdout.buffer.flush()
    elif isinstance(out, str | Path):
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".partial")
        with tmp.open("wb") as fh:
            _write(table, fmt, fh)
        tmp.replace(path)
    else:
        _write(table, fmt, out)
    return int(table.num_rows)


def check_out(path: str | Path | None, force: bool) -> None:
    """Refuse to overwrite an existing file (``--out``) unless ``force`` (pure check, before any work)."""
    from splake.errors import ConfigError

    if path is None or str(path) == "-":
        return
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"--out {p} is a directory", hint="give a file name, e.g. --out result.csv")
    if p.exists() and not force:
        raise ConfigError(
            f"refusing to overwrite {p}: the file exists",
            where="--out",
            hint="pass --force to replace it, or choose another --out file",
        )
