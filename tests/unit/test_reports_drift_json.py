"""Layout drift of a JSON report (splake.reports.drift.compare_json): nested leaves by their dotted path, the
declared alias (Amazon's typo) taken as its column, an undeclared leaf named as Amazon writes it."""

from __future__ import annotations

from splake.reports.drift import compare_json
from splake.reports.types import REPORT_TYPES

SPEC = REPORT_TYPES["GET_SALES_AND_TRAFFIC_REPORT"]


def _by_date() -> dict[str, object]:
    return {
        "date": "2026-11-28",
        "salesByDate": {"orderedProductSales": {"amount": 1.5, "currencyCode": "EUR"}, "unitsOrdered": 3},
        "trafficByDate": {"browerPageViews": 7, "brandNewMetric": {"deep": 1}},
    }


def test_nested_undeclared_leaves_and_the_alias() -> None:
    doc = {
        "salesAndTrafficByDate": [_by_date(), {"date": "2026-11-29", "extra": None}],
        "salesAndTrafficByAsin": [{"parentAsin": "B0", "childAsin": "B1", "sku": "S", "salesByAsin": {}}],
    }
    obs = compare_json(SPEC, doc)
    assert obs.undeclared == ("extra", "trafficByDate.brandNewMetric.deep")
    assert "trafficByDate.browserPageViews" not in obs.absent  # the typo stands for the declared column
    assert "salesByDate.unitsOrdered" not in obs.absent and "date" not in obs.absent
    assert "salesByDate.unitsOrderedB2B" in obs.absent  # declared, in no record


def test_an_empty_section_judges_no_absent_column() -> None:
    obs = compare_json(SPEC, {"salesAndTrafficByDate": [_by_date()], "salesAndTrafficByAsin": []})
    assert obs.absent == () and obs.undeclared == ("trafficByDate.brandNewMetric.deep",)
