"""The report type catalog beyond the core types: declarations as data, one module per area.

Importing any ``splake.reports`` module loads this package (``splake/reports/__init__.py``), which adds
the catalog to :data:`splake.reports.types.REPORT_TYPES`; read report types from there.
"""

from __future__ import annotations

from splake.reports.catalog import analytics, fba, listings, orders, performance, vendor
from splake.reports.types import REPORT_TYPES, ReportTypeSpec


def catalog_specs() -> tuple[ReportTypeSpec, ...]:
    return (*orders.SPECS, *fba.SPECS, *listings.SPECS, *performance.SPECS, *analytics.SPECS, *vendor.SPECS)


for _spec in catalog_specs():
    REPORT_TYPES.setdefault(_spec.name, _spec)  # a core declaration of the same type wins
