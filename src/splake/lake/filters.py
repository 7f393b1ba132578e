"""Iceberg row filters of the scope a write replaces (account + marketplaces + window)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pyarrow as pa
from pyiceberg.expressions import (
    AlwaysFalse,
    And,
    BooleanExpression,
    EqualTo,
    GreaterThanOrEqual,
    In,
    LessThan,
)
from pyiceberg.schema import Schema
from pyiceberg.types import DateType, TimestampType

from splake.lake.tables import (
    DeletePlan,
    window_bounds_for,
)


def literal(iceberg_type: Any, value: datetime | date) -> str:
    if isinstance(iceberg_type, DateType):
        return value.isoformat() if not isinstance(value, datetime) else value.date().isoformat()
    if isinstance(iceberg_type, TimestampType) and isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat()
    return value.isoformat()


def delete_filter(plan: DeletePlan, schema: Schema) -> BooleanExpression:
    """The Iceberg predicate of the scope a write replaces (``AlwaysFalse`` = nothing): account +
    marketplaces (+ window). Live rows elsewhere that carry a new row key are removed by
    :meth:`CuratedLake._rewrite_without` (an exact file rewrite, not a predicate)."""
    base: BooleanExpression = EqualTo(term="account_id", value=plan.account_id)
    main: BooleanExpression = AlwaysFalse()
    if plan.mode in ("snapshot", "window") and plan.marketplace_ids:
        scoped = And(base, In(term="marketplace_id", literals=list(plan.marketplace_ids)))
        if plan.mode == "snapshot":
            main = scoped
        elif plan.start is not None and plan.end is not None and plan.window_column:
            field = schema.find_field(plan.window_column)
            arrow_type = (
                pa.date32() if isinstance(field.field_type, DateType) else pa.timestamp("us", tz="UTC")
            )
            lo, hi = window_bounds_for(arrow_type, plan.start, plan.end)
            if lo < hi:
                main = And(
                    scoped,
                    And(
                        GreaterThanOrEqual(term=plan.window_column, value=literal(field.field_type, lo)),
                        LessThan(term=plan.window_column, value=literal(field.field_type, hi)),
                    ),
                )
    return main
