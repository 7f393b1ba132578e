"""Run marts: availability, filters (account / marketplace / date) and chart series. Decisions are pure;
I/O goes through a :class:`~splake.insights.source.SqlSource`."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa

from splake.errors import BadDataError, SplakeError
from splake.insights.dialect import to_duckdb
from splake.insights.model import Mart, Measure
from splake.insights.source import SqlSource
from splake.logs import get_logger, log_event

log = get_logger(__name__)

_ACCOUNT_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_MARKETPLACE_RE = re.compile(r"[A-Z0-9]{5,20}")


@dataclass(frozen=True)
class Filters:
    """Row filters applied on top of a mart. Empty tuples mean "all"; dates are inclusive days."""

    accounts: tuple[str, ...] = ()
    marketplaces: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str | Sequence[str]]) -> Filters:
        """From query parameters ``account``, ``marketplace`` (repeatable or comma-separated), ``start``,
        ``end`` (YYYY-MM-DD). Raises :class:`BadDataError` naming the bad parameter."""

        def many(key: str) -> tuple[str, ...]:
            raw = params.get(key) or ()
            values = [raw] if isinstance(raw, str) else list(raw)
            return tuple(v.strip() for item in values for v in item.split(",") if v.strip())

        def day(key: str) -> date | None:
            raw = params.get(key)
            value = raw if isinstance(raw, str) or raw is None else (raw[0] if raw else None)
            if not value:
                return None
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise BadDataError(f"bad {key}={value!r}", hint=f"use {key}=YYYY-MM-DD") from None

        f = cls(many("account"), many("marketplace"), day("start"), day("end"))
        f.validate()
        return f

    def validate(self) -> None:
        for a in self.accounts:
            if not _ACCOUNT_RE.fullmatch(a):
                raise BadDataError(
                    f"bad account id {a!r}", hint="account ids are lowercase letters, digits, - and _"
                )
        for m in self.marketplaces:
            if not _MARKETPLACE_RE.fullmatch(m):
                raise BadDataError(
                    f"bad marketplace id {m!r}", hint="use marketplace ids such as ATVPDKIKX0DER"
                )
        if self.start and self.end and self.start > self.end:
            raise BadDataError(f"start {self.start} is after end {self.end}", hint="swap the dates")

    def as_params(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.accounts:
            out["account"] = ",".join(self.accounts)
        if self.marketplaces:
            out["marketplace"] = ",".join(self.marketplaces)
        if self.start:
            out["start"] = self.start.isoformat()
        if self.end:
            out["end"] = self.end.isoformat()
        return out


@dataclass(frozen=True)
class MartStatus:
    name: str
    title: str
    description: str
    available: bool
    missing_tables: tuple[str, ...]
    error: str | None = None


def mart_status(marts: Iterable[Mart], tables: frozenset[str]) -> list[MartStatus]:
    """Which marts can run given the tables that exist (pure)."""
    out = []
    for m in marts:
        missing = tuple(t for t in m.required_tables if t not in tables)
        out.append(MartStatus(m.name, m.title, m.description, not missing, missing))
    return out


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def filtered_sql(mart: Mart, filters: Filters) -> str:
    """The mart's DuckDB SQL wrapped with the filters (pure). Values are validated and quoted."""
    filters.validate()
    conds: list[str] = []
    if filters.accounts:
        conds.append("account_id IN (" + ", ".join(_quote(a) for a in filters.accounts) + ")")
    if filters.marketplaces:
        conds.append("marketplace_id IN (" + ", ".join(_quote(m) for m in filters.marketplaces) + ")")
    if mart.date_column and filters.start:
        conds.append(f'"{mart.date_column}" >= DATE {_quote(filters.start.isoformat())}')
    if mart.date_column and filters.end:
        conds.append(f'"{mart.date_column}" <= DATE {_quote(filters.end.isoformat())}')
    inner = to_duckdb(mart.sql)
    where = (" WHERE " + " AND ".join(conds)) if conds else ""
    order = f' ORDER BY "{mart.date_column}"' if mart.date_column else ""
    return f"SELECT * FROM ({inner}) AS mart{where}{order}"


class MartUnavailableError(SplakeError):
    code = "mart_unavailable"


def run_mart(source: SqlSource, mart: Mart, filters: Filters = Filters()) -> pa.Table:
    """Run one mart. Raises :class:`MartUnavailableError` when a required table does not exist yet."""
    missing = [t for t in mart.required_tables if t not in source.table_names()]
    if missing:
        raise MartUnavailableError(
            f"mart {mart.name} is unavailable: table(s) {', '.join(missing)} not in the lake yet",
            hint="sync the report types that feed it (see `splake serve` pipeline health)",
        )
    table = source.sql(filtered_sql(mart, filters))
    log_event(log, "mart_run", mart=mart.name, rows=table.num_rows)
    return table


