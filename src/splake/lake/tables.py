"""Curated-table declarations and the pure decisions of a lake write.

Everything here is data or a pure function (no catalog, no files):

- :class:`TableSpec` declares a curated table (business columns, key columns, replace mode, partitioning).
- :class:`Provenance` says where a batch of rows came from; :class:`ReplaceScope` narrows what it replaces.
- :func:`prepare_batch` turns a business record batch into the stored shape: casts to the declared types,
  downcasts nanosecond timestamps, adds the provenance columns and the deterministic ``row_key``.
- row keys (:func:`compute_row_keys`, :class:`OccurrenceCounter`) live in :mod:`splake.lake.rowkeys`.

The I/O side (pyiceberg transactions) lives in :mod:`splake.lake.iceberg`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from splake.errors import BadDataError

# re-exported: callers build one counter per document and pass it to prepare_batch
from splake.lake.rowkeys import OccurrenceCounter as OccurrenceCounter
from splake.lake.rowkeys import compute_row_keys as compute_row_keys

ReplaceMode = Literal["window", "snapshot", "key"]
REPLACE_MODES: tuple[str, ...] = ("window", "snapshot", "key")
TRANSFORMS: tuple[str, ...] = ("identity", "year", "month", "day", "hour")

# Provenance columns the lake adds to every curated row, in storage order.
PROVENANCE_FIELDS: tuple[pa.Field, ...] = (
    pa.field("account_id", pa.string()),
    pa.field("marketplace_id", pa.string()),
    pa.field("report_id", pa.string()),
    pa.field("data_start", pa.timestamp("us", tz="UTC")),
    pa.field("data_end", pa.timestamp("us", tz="UTC")),
    pa.field("ingested_at", pa.timestamp("us", tz="UTC")),
    pa.field("source_key", pa.string()),
    pa.field("row_key", pa.string()),
)
PROVENANCE_COLUMNS: tuple[str, ...] = tuple(f.name for f in PROVENANCE_FIELDS)

# Columns of every ``<table>__quarantine`` table.
QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("line_number", pa.int64()),
        pa.field("raw_line", pa.string()),
        pa.field("reason", pa.string()),
        *[f for f in PROVENANCE_FIELDS if f.name != "row_key"],
    ]
)
QUARANTINE_SUFFIX = "__quarantine"


@dataclass(frozen=True)
class TableSpec:
    """A curated table, declared as data.

    - ``schema``: arrow schema of the business columns (snake_case). Columns that later appear in the
      rows but not here are added to the table (schema evolution); declared columns missing from the
      rows are stored as null.
    - ``key_columns``: columns identifying a row (with account and marketplace). Empty = all business
      columns of the row (exact-duplicate rows are then told apart by their occurrence index).
    - ``replace``: ``"window"`` — rows of this account + marketplaces whose ``window_column`` lies in the
      scope's [start, end) are replaced; ``"snapshot"`` — all rows of this account + marketplaces are
      replaced; ``"key"`` — rows with the same row key are replaced. In every mode a new row whose key
      already exists outside the replaced scope replaces it too, so re-ingesting never duplicates.
    - ``partition_by``: ``(column, transform)`` pairs, transform in identity/year/month/day/hour. ``None``
      = identity(account_id), identity(marketplace_id) and month(window_column) when there is one.
    """

    name: str
    schema: pa.Schema
    key_columns: tuple[str, ...] = ()
    replace: ReplaceMode = "key"
    window_column: str | None = None
    partition_by: tuple[tuple[str, str], ...] | None = None
    description: str = ""
    properties: tuple[tuple[str, str], ...] = ()  # Iceberg table properties set when the table is created

    def __post_init__(self) -> None:
        where = f"TableSpec {self.name!r}"
        if not self.name or not self.name.replace("_", "a").isalnum() or self.name != self.name.lower():
            raise BadDataError(
                f"table name {self.name!r} is not snake_case", where=where, hint="use [a-z0-9_]"
            )
        if self.replace not in REPLACE_MODES:
            raise BadDataError(
                f"unknown replace mode {self.replace!r}",
                where=where,
                hint=f"use one of {', '.join(REPLACE_MODES)}",
            )
        names = set(self.schema.names)
        clash = names & (set(PROVENANCE_COLUMNS) - {"marketplace_id"})
        if clash:
            raise BadDataError(
                f"business columns {sorted(clash)} clash with provenance columns",
                where=where,
                hint="rename them (e.g. prefix with the report's name)",
            )
        missing = [k for k in self.key_columns if k not in names]
        if missing:
            raise BadDataError(
                f"key columns {missing} are not in the schema", where=where, hint="declare them"
            )
        if self.replace == "window":
            if not self.window_column:
                raise BadDataError(
                    "replace='window' needs window_column", where=where, hint="name the date column"
                )
            if self.window_column not in names:
                raise BadDataError(
                    f"window column {self.window_column!r} is not in the schema",
                    where=where,
                    hint="declare it",
                )
            wtype = self.schema.field(self.window_column).type
            if not (pa.types.is_timestamp(wtype) or pa.types.is_date(wtype)):
                raise BadDataError(
                    f"window column {self.window_column!r} has type {wtype}, not a date/timestamp",
                    where=where,
                    hint="parse it to date32 or timestamp('us', tz='UTC')",
                )
        for col, transform in self.partitioning():
            if transform not in TRANSFORMS:
                raise BadDataError(
                    f"unknown partition transform {transform!r}", where=where, hint=f"use one of {TRANSFORMS}"
                )
            if col not in names and col not in PROVENANCE_COLUMNS:
                raise BadDataError(
                    f"partition column {col!r} is not a column", where=where, hint="declare it"
                )

    def partitioning(self) -> tuple[tuple[str, str], ...]:
        if self.partition_by is not None:
            return self.partition_by
        parts: list[tuple[str, str]] = [("account_id", "identity"), ("marketplace_id", "identity")]
        if self.window_column and self.window_column in self.schema.names:
            parts.append((self.window_column, "month"))
        return tuple(parts)


@dataclass(frozen=True)
class Provenance:
    """Where rows came from. ``marketplace_id`` fills rows that carry no ``marketplace_id`` column
    (single-marketplace documents); ``marketplace_ids`` are the marketplaces the document covers
    (default scope of a replace). ``report_id`` may be any source id (e.g. an API call id)."""

    account_id: str
    report_id: str
    source_key: str
    ingested_at: datetime
    data_start: datetime | None = None
    data_end: datetime | None = None
    marketplace_id: str | None = None
    marketplace_ids: tuple[str, ...] = ()

    def scope_marketplaces(self) -> tuple[str, ...]:
        if self.marketplace_ids:
            return self.marketplace_ids
        return (self.marketplace_id,) if self.marketplace_id else ()


@dataclass(frozen=True)
class ReplaceScope:
    """Narrows a replace. ``None``/empty fields default to the provenance's window and marketplaces."""

    start: datetime | date | None = None
    end: datetime | date | None = None
    marketplace_ids: tuple[str, ...] = ()

    @classmethod
    def window(
        cls, start: datetime | date, end: datetime | date, marketplace_ids: Sequence[str] = ()
    ) -> ReplaceScope:
        return cls(start=start, end=end, marketplace_ids=tuple(marketplace_ids))

    def resolve(self, prov: Provenance) -> ResolvedScope:
        return ResolvedScope(
            start=_as_utc(self.start if self.start is not None else prov.data_start),
            end=_as_utc(self.end if self.end is not None else prov.data_end),
            marketplace_ids=self.marketplace_ids or prov.scope_marketplaces(),
        )


