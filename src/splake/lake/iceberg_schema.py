"""How splake shapes Iceberg tables: partition specs from declarations, schema growth (new columns
and nested fields win, nothing is dropped) and the provenance every snapshot summary records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import (
    DayTransform,
    HourTransform,
    IdentityTransform,
    MonthTransform,
    Transform,
    YearTransform,
)

from splake.lake.tables import (
    PROVENANCE_COLUMNS,
    Provenance,
    adds_fields,
    normalize_type,
)

TRANSFORMS: dict[str, Callable[[], Transform[Any, Any]]] = {
    "identity": IdentityTransform,
    "year": YearTransform,
    "month": MonthTransform,
    "day": DayTransform,
    "hour": HourTransform,
}


def grows(incoming: pa.Schema, target: pa.Schema) -> bool:
    """Does ``incoming`` carry a column or nested field ``target`` would drop?"""
    types = dict(zip(target.names, target.types, strict=True))
    for f in incoming:
        if f.name in PROVENANCE_COLUMNS:
            continue
        existing = types.get(f.name)
        if existing is None:
            return True
        if adds_fields(normalize_type(f.type), existing):
            return True
    return False


def merge_schema(target: pa.Schema, incoming: pa.Schema) -> pa.Schema:
    """``incoming``'s business columns first (their types win where they grew), then ``target``'s others."""
    fields = [f for f in incoming if f.name not in PROVENANCE_COLUMNS]
    names = {f.name for f in fields}
    fields += [f for f in target if f.name not in names and f.name not in PROVENANCE_COLUMNS]
    return pa.schema(fields)


def snapshot_props(prov: Provenance) -> dict[str, str]:
    """Provenance recorded in every snapshot summary a write commits."""
    return {
        "splake.report-id": prov.report_id,
        "splake.account-id": prov.account_id,
        "splake.source-key": prov.source_key,
    }


def partition_spec(schema: Schema, parts: tuple[tuple[str, str], ...]) -> PartitionSpec:
    fields = []
    for i, (col, transform) in enumerate(parts):
        source = schema.find_field(col)
        name = col if transform == "identity" else f"{col}_{transform}"
        fields.append(
            PartitionField(
                source_id=source.field_id, field_id=1000 + i, transform=TRANSFORMS[transform](), name=name
            )
        )
    return PartitionSpec(*fields)
