"""JSON report documents (Sales and Traffic, Vendor Sales, Vendor Inventory) shaped exactly like the
official schemas in ``splake/spapi/models/schemas/reports``."""

from __future__ import annotations

import calendar
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from splake.sandbox.catalog import products_for
from splake.sandbox.orders import iter_orders
from splake.sandbox.report_request import ReportRequest
from splake.sandbox.report_text import daterange
from splake.spapi.marketplaces import marketplace

Json = dict[str, Any]


class ReportFatal(Exception):
    """The report ends FATAL; ``details`` goes into the error document (``{"errorDetails": ...}``)."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self.details = details


def amount(value: float, currency: str) -> Json:
    return {"amount": round(value, 2), "currencyCode": currency}


# --- periods ----------------------------------------------------------------------------------------


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


# --- sales and traffic --------------------------------------------------------------------------------


def _pct(num: float, den: float) -> float:
    return round(100.0 * num / den, 2) if den else 0.0


def sales_and_traffic(req: ReportRequest) -> Json:
    mid = req.marketplace_ids[0]
    currency = marketplace(mid).currency
    date_gran = req.option("dateGranularity", "DAY")
    asin_gran = req.option("asinGranularity", "PARENT")
    if asin_gran not in {"PARENT", "CHILD", "SKU"}:
        raise ReportFatal(f"Invalid asinGranularity {asin_gran}")
    start, end = req.start.date(), min(req.end, req.as_of).date()
    periods = expand_period(start, end, date_gran)
    first, last = periods[0][0], periods[-1][1]
    # per day: units, sales, items, b2b units, b2b sales, b2b items; per (key, day): units, sales, items
    day_tot: dict[date, list[float]] = defaultdict(lambda: [0.0] * 6)
    key_day: dict[tuple[tuple[str, ...], date], list[float]] = defaultdict(lambda: [0.0] * 6)
    for order in iter_orders(req.seed, req.account, mid, first, last, req.scale):
        st = order.status_at(req.as_of)
        if st is None or st[0] == "Cancelled":
            continue
        d = order.purchase.date()
        for item in order.items:
            p = item.product
            key: tuple[str, ...] = (p.parent_asin,)
            if asin_gran == "CHILD":
                key = (p.parent_asin, p.asin)
            elif asin_gran == "SKU":
                key = (p.parent_asin, p.asin, p.sku)
            sales = item.unit_price * item.quantity
            vals = [item.quantity, sales, 1, 0, 0, 0]
            if order.is_business:
                vals[3:] = [item.quantity, sales, 1]
            for i, v in enumerate(vals):
                day_tot[d][i] += v
                key_day[(key, d)][i] += v

    def maturity(d: date) -> float:
        # Traffic keeps being revised for about a week after the day (late-arriving data).
        age = (req.as_of.date() - d).days
        return min(1.0, (age + 1) / 7.0)

    def sessions_for(key: tuple[str, ...], d: date, units: float) -> tuple[int, int, int, int]:
        rng = random.Random(f"{req.seed}|traffic|{'/'.join(key)}|{d.isoformat()}")
        f = maturity(d)
        browser = int((units * rng.randint(5, 12) + rng.randint(0, 6)) * f)
        mobile = int((units * rng.randint(6, 14) + rng.randint(0, 8)) * f)
        return browser, mobile, int(browser * rng.uniform(1.1, 1.6)), int(mobile * rng.uniform(1.1, 1.8))

    by_date = []
    for ps, pe in periods:
        tot = [0.0] * 6
        b_sess = m_sess = b_pv = m_pv = 0
        for d in daterange(ps, pe):
            for i in range(6):
                tot[i] += day_tot[d][i] if d in day_tot else 0.0
            rng = random.Random(f"{req.seed}|site-traffic|{mid}|{d.isoformat()}")
            f = maturity(d)
            units = day_tot[d][0] if d in day_tot else 0.0
            bs, ms = int((units * 9 + rng.randint(20, 120)) * f), int((units * 11 + rng.randint(30, 160)) * f)
            b_sess, m_sess = b_sess + bs, m_sess + ms
            b_pv, m_pv = b_pv + int(bs * 1.4), m_pv + int(ms * 1.5)
        units, sales, items, b_units, b_sales, b_items = tot
        sessions = b_sess + m_sess
        by_date.append(
            {
                "date": ps.isoformat(),
                "salesByDate": {
                    "orderedProductSales": amount(sales, currency),
                    "orderedProductSalesB2B": amount(b_sales, currency),
                    "unitsOrdered": int(units),
                    "unitsOrderedB2B": int(b_units),
                    "totalOrderItems": int(items),
                    "totalOrderItemsB2B": int(b_items),
                    "averageSalesPerOrderItem": amount(sales / items if items else 0.0, currency),
                    "averageSalesPerOrderItemB2B": amount(b_sales / b_items if b_items else 0.0, currency),
                    "averageUnitsPerOrderItem": round(units / items, 2) if items else 0.0,
                    "averageUnitsPerOrderItemB2B": round(b_units / b_items, 2) if b_items else 0.0,
                    "averageSellingPrice": amount(sales / units if units else 0.0, currency),
                    "averageSellingPriceB2B": amount(b_sales / b_units if b_units else 0.0, currency),
                    "unitsRefunded": 0,
                    "refundRate": 0.0,
                    "claimsGranted": 0,
                    "claimsAmount": amount(0.0, currency),
                    "shippedProductSales": amount(sales, currency),
                    "unitsShipped": int(units),
                    "ordersShipped": int(items),
                },
                "trafficByDate": {
                    "browserPageViews": b_pv,
                    "browserPageViewsB2B": 0,
                    "mobileAppPageViews": m_pv,
                    "mobileAppPageViewsB2B": 0,
                    "pageViews": b_pv + m_pv,
                    "pageViewsB2B": 0,
                    "browserSessions": b_sess,
                    "browserSessionsB2B": 0,
                    "mobileAppSessions": m_sess,
                    "mobileAppSessionsB2B": 0,
                    "sessions": sessions,
                    "sessionsB2B": 0,
                    "buyBoxPercentage": 95.5 if sessions else 0.0,
                    "buyBoxPercentageB2B": 0.0,
                    "orderItemSessionPercentage": _pct(items, sessions),
                    "orderItemSessionPercentageB2B": 0.0,
                    "unitSessionPercentage": _pct(units, sessions),
                    "unitSessionPercentageB2B": 0.0,
                    "averageOfferCount": 1,
                    "averageParentItems": len({k[0] for (k, d) in key_day if ps <= d <= pe}),
                    "feedbackReceived": 0,
                    "negativeFeedbackReceived": 0,
                    "receivedNegativeFeedbackRate": 0.0,
                },
            }
        )

    per_key: dict[tuple[str, ...], list[float]] = defaultdict(lambda: [0.0] * 10)
    for (key, d), vals in key_day.items():
        acc = per_key[key]
        for i in range(6):
            acc[i] += vals[i]
        bs, ms, bpv, mpv = sessions_for(key, d, vals[0])
        acc[6] += bs
        acc[7] += ms
        acc[8] += bpv
        acc[9] += mpv
    total_sessions = sum(v[6] + v[7] for v in per_key.values()) or 1
    total_pv = sum(v[8] + v[9] for v in per_key.values()) or 1
    by_asin = []
    for key in sorted(per_key):
        units, sales, items, b_units, b_sales, b_items, a_bs, a_ms, a_bpv, a_mpv = per_key[key]
        entry: Json = {"parentAsin": key[0]}
        if len(key) > 1:
            entry["childAsin"] = key[1]
        if len(key) > 2:
            entry["sku"] = key[2]
        a_sessions = a_bs + a_ms
        entry["salesByAsin"] = {
            "unitsOrdered": int(units),
            "unitsOrderedB2B": int(b_units),
            "orderedProductSales": amount(sales, currency),
            "orderedProductSalesB2B": amount(b_sales, currency),
            "totalOrderItems": int(items),
            "totalOrderItemsB2B": int(b_items),
        }
        entry["trafficByAsin"] = {
            "browserSessions": int(a_bs),
            "browserSessionsB2B": 0,
            "mobileAppSessions": int(a_ms),
            "mobileAppSessionsB2B": 0,
            "sessions": int(a_sessions),
            "sessionsB2B": 0,
            "browserSessionPercentage": _pct(a_bs, total_sessions),
            "browserSessionPercentageB2B": 0.0,
            "mobileAppSessionPercentage": _pct(a_ms, total_sessions),
            "mobileAppSessionPercentageB2B": 0.0,
            "sessionPercentage": _pct(a_sessions, total_sessions),
            "sessionPercentageB2B": 0.0,
            "browserPageViews": int(a_bpv),
            "browserPageViewsB2B": 0,
            "mobileAppPageViews": int(a_mpv),
            "mobileAppPageViewsB2B": 0,
            "pageViews": int(a_bpv + a_mpv),
            "pageViewsB2B": 0,
            "browserPageViewsPercentage": _pct(a_bpv, total_pv),
            "browserPageViewsPercentageB2B": 0.0,
            "mobileAppPageViewsPercentage": _pct(a_mpv, total_pv),
            "mobileAppPageViewsPercentageB2B": 0.0,
            "pageViewsPercentage": _pct(a_bpv + a_mpv, total_pv),
            "pageViewsPercentageB2B": 0.0,
            "buyBoxPercentage": 95.5,
            "buyBoxPercentageB2B": 0.0,
            "unitSessionPercentage": _pct(units, a_sessions),
            "unitSessionPercentageB2B": 0.0,
        }
        by_asin.append(entry)
    return {
        "reportSpecification": {
            "reportType": "GET_SALES_AND_TRAFFIC_REPORT",
            "reportOptions": {"dateGranularity": date_gran, "asinGranularity": asin_gran},
            "dataStartTime": first.isoformat(),
            "dataEndTime": last.isoformat(),
            "marketplaceIds": [mid],
        },
        "salesAndTrafficByDate": by_date,
        "salesAndTrafficByAsin": by_asin,
    }


# --- vendor -------------------------------------------------------------------------------------------

VENDOR_ASINS = 240
VENDOR_ENUMS = {
    "GET_VENDOR_SALES_REPORT": {
        "reportPeriod": ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR"),
        "distributorView": ("MANUFACTURING", "SOURCING"),
        "sellingProgram": ("RETAIL", "BUSINESS", "FRESH"),
    },
    "GET_VENDOR_INVENTORY_REPORT": {
        "reportPeriod": ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR"),
        "distributorView": ("MANUFACTURING", "SOURCING"),
        "sellingProgram": ("RETAIL", "FRESH"),
    },
}


def check_vendor_options(report_type: str, options: dict[str, str]) -> None:
    enums = VENDOR_ENUMS[report_type]
    missing = [k for k in enums if k not in options]
    if missing:
        raise ReportFatal(
            "This report type requires the "
            + ", ".join(enums)
            + " reportOption"
            + ("s" if len(enums) > 1 else "")
            + ". Please specify "
            + ", ".join(missing)
            + " in reportOptions and request the report again."
        )
    for k, allowed in enums.items():
        if options[k] not in allowed:
            raise ReportFatal(
                f"Invalid value {options[k]!r} for reportOption {k}; allowed: {', '.join(allowed)}."
            )


def _vendor_factor(options: dict[str, str]) -> float:
    f = {"RETAIL": 1.0, "BUSINESS": 0.1, "FRESH": 0.05}[options["sellingProgram"]]
    return f * (0.95 if options["distributorView"] == "SOURCING" else 1.0)


def _vendor_day(req: ReportRequest, asin: str, price: float, d: date, factor: float) -> dict[str, float]:
    rng = random.Random(f"{req.seed}|vendor|{asin}|{d.isoformat()}")
    ordered = int(rng.randint(0, 40) * factor)
    shipped = int(max(0, ordered + rng.randint(-3, 3)) * factor) if ordered else 0
    return {
        "orderedUnits": ordered,
        "orderedRevenue": ordered * price,
        "shippedUnits": shipped,
        "shippedRevenue": shipped * price,
        "shippedCogs": shipped * price * 0.62,
        "customerReturns": rng.randint(0, 2) if shipped > 5 else 0,
        "received": int(rng.randint(0, 60) * factor),
        "onHand": int((200 + rng.randint(-50, 50)) * factor),
        "unsellable": rng.randint(0, 3),
        "openPo": int(rng.randint(0, 120) * factor),
        "aged": int(rng.randint(0, 15) * factor),
    }


def vendor_report(req: ReportRequest) -> Json:
    options = dict(req.options)
    check_vendor_options(req.report_type, options)
    mid = req.marketplace_ids[0]
    currency = marketplace(mid).currency
    start, end = req.start.date(), req.end.date()
    if req.vendor_delay_hours > 0:
        end_of_data = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        if end_of_data + timedelta(hours=req.vendor_delay_hours) > req.as_of:
            raise ReportFatal(
                f"Data for {end.isoformat()} is not available yet; vendor data is available "
                f"{req.vendor_delay_hours:g} hours after the end of the day."
            )
    periods = vendor_periods(start, end, options["reportPeriod"])
    factor = _vendor_factor(options)
    products = products_for(req.seed, req.account, 1.0)[:VENDOR_ASINS]
    sales = req.report_type == "GET_VENDOR_SALES_REPORT"
    aggregate, by_asin = [], []
    for ps, pe in periods:
        agg: dict[str, float] = defaultdict(float)
        for p in products:
            price = p.price(currency)
            acc: dict[str, float] = defaultdict(float)
            last: dict[str, float] = {}
            for d in daterange(ps, pe):
                v = _vendor_day(req, p.asin, price, d, factor)
                for k, x in v.items():
                    acc[k] += x
                last = v
            if sales:
                if not acc["orderedUnits"] and not acc["shippedUnits"]:
                    continue
                entry = {
                    "startDate": ps.isoformat(),
                    "endDate": pe.isoformat(),
                    "asin": p.asin,
                    "customerReturns": int(acc["customerReturns"]),
                    "orderedRevenue": amount(acc["orderedRevenue"], currency),
                    "orderedUnits": int(acc["orderedUnits"]),
                    "shippedCogs": amount(acc["shippedCogs"], currency),
                    "shippedRevenue": amount(acc["shippedRevenue"], currency),
                    "shippedUnits": int(acc["shippedUnits"]),
                }
            else:
                cost = price * 0.62
                entry = {
                    "startDate": ps.isoformat(),
                    "endDate": pe.isoformat(),
                    "asin": p.asin,
                    "vendorConfirmationRate": 0.9,
                    "netReceivedInventoryCost": amount(acc["received"] * cost, currency),
                    "netReceivedInventoryUnits": int(acc["received"]),
                    "openPurchaseOrderUnits": int(last["openPo"]),
                    "averageVendorLeadTimeDays": 7.5,
                    "sellThroughRate": round(acc["shippedUnits"] / (acc["shippedUnits"] + last["onHand"]), 4)
                    if (acc["shippedUnits"] + last["onHand"])
                    else 0.0,
                    "unfilledCustomerOrderedUnits": 0,
                    "sellableOnHandInventoryCost": amount(last["onHand"] * cost, currency),
                    "sellableOnHandInventoryUnits": int(last["onHand"]),
                    "unsellableOnHandInventoryCost": amount(last["unsellable"] * cost, currency),
                    "unsellableOnHandInventoryUnits": int(last["unsellable"]),
                    "aged90PlusDaysSellableInventoryCost": amount(last["aged"] * cost, currency),
                    "aged90PlusDaysSellableInventoryUnits": int(last["aged"]),
                    "unhealthyInventoryCost": amount(0.0, currency),
                    "unhealthyInventoryUnits": 0,
                }
                agg["onHand"] += last["onHand"]
                agg["onHandCost"] += last["onHand"] * cost
                agg["openPo"] += last["openPo"]
                agg["unsellable"] += last["unsellable"]
                agg["unsellableCost"] += last["unsellable"] * cost
                agg["aged"] += last["aged"]
                agg["agedCost"] += last["aged"] * cost
                agg["receivedCost"] += acc["received"] * cost
            for k in (
                "orderedUnits",
                "orderedRevenue",
                "shippedUnits",
                "shippedRevenue",
                "shippedCogs",
                "customerReturns",
                "received",
            ):
                agg[k] += acc[k]
            by_asin.append(entry)
        if sales:
            aggregate.append(
                {
                    "startDate": ps.isoformat(),
                    "endDate": pe.isoformat(),
                    "customerReturns": int(agg["customerReturns"]),
                    "orderedRevenue": amount(agg["orderedRevenue"], currency),
                    "orderedUnits": int(agg["orderedUnits"]),
                    "shippedCogs": amount(agg["shippedCogs"], currency),
                    "shippedRevenue": amount(agg["shippedRevenue"], currency),
                    "shippedUnits": int(agg["shippedUnits"]),
                }
            )
        else:
            aggregate.append(
                {
                    "startDate": ps.isoformat(),
                    "endDate": pe.isoformat(),
                    "procurableProductOutOfStockRate": 0.02,
                    "uft": 0.97,
                    "receiveFillRate": 0.93,
                    "vendorConfirmationRate": 0.9,
                    "netReceivedInventoryCost": amount(agg["receivedCost"], currency),
                    "netReceivedInventoryUnits": int(agg["received"]),
                    "openPurchaseOrderUnits": int(agg["openPo"]),
                    "averageVendorLeadTimeDays": 7.5,
                    "sellThroughRate": round(agg["shippedUnits"] / (agg["shippedUnits"] + agg["onHand"]), 4)
                    if (agg["shippedUnits"] + agg["onHand"])
                    else 0.0,
                    "unfilledCustomerOrderedUnits": 0,
                    "sellableOnHandInventoryCost": amount(agg["onHandCost"], currency),
                    "sellableOnHandInventoryUnits": int(agg["onHand"]),
                    "unsellableOnHandInventoryCost": amount(agg["unsellableCost"], currency),
                    "unsellableOnHandInventoryUnits": int(agg["unsellable"]),
                    "aged90PlusDaysSellableInventoryCost": amount(agg["agedCost"], currency),
                    "aged90PlusDaysSellableInventoryUnits": int(agg["aged"]),
                    "unhealthyInventoryCost": amount(0.0, currency),
                    "unhealthyInventoryUnits": 0,
                }
            )
    spec = {
        "reportType": req.report_type,
        "reportOptions": {k: options[k] for k in ("distributorView", "reportPeriod", "sellingProgram")},
        "lastUpdatedDate": req.as_of.date().isoformat(),
        "dataStartTime": periods[0][0].isoformat() if periods else start.isoformat(),
        "dataEndTime": periods[-1][1].isoformat() if periods else end.isoformat(),
        "marketplaceIds": [mid],
    }
    if sales:
        return {"reportSpecification": spec, "salesAggregate": aggregate, "salesByAsin": by_asin}
    return {"reportSpecification": spec, "inventoryAggregate": aggregate, "inventoryByAsin": by_asin}