@dataclass(frozen=True)
class ResolvedScope:
    start: datetime | None
    end: datetime | None
    marketplace_ids: tuple[str, ...]


@dataclass(frozen=True)
class WriteResult:
    table: str
    rows_written: int
    rows_deleted: int
    snapshot_id: int | None
    data_files: int
    columns_added: tuple[str, ...] = ()
    attempts: int = 1
    # new rows not stored because a live row with the same key has a later window value
    rows_superseded: int = 0
    # commit_staged: a snapshot already records this staged write (an earlier run committed it)
    already_committed: bool = False


@dataclass(frozen=True)
class BadRow:
    """A source line that could not be parsed into the table (kept in ``<table>__quarantine``)."""

    line_number: int
    raw_line: str
    reason: str


@dataclass(frozen=True)
class DeletePlan:
    """What a write replaces: account + marketplaces (+ window). Live rows outside it that carry one of
    the new row keys are found at commit time (:mod:`splake.lake.dedup`) and replaced too."""

    mode: ReplaceMode
    account_id: str
    marketplace_ids: tuple[str, ...]
    window_column: str | None
    start: datetime | None
    end: datetime | None


def _as_utc(value: datetime | date | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- type normalisation -------------------------------------------------------------------------


def normalize_type(t: pa.DataType) -> pa.DataType:
    """Iceberg-storable arrow type: ns → us timestamps (recursively), large/view strings → string."""
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz="UTC" if t.tz else None)
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return pa.binary()
    if pa.types.is_struct(t):
        return pa.struct([f.with_type(normalize_type(f.type)).with_nullable(True) for f in t])
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return pa.list_(pa.field("element", normalize_type(t.value_type)))
    if pa.types.is_map(t):
        return pa.map_(normalize_type(t.key_type), normalize_type(t.item_type))
    if pa.types.is_dictionary(t):
        return normalize_type(t.value_type)
    if pa.types.is_null(t):
        return pa.string()
    return t


