"""The shape of a mart, declared as data: what it computes (Trino SQL), what it needs, how to chart it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# How a measure's chart points combine into its headline total: ``sum`` over all points, ``last`` = the
# value at the last x (stock levels such as units on hand), ``max`` = the largest point.
Agg = Literal["sum", "last", "max"]


@dataclass(frozen=True)
class Measure:
    """A numeric output column. Rows sharing an x value are summed; ``agg`` makes the headline total."""

    column: str
    label: str
    agg: Agg = "sum"
    unit: Literal["count", "money", "ratio", "days"] = "count"


@dataclass(frozen=True)
class Ratio:
    """A KPI computed after aggregation: ``sum(numerator) / sum(denominator) * scale``."""

    name: str
    label: str
    numerator: str
    denominator: str
    scale: float = 1.0
    unit: Literal["ratio", "days"] = "ratio"


@dataclass(frozen=True)
class Chart:
    """Client-side chart: ``x`` column on the x-axis, one dataset per measure and ``series`` value."""

    kind: Literal["line", "bar"]
    x: str
    measures: tuple[str, ...]
    # e.g. "currency": money measures get one dataset per currency (never add EUR to JPY); other
    # measures (units, sessions) are summed across series values.
    series: str | None = None
    limit: int = 60  # bar charts: top-N x values by the first measure


@dataclass(frozen=True)
class Mart:
    """A curated view over the Iceberg tables.

    ``sql`` is one Trino statement (runs as-is on Athena; transpiled to DuckDB locally). Every mart outputs
    ``account_id`` and ``marketplace_id`` (filters) and, when ``date_column`` is set, a DATE column of that
    name (date filter). ``required_tables`` lists the curated tables the SQL reads: when one is missing the
    mart is reported as unavailable instead of failing.
    """

    name: str
    title: str
    description: str
    sql: str
    required_tables: tuple[str, ...]
    measures: tuple[Measure, ...]
    chart: Chart
    ratios: tuple[Ratio, ...] = ()
    date_column: str | None = "day"
    dimensions: tuple[str, ...] = field(default=())

    def measure(self, column: str) -> Measure:
        for m in self.measures:
            if m.column == column:
                return m
        raise KeyError(column)