# --- chart series (pure) -----------------------------------------------------------------------------


def _num(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _add(acc: float | None, v: float | None) -> float | None:
    if v is None:
        return acc
    return v if acc is None else acc + v


def _label(v: Any) -> str:
    if isinstance(v, date):
        return v.isoformat()
    return "" if v is None else str(v)


@dataclass
class ChartData:
    kind: str
    labels: list[str]
    datasets: list[dict[str, Any]]
    totals: dict[str, float | None] = field(default_factory=dict)
    ratios: dict[str, float | None] = field(default_factory=dict)
    ratio_meta: dict[str, dict[str, str]] = field(default_factory=dict)
    rows: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "labels": self.labels,
            "datasets": self.datasets,
            "totals": self.totals,
            "ratios": self.ratios,
            "ratio_meta": self.ratio_meta,
            "rows": self.rows,
        }


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 6)


def chart_data(mart: Mart, table: pa.Table) -> ChartData:
    """Aggregate mart rows into chart series and headline totals (pure).

    Rows sharing (measure, series, x) are summed. Money measures of a chart with a ``series`` column get
    one dataset and one total per series value (key ``measure|value``: money in different currencies is
    never added up); every other measure gets one dataset and one total (key ``measure``). Totals combine
    the points per the measure's ``agg``.
    """
    chart = mart.chart
    rows = table.to_pylist()
    cols = set(table.column_names)
    needed = (chart.x, *(m.column for m in mart.measures), *([chart.series] if chart.series else []))
    missing = [c for c in needed if c not in cols]
    if missing:
        raise BadDataError(f"mart {mart.name} has no column(s) {missing} (columns: {sorted(cols)})")

    def split(m: Measure) -> bool:
        return chart.series is not None and m.unit == "money"

    series_values = sorted({_label(r[chart.series]) for r in rows}) if chart.series else []
    cells: dict[tuple[str, str, str], float | None] = {}
    xs: set[str] = set()
    for r in rows:
        x = _label(r[chart.x])
        xs.add(x)
        sv = _label(r[chart.series]) if chart.series else ""
        for m in mart.measures:
            k = (m.column, sv if split(m) else "", x)
            cells[k] = _add(cells.get(k), _num(r[m.column]))
    ordered = sorted(xs)
    first = mart.measure(chart.measures[0])
    first_series = series_values if split(first) else [""]
    if chart.kind == "bar":
        score = {x: sum(abs(cells.get((first.column, sv, x)) or 0.0) for sv in first_series) for x in xs}
        labels = sorted(xs, key=lambda x: (-score[x], x))[: chart.limit]
    else:
        labels = ordered
    datasets = []
    totals: dict[str, float | None] = {}
    for m in mart.measures:
        col = m.column
        for sv in series_values if split(m) else [""]:
            present = [p for p in (cells.get((col, sv, x)) for x in ordered) if p is not None]
            if not present:
                continue
            key = f"{col}|{sv}" if split(m) else col
            if m.agg == "last":
                totals[key] = present[-1]
            elif m.agg == "max":
                totals[key] = max(present)
            else:
                totals[key] = sum(present)
            if col not in chart.measures:
                continue
            datasets.append(
                {
                    "label": f"{m.label} ({sv or 'none'})" if split(m) else m.label,
                    "measure": col,
                    "series": sv if split(m) else None,
                    "unit": m.unit,
                    "data": [_round(cells.get((col, sv, x))) for x in labels],
                }
            )
    ratio_values: dict[str, float | None] = {}
    for ratio in mart.ratios:
        if ratio.numerator not in cols or ratio.denominator not in cols:
            raise BadDataError(f"mart {mart.name}: ratio {ratio.name} needs columns missing from the result")
        num = sum(_num(r[ratio.numerator]) or 0.0 for r in rows)
        den = sum(_num(r[ratio.denominator]) or 0.0 for r in rows)
        ratio_values[ratio.name] = _round(num / den * ratio.scale) if den else None
    return ChartData(
        kind=chart.kind,
        labels=labels,
        datasets=datasets,
        totals={k: _round(v) for k, v in sorted(totals.items())},
        ratios=ratio_values,
        ratio_meta={r.name: {"label": r.label, "unit": r.unit} for r in mart.ratios},
        rows=len(rows),
    )