def adds_fields(incoming: pa.DataType, existing: pa.DataType) -> bool:
    """True when ``incoming`` has nested fields ``existing`` lacks (a cast would silently drop them)."""
    if pa.types.is_struct(incoming) and pa.types.is_struct(existing):
        names = {f.name: f for f in existing}
        return any(f.name not in names or adds_fields(f.type, names[f.name].type) for f in incoming)
    if _is_list(incoming) and _is_list(existing):
        return adds_fields(incoming.value_type, existing.value_type)
    if pa.types.is_map(incoming) and pa.types.is_map(existing):
        return adds_fields(incoming.key_type, existing.key_type) or adds_fields(
            incoming.item_type, existing.item_type
        )
    return False


def _is_list(t: pa.DataType) -> bool:
    return bool(pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t))


def _cast(arr: pa.Array | pa.ChunkedArray, target: pa.DataType, column: str, table: str) -> pa.Array:
    if arr.type == target:
        return arr
    try:
        if pa.types.is_timestamp(arr.type) and pa.types.is_timestamp(target) and arr.type.unit == "ns":
            # Downcasting ns → us truncates sub-microsecond digits (Iceberg v2 has only us).
            return pc.cast(arr, target, safe=False)
        return pc.cast(arr, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise BadDataError(
            f"column {column!r} cannot be stored as {target}: {exc}",
            where=f"table {table}",
            hint="fix the parser so the column has the declared type, or change the TableSpec",
        ) from None


# --- row keys -----------------------------------------------------------------------------------


# (row keys: splake.lake.rowkeys; the key function must never change)


# --- the stored shape ---------------------------------------------------------------------------


def business_schema(spec: TableSpec, incoming: pa.Schema) -> pa.Schema:
    """Declared columns (declared types) followed by undeclared incoming columns (normalised types)."""
    fields = []
    incoming_types = dict(zip(incoming.names, incoming.types, strict=True))
    for f in spec.schema:
        t = normalize_type(f.type)
        if f.name in incoming_types:
            seen = normalize_type(incoming_types[f.name])
            if adds_fields(seen, t):  # nested data grew fields the declaration lacks: keep them
                t = seen
        fields.append(pa.field(f.name, t))
    declared = set(spec.schema.names)
    for f in incoming:
        if f.name not in declared and f.name not in PROVENANCE_COLUMNS:
            fields.append(pa.field(f.name, normalize_type(f.type)))
    return pa.schema(fields)


def stored_schema(spec: TableSpec, incoming: pa.Schema) -> pa.Schema:
    biz = business_schema(spec, incoming)
    return pa.schema([f for f in biz if f.name != "marketplace_id"] + list(PROVENANCE_FIELDS))


def prepare_batch(
    spec: TableSpec,
    batch: pa.RecordBatch,
    target: pa.Schema,
    prov: Provenance,
    counter: OccurrenceCounter,
) -> pa.RecordBatch:
    """One business batch → one stored batch in ``target`` (a :func:`stored_schema`)."""
    n = batch.num_rows
    names = batch.schema.names  # (in order: key columns are taken in this order)
    present = set(names)
    if "marketplace_id" in present:
        market = pc.cast(batch.column("marketplace_id"), pa.string())
        if prov.marketplace_id:
            market = pc.fill_null(market, prov.marketplace_id)
        if market.null_count:
            raise BadDataError(
                f"{market.null_count} rows have no marketplace_id",
                where=f"table {spec.name}, report {prov.report_id}",
                hint="set Provenance.marketplace_id for single-marketplace documents",
            )
    elif prov.marketplace_id:
        market = pa.repeat(pa.scalar(prov.marketplace_id, pa.string()), n)
    else:
        raise BadDataError(
            "rows have no marketplace_id column and the provenance names no marketplace",
            where=f"table {spec.name}, report {prov.report_id}",
            hint="set Provenance.marketplace_id (single-marketplace document) or add a marketplace_id column",
        )
    key_cols = spec.key_columns or tuple(c for c in spec.schema.names if c != "marketplace_id") + tuple(
        c for c in names if c not in spec.schema.names and c not in PROVENANCE_COLUMNS
    )
    casted: dict[str, pa.Array] = {}
    for f in target:
        if f.name in PROVENANCE_COLUMNS:
            continue
        if f.name in present:
            casted[f.name] = _cast(batch.column(f.name), f.type, f.name, spec.name)
        else:
            casted[f.name] = pa.nulls(n, f.type)
    key_batch = pa.RecordBatch.from_pydict({c: casted[c] for c in key_cols if c in casted})
    row_keys = compute_row_keys(
        key_batch, prov.account_id, market, [c for c in key_cols if c in casted], counter
    )
    ts = pa.timestamp("us", tz="UTC")
    const: dict[str, pa.Array] = {
        "account_id": pa.repeat(pa.scalar(prov.account_id, pa.string()), n),
        "marketplace_id": market,
        "report_id": pa.repeat(pa.scalar(prov.report_id, pa.string()), n),
        "data_start": pa.repeat(pa.scalar(_as_utc(prov.data_start), ts), n),
        "data_end": pa.repeat(pa.scalar(_as_utc(prov.data_end), ts), n),
        "ingested_at": pa.repeat(pa.scalar(_as_utc(prov.ingested_at), ts), n),
        "source_key": pa.repeat(pa.scalar(prov.source_key, pa.string()), n),
        "row_key": row_keys,
    }
    arrays = [const[f.name] if f.name in const else casted[f.name] for f in target]
    return pa.RecordBatch.from_arrays(arrays, schema=target)


# --- what a write replaces ----------------------------------------------------------------------


def window_bounds_for(dtype: pa.DataType, start: datetime, end: datetime) -> tuple[Any, Any]:
    """The [lo, hi) bounds of a window in the column's own type. For date columns only days fully
    inside the window are covered (a partial day is never wiped)."""
    if pa.types.is_date(dtype):
        lo = start.date() if start.time() == time(0) else start.date() + timedelta(days=1)
        return lo, end.date()
    if pa.types.is_timestamp(dtype) and not dtype.tz:
        return start.replace(tzinfo=None), end.replace(tzinfo=None)
    return start, end


def quarantine_batch(rows: Sequence[BadRow], prov: Provenance) -> pa.Table:
    n = len(rows)
    ts = pa.timestamp("us", tz="UTC")
    cols: dict[str, pa.Array] = {
        "line_number": pa.array([r.line_number for r in rows], pa.int64()),
        "raw_line": pa.array([r.raw_line for r in rows], pa.string()),
        "reason": pa.array([r.reason for r in rows], pa.string()),
        "account_id": pa.array([prov.account_id] * n, pa.string()),
        "marketplace_id": pa.array([prov.marketplace_id] * n, pa.string()),
        "report_id": pa.array([prov.report_id] * n, pa.string()),
        "data_start": pa.array([_as_utc(prov.data_start)] * n, ts),
        "data_end": pa.array([_as_utc(prov.data_end)] * n, ts),
        "ingested_at": pa.array([_as_utc(prov.ingested_at)] * n, ts),
        "source_key": pa.array([prov.source_key] * n, pa.string()),
    }
    return pa.Table.from_pydict(cols, schema=QUARANTINE_SCHEMA)
