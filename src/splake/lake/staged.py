"""The hand-off between the two phases of a lake write: :class:`StagedWrite`.

``CuratedLake.stage`` writes a document's Parquet data files and returns a :class:`StagedWrite`;
``CuratedLake.commit_staged`` commits one or many of them (same table) in one Iceberg transaction, in this
process or in another one (``from_json(to_json())``: plain JSON types only). The data-file metadata Iceberg
needs (partition values, column statistics) travels inside the JSON, so the committer reads no footers.

``id`` (uuid4 hex) is recorded in the committed snapshot's summary (:data:`STAGED_IDS_PROPERTY`), which
makes a commit idempotent: a re-run finds its ids there and commits nothing twice.
"""

from __future__ import annotations

import base64
import uuid
from binascii import a2b_base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pyiceberg.manifest import DataFile, DataFileContent, FileFormat
from pyiceberg.typedef import Record

from splake.lake.tables import DeletePlan

STAGED_IDS_PROPERTY = "splake.staged-ids"
FORMAT = 1  # bump when the JSON shape changes incompatibly


@dataclass(frozen=True)
class StagedWrite:
    """A document's staged (uncommitted) Parquet files and what its commit replaces.

    ``staged_at``: epoch seconds when staging began (bounds the history walk of the idempotency check).
    ``data_files``: per file of ``files`` (same order), the Iceberg DataFile metadata in JSON form."""

    id: str
    table: str
    files: tuple[str, ...]
    plan: DeletePlan
    props: dict[str, str]
    rows: int
    columns_added: tuple[str, ...]
    report_id: str
    account_id: str
    staged_at: float = 0.0
    data_files: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "id": self.id,
            "table": self.table,
            "files": list(self.files),
            "plan": plan_to_json(self.plan),
            "props": dict(self.props),
            "rows": self.rows,
            "columns_added": list(self.columns_added),
            "report_id": self.report_id,
            "account_id": self.account_id,
            "staged_at": self.staged_at,
            "data_files": [dict(d) for d in self.data_files],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StagedWrite:
        if data.get("format", FORMAT) != FORMAT:
            raise ValueError(f"unsupported StagedWrite format {data.get('format')!r}")
        return cls(
            id=str(data["id"]),
            table=str(data["table"]),
            files=tuple(str(f) for f in data["files"]),
            plan=plan_from_json(data["plan"]),
            props={str(k): str(v) for k, v in data["props"].items()},
            rows=int(data["rows"]),
            columns_added=tuple(str(c) for c in data["columns_added"]),
            report_id=str(data["report_id"]),
            account_id=str(data["account_id"]),
            staged_at=float(data.get("staged_at", 0.0)),
            data_files=tuple(dict(d) for d in data.get("data_files", ())),
        )

    def to_data_files(self) -> list[DataFile]:
        return [data_file_from_json(d) for d in self.data_files]


def new_staged_id() -> str:
    return uuid.uuid4().hex


# --- DeletePlan ---------------------------------------------------------------------------------


def plan_to_json(plan: DeletePlan) -> dict[str, Any]:
    return {
        "mode": plan.mode,
        "account_id": plan.account_id,
        "marketplace_ids": list(plan.marketplace_ids),
        "window_column": plan.window_column,
        "start": plan.start.isoformat() if plan.start is not None else None,
        "end": plan.end.isoformat() if plan.end is not None else None,
    }


def plan_from_json(data: Mapping[str, Any]) -> DeletePlan:
    mode = data["mode"]
    if mode not in ("window", "snapshot", "key"):
        raise ValueError(f"unknown replace mode {mode!r}")
    return DeletePlan(
        mode=mode,
        account_id=str(data["account_id"]),
        marketplace_ids=tuple(str(m) for m in data["marketplace_ids"]),
        window_column=data.get("window_column"),
        start=datetime.fromisoformat(data["start"]) if data.get("start") else None,
        end=datetime.fromisoformat(data["end"]) if data.get("end") else None,
    )


# --- DataFile -----------------------------------------------------------------------------------


