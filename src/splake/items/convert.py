"""Generic JSON → Arrow value conversion driven by a declared Arrow type (pure).

Schemas declare nested SP-API structures with snake_case field names; the converter looks each field up
in the JSON object under its camelCase (or exact) name, so one declaration describes both the table and
the mapping. Values that do not fit the declared type become null instead of failing the batch.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def _lookup(obj: dict[str, Any], name: str) -> Any:
    if name in obj:
        return obj[name]
    c = camel(name)
    if c in obj:
        return obj[c]
    pascal = c[:1].upper() + c[1:]
    return obj.get(pascal)


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def to_arrow_value(value: Any, typ: pa.DataType) -> Any:
    """Coerce a decoded-JSON value into something ``pa.array(..., type=typ)`` accepts."""
    if value is None:
        return None
    if pa.types.is_struct(typ):
        if not isinstance(value, dict):
            return None
        return {f.name: to_arrow_value(_lookup(value, f.name), f.type) for f in typ}
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        if not isinstance(value, list):
            value = [value]
        return [to_arrow_value(v, typ.value_type) for v in value]
    if pa.types.is_map(typ):
        if not isinstance(value, dict):
            return None
        return [(str(k), to_arrow_value(v, typ.item_type)) for k, v in value.items()]
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        if isinstance(value, dict | list):
            return json.dumps(value, sort_keys=True, separators=(",", ":"))
        return str(value)
    if pa.types.is_boolean(typ):
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1", "yes", "y"}
        return None
    if pa.types.is_integer(typ):
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    if pa.types.is_floating(typ):
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if pa.types.is_decimal(typ):
        try:
            return Decimal(str(value)).quantize(Decimal(1).scaleb(-typ.scale))
        except (InvalidOperation, ValueError):
            return None
    if pa.types.is_timestamp(typ):
        return parse_time(value)
    return value


def to_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Build a table from already-shaped row dicts (keys = schema field names)."""
    columns = {f.name: [to_arrow_value(r.get(f.name), f.type) for r in rows] for f in schema}
    return pa.Table.from_pydict(columns, schema=schema)
