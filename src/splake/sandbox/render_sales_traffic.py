"""The Sales and Traffic business report (JSON), shaped exactly like the official schema in
``splake/spapi/models/schemas/reports``."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date
from typing import Any

from splake.sandbox.orders import iter_orders
from splake.sandbox.report_periods import expand_period
from splake.sandbox.report_request import ReportFatal, ReportRequest
from splake.sandbox.report_text import amount, daterange
from splake.spapi.marketplaces import marketplace

Json = dict[str, Any]


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