def _value_to_json(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, bytes):
        return {"b": base64.b64encode(v).decode("ascii")}
    if isinstance(v, datetime):
        return {"ts": v.isoformat()}
    if isinstance(v, date):
        return {"d": v.isoformat()}
    if isinstance(v, Decimal):
        return {"dec": str(v)}
    if isinstance(v, uuid.UUID):
        return {"u": str(v)}
    raise TypeError(f"cannot serialise partition value {v!r} ({type(v).__name__})")


def _value_from_json(v: Any) -> Any:
    if not isinstance(v, Mapping):
        return v
    [(tag, text)] = v.items()
    decoders: dict[str, Any] = {
        "b": lambda s: base64.b64decode(s),
        "ts": datetime.fromisoformat,
        "d": date.fromisoformat,
        "dec": Decimal,
        "u": uuid.UUID,
    }
    return decoders[tag](text)


def _ints(d: Mapping[int, int] | None) -> list[list[int]]:
    return [[int(k), int(n)] for k, n in (d or {}).items()]


def _bounds(d: Mapping[int, bytes] | None) -> list[list[Any]]:
    return [[int(k), base64.b64encode(b).decode("ascii")] for k, b in (d or {}).items()]


def data_file_to_json(df: DataFile) -> dict[str, Any]:
    """The metadata of a Parquet data file that an Iceberg commit records (no file I/O)."""
    if df.content != DataFileContent.DATA or df.file_format != FileFormat.PARQUET:
        raise ValueError(f"only Parquet data files can be staged, not {df.content}/{df.file_format}")
    return {
        "path": df.file_path,
        "partition": [_value_to_json(df.partition[i]) for i in range(len(df.partition))],
        "records": df.record_count,
        "size": df.file_size_in_bytes,
        "column_sizes": _ints(df.column_sizes),
        "value_counts": _ints(df.value_counts),
        "null_value_counts": _ints(df.null_value_counts),
        "nan_value_counts": _ints(df.nan_value_counts),
        "lower_bounds": _bounds(df.lower_bounds),
        "upper_bounds": _bounds(df.upper_bounds),
        "split_offsets": list(df.split_offsets) if df.split_offsets is not None else None,
        "spec_id": getattr(df, "_spec_id", None),  # set on files read from manifests only
    }


def data_file_from_json(data: Mapping[str, Any]) -> DataFile:
    def ints(key: str) -> dict[int, int]:
        return {int(k): int(n) for k, n in data.get(key) or ()}

    def bounds(key: str) -> dict[int, bytes]:
        # binascii directly: base64.b64decode's wrapper cost more than the decoding (two bounds per column
        # per file, ~36,000 for a grouped commit of 300 documents)
        return {int(k): a2b_base64(b) for k, b in data.get(key) or ()}

    offsets = data.get("split_offsets")
    df = DataFile.from_args(
        content=DataFileContent.DATA,
        file_path=str(data["path"]),
        file_format=FileFormat.PARQUET,
        partition=Record(*[_value_from_json(v) for v in data["partition"]]),
        record_count=int(data["records"]),
        file_size_in_bytes=int(data["size"]),
        column_sizes=ints("column_sizes"),
        value_counts=ints("value_counts"),
        null_value_counts=ints("null_value_counts"),
        nan_value_counts=ints("nan_value_counts"),
        lower_bounds=bounds("lower_bounds"),
        upper_bounds=bounds("upper_bounds"),
        split_offsets=[int(o) for o in offsets] if offsets is not None else None,
        sort_order_id=None,
        equality_ids=None,
        key_metadata=None,
    )
    if data.get("spec_id") is not None:
        df.spec_id = int(data["spec_id"])
    return df


def staged_ids_of(summary: Mapping[str, str] | None) -> set[str]:
    text = (summary or {}).get(STAGED_IDS_PROPERTY) or ""
    return {s for s in text.split(",") if s}


def join_ids(staged: Sequence[StagedWrite]) -> str:
    return ",".join(s.id for s in staged)
