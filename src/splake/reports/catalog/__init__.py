"""The report type catalog beyond the core types: declarations as data, one module per area.

:mod:`splake.reports.types` merges them into ``REPORT_TYPES`` when it loads; import report types from
there. (Import order: whichever of the two loads first, ``types`` finishes defining its classes before a
catalog module reads them, and the catalog is merged exactly once.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from splake.reports.types import ReportTypeSpec


def catalog_specs() -> tuple[ReportTypeSpec, ...]:
    from splake.reports.catalog import analytics, fba, listings, orders, performance, vendor

    return (*orders.SPECS, *fba.SPECS, *listings.SPECS, *performance.SPECS, *analytics.SPECS, *vendor.SPECS)


import splake.reports.types  # noqa: E402,F401 - loads the core types, which merge this catalog
