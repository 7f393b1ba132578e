"""Report periods: Sales and Traffic ``dateGranularity`` (DAY/WEEK/MONTH) and the vendor reports'
``reportPeriod`` windows, which must be aligned or the report ends FATAL."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from splake.sandbox.report_request import ReportFatal
from splake.sandbox.report_text import daterange


def expand_period(start: date, end: date, granularity: str) -> list[tuple[date, date]]:
    """Split [start, end] into periods; WEEK (Sunday to Saturday) and MONTH expand to whole periods."""
    if granularity == "DAY":
        return [(d, d) for d in daterange(start, end)]
    if granularity == "WEEK":
        first = start - timedelta(days=(start.weekday() + 1) % 7)
        out = []
        while first <= end:
            out.append((first, first + timedelta(days=6)))
            first += timedelta(days=7)
        return out
    if granularity == "MONTH":
        out = []
        y, m = start.year, start.month
        while date(y, m, 1) <= end:
            out.append((date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out
    raise ReportFatal(f"Unsupported dateGranularity {granularity}")


def _quarter_end(d: date) -> date:
    m = ((d.month - 1) // 3) * 3 + 3
    return date(d.year, m, calendar.monthrange(d.year, m)[1])


def vendor_periods(start: date, end: date, period: str) -> list[tuple[date, date]]:
    """Vendor report periods; WEEK/MONTH/QUARTER/YEAR windows must be aligned, else the report is FATAL."""
    if period == "DAY":
        return [(d, d) for d in daterange(start, end)]
    if period == "WEEK":
        if start.weekday() != 6 or end.weekday() != 5:
            raise ReportFatal(
                "For reportPeriod=WEEK, dataStartTime must be a Sunday and dataEndTime a Saturday "
                f"(got {start.isoformat()} to {end.isoformat()})."
            )
        return expand_period(start, end, "WEEK")
    if period == "MONTH":
        if start.day != 1 or end.day != calendar.monthrange(end.year, end.month)[1]:
            raise ReportFatal(
                "For reportPeriod=MONTH, dataStartTime must be the first and dataEndTime the last day "
                "of a month."
            )
        return expand_period(start, end, "MONTH")
    if period == "QUARTER":
        if start.day != 1 or start.month not in (1, 4, 7, 10) or end != _quarter_end(end):
            raise ReportFatal("For reportPeriod=QUARTER, the dates must align with calendar quarters.")
        out = []
        s = start
        while s <= end:
            e = _quarter_end(s)
            out.append((s, e))
            s = e + timedelta(days=1)
        return out
    if period == "YEAR":
        if (start.month, start.day) != (1, 1) or (end.month, end.day) != (12, 31):
            raise ReportFatal("For reportPeriod=YEAR, the dates must be January 1 and December 31.")
        return [(date(y, 1, 1), date(y, 12, 31)) for y in range(start.year, end.year + 1)]
    raise ReportFatal(f"Invalid reportPeriod {period}")
