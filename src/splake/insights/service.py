"""What the dashboard and the static report show, independent of HTTP: mart statuses, chart data,
filter options and pipeline health. Holds no state besides its inputs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pyarrow as pa

from splake.errors import BadDataError, SplakeError
from splake.insights.model import Mart
from splake.insights.runner import Filters, chart_data, mart_status, run_mart
from splake.insights.source import SqlSource
from splake.logs import get_logger, log_event

log = get_logger(__name__)

HealthFn = Callable[[SqlSource], dict[str, Any]]


@dataclass(frozen=True)
class Insights:
    source_factory: Callable[[], SqlSource]
    marts: Sequence[Mart]
    health_fn: HealthFn | None = None

    def mart(self, name: str) -> Mart:
        for m in self.marts:
            if m.name == name:
                return m
        raise BadDataError(f"no mart named {name!r}", hint="known: " + ", ".join(m.name for m in self.marts))

    def statuses(self) -> list[dict[str, Any]]:
        src = self.source_factory()
        out = []
        for st, m in zip(mart_status(self.marts, src.table_names()), self.marts, strict=True):
            d = asdict(st)
            d["required_tables"] = list(m.required_tables)
            d["chart"] = {"kind": m.chart.kind, "x": m.chart.x, "series": m.chart.series}
            d["measures"] = [asdict(x) for x in m.measures]
            d["ratios"] = [asdict(r) for r in m.ratios]
            out.append(d)
        return out

    def rows(self, name: str, filters: Filters) -> pa.Table:
        return run_mart(self.source_factory(), self.mart(name), filters)

    def chart(self, name: str, filters: Filters, source: SqlSource | None = None) -> dict[str, Any]:
        """Chart JSON for one mart; ``available: false`` with the reason when it cannot run."""
        mart = self.mart(name)
        src = source or self.source_factory()
        missing = [t for t in mart.required_tables if t not in src.table_names()]
        base: dict[str, Any] = {"name": mart.name, "title": mart.title, "description": mart.description}
        if missing:
            return {**base, "available": False, "missing_tables": missing, "error": None}
        try:
            table = run_mart(src, mart, filters)
            data = chart_data(mart, table)
        except SplakeError as exc:
            log_event(log, "mart_failed", mart=name, error=exc.message)
            return {**base, "available": False, "missing_tables": [], "error": exc.message}
        except Exception as exc:  # a drifted table (column renamed) must not break the whole page
            log_event(log, "mart_failed", mart=name, error=str(exc))
            return {**base, "available": False, "missing_tables": [], "error": f"{type(exc).__name__}: {exc}"}
        measures = {m.column: {"label": m.label, "unit": m.unit, "agg": m.agg} for m in mart.measures}
        return {
            **base,
            "available": True,
            "missing_tables": [],
            "error": None,
            "measures": measures,
            **data.to_json(),
        }

    def filter_options(self, source: SqlSource | None = None) -> dict[str, Any]:
        """Accounts, marketplaces and the date span present in the tables the marts read."""
        src = source or self.source_factory()
        tables = src.table_names()
        needed = sorted({t for m in self.marts for t in m.required_tables if t in tables})
        accounts: set[str] = set()
        markets: set[str] = set()
        for t in needed:
            try:
                res = src.sql(f'SELECT DISTINCT account_id, marketplace_id FROM "{t}"')
            except Exception as exc:
                log_event(log, "filter_options_failed", table=t, error=str(exc))
                continue
            for row in res.to_pylist():
                if row["account_id"]:
                    accounts.add(str(row["account_id"]))
                if row["marketplace_id"]:
                    markets.add(str(row["marketplace_id"]))
        return {"accounts": sorted(accounts), "marketplaces": sorted(markets)}

    def health(self, source: SqlSource | None = None) -> dict[str, Any]:
        if self.health_fn is None:
            return {"available": False, "error": "no ledger configured"}
        return self.health_fn(source or self.source_factory())

    def snapshot(self, filters: Filters = Filters()) -> dict[str, Any]:
        """Everything the static report embeds, computed with one source."""
        src = self.source_factory()
        return {
            "filters": filters.as_params(),
            "options": self.filter_options(src),
            "marts": [self.chart(m.name, filters, src) for m in self.marts],
            "health": self.health(src),
        }
