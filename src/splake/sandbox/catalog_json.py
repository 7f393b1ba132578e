"""JSON documents of the sandbox's catalog types, shaped like Amazon's report schemas
(``splake/spapi/models/schemas/reports``; the contract tests validate them)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from splake.sandbox.catalog import Product, products_for
from splake.sandbox.report_request import ReportFatal, ReportRequest
from splake.sandbox.report_text import amount, daterange, iso
from splake.spapi.marketplaces import marketplace

Json = dict[str, Any]

PERIODS = {
    "GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT": ("DAY", "WEEK", "MONTH", "QUARTER"),
    "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT": ("WEEK", "MONTH", "QUARTER"),
    "GET_BRAND_ANALYTICS_SEARCH_CATALOG_PERFORMANCE_REPORT": ("WEEK", "MONTH", "QUARTER"),
    "GET_BRAND_ANALYTICS_MARKET_BASKET_REPORT": ("DAY", "WEEK", "MONTH", "QUARTER"),
    "GET_BRAND_ANALYTICS_REPEAT_PURCHASE_REPORT": ("WEEK", "MONTH", "QUARTER"),
    "GET_VENDOR_TRAFFIC_REPORT": ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR"),
    "GET_VENDOR_NET_PURE_PRODUCT_MARGIN_REPORT": ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR"),
}
DEPARTMENTS = ("Amazon.com", "Home & Kitchen", "Sports & Outdoors", "Tools & Home Improvement")
TERMS = ("storage bins", "led lamp", "camping chair", "water bottle", "garden hose", "desk organizer")


def _rng(req: ReportRequest, *parts: object) -> random.Random:
    return random.Random(
        "|".join(str(p) for p in (req.seed, req.report_type, req.account.account_id, *parts))
    )


def _products(req: ReportRequest, n: int) -> list[Product]:
    k = max(3, int(n * min(req.scale, 4.0)))
    return list(products_for(req.seed, req.account, min(req.scale, 4.0))[:k])


def _days(req: ReportRequest) -> list[date]:
    return list(daterange(req.start.date(), min(req.end, req.as_of).date()))


def _spec(req: ReportRequest, options: tuple[str, ...] = (), dated: bool = True) -> Json:
    spec: Json = {"reportType": req.report_type}
    opts = dict(req.options)
    spec["reportOptions"] = {k: opts[k] for k in options if k in opts}
    if dated:
        days = _days(req) or [req.start.date()]
        spec["dataStartTime"] = days[0].isoformat()
        spec["dataEndTime"] = days[-1].isoformat()
    spec["marketplaceIds"] = [req.marketplace_ids[0]]
    return spec


def _period(req: ReportRequest) -> str:
    value = req.option("reportPeriod")
    allowed = PERIODS[req.report_type]
    if not value:
        raise ReportFatal(f"This report type requires the reportPeriod reportOption ({', '.join(allowed)}).")
    if value not in allowed:
        raise ReportFatal(
            f"Invalid value {value!r} for reportOption reportPeriod; allowed: {', '.join(allowed)}."
        )
    if value == "WEEK" and req.report_type.startswith("GET_BRAND_ANALYTICS_"):
        s, e = req.start.date(), req.end.date()
        if s.weekday() != 6 or e.weekday() != 5:
            raise ReportFatal(
                "For reportPeriod=WEEK, dataStartTime must be a Sunday and dataEndTime a Saturday "
                f"(got {s.isoformat()} to {e.isoformat()})."
            )
    return value


def _window(req: ReportRequest) -> tuple[str, str]:
    days = _days(req) or [req.start.date()]
    return days[0].isoformat(), days[-1].isoformat()


def _currency(req: ReportRequest) -> str:
    return marketplace(req.marketplace_ids[0]).currency


# --- Brand Analytics --------------------------------------------------------------------------------


def search_terms(req: ReportRequest) -> Json:
    _period(req)
    rows = []
    products = _products(req, 30)
    rank = 0
    for dept in DEPARTMENTS:
        for term in TERMS:
            rank += 1
            rng = _rng(req, dept, term, req.start.date())
            clicked = rng.sample(products, 3)
            shares = sorted((round(rng.uniform(0.01, 0.4), 4) for _ in range(3)), reverse=True)
            for i, p in enumerate(clicked):
                rows.append(
                    {
                        "departmentName": dept,
                        "searchTerm": term,
                        "searchFrequencyRank": rank,
                        "clickedAsin": p.asin,
                        "clickShareRank": i + 1,
                        "clickShare": shares[i],
                        "conversionShare": round(shares[i] * rng.uniform(0.2, 0.9), 4),
                    }
                )
    return {"reportSpecification": _spec(req, ("reportPeriod",)), "dataByDepartmentAndSearchTerm": rows}


def _price(rng: random.Random, cur: str) -> Json:
    return amount(rng.uniform(5, 80), cur)


def search_query_performance(req: ReportRequest) -> Json:
    _period(req)
    asins = req.option("asin").split()
    if not asins:
        raise ReportFatal("This report type requires the asin reportOption (space-separated ASINs).")
    start, end = _window(req)
    cur = _currency(req)
    rows = []
    for asin in asins:
        for q in TERMS[:4]:
            r = _rng(req, asin, q, start)
            total_imp, total_clicks = r.randint(1000, 9000), r.randint(100, 900)
            rows.append(
                {
                    "startDate": start,
                    "endDate": end,
                    "asin": asin,
                    "searchQueryData": {
                        "searchQuery": q,
                        "searchQueryScore": TERMS.index(q) + 1,
                        "searchQueryVolume": r.randint(500, 5000),
                    },
                    "impressionData": {
                        "totalQueryImpressionCount": total_imp,
                        "asinImpressionCount": total_imp // 10,
                        "asinImpressionShare": 0.1,
                    },
                    "clickData": {
                        "totalClickCount": total_clicks,
                        "totalClickRate": round(total_clicks / total_imp, 4),
                        "asinClickCount": total_clicks // 8,
                        "asinClickShare": 0.125,
                        "totalMedianClickPrice": _price(r, cur),
                        "asinMedianClickPrice": _price(r, cur),
                        "totalSameDayShippingClickCount": r.randint(0, 50),
                        "totalOneDayShippingClickCount": r.randint(0, 80),
                        "totalTwoDayShippingClickCount": r.randint(0, 200),
                    },
                    "cartAddData": {
                        "totalCartAddCount": total_clicks // 4,
                        "totalCartAddRate": 0.25,
                        "asinCartAddCount": total_clicks // 30,
                        "asinCartAddShare": 0.13,
                        "totalMedianCartAddPrice": _price(r, cur),
                        "asinMedianCartAddPrice": _price(r, cur),
                        "totalSameDayShippingCartAddCount": r.randint(0, 20),
                        "totalOneDayShippingCartAddCount": r.randint(0, 40),
                        "totalTwoDayShippingCartAddCount": r.randint(0, 90),
                    },
                    "purchaseData": {
                        "totalPurchaseCount": total_clicks // 10,
                        "totalPurchaseRate": 0.1,
                        "asinPurchaseCount": total_clicks // 80,
                        "asinPurchaseShare": 0.125,
                        "totalMedianPurchasePrice": _price(r, cur),
                        "asinMedianPurchasePrice": _price(r, cur),
                        "totalSameDayShippingPurchaseCount": r.randint(0, 10),
                        "totalOneDayShippingPurchaseCount": r.randint(0, 20),
                        "totalTwoDayShippingPurchaseCount": r.randint(0, 40),
                    },
                }
            )
    spec = _spec(req, ("reportPeriod", "asin"))
    return {"reportSpecification": spec, "dataByAsin": rows}


def search_catalog_performance(req: ReportRequest) -> Json:
    _period(req)
    start, end = _window(req)
    cur = _currency(req)
    rows = []
    for p in _products(req, 12):
        r = _rng(req, p.asin, start)
        imp = r.randint(500, 8000)
        clicks = imp // r.randint(8, 20)
        carts = clicks // 3
        buys = carts // 2
        rows.append(
            {
                "startDate": start,
                "endDate": end,
                "asin": p.asin,
                "impressionData": {
                    "impressionCount": imp,
                    "impressionMedianPrice": _price(r, cur),
                    "sameDayShippingImpressionCount": imp // 10,
                    "oneDayShippingImpressionCount": imp // 5,
                    "twoDayShippingImpressionCount": imp // 2,
                },
                "clickData": {
                    "clickCount": clicks,
                    "clickRate": round(clicks / imp, 4),
                    "clickedMedianPrice": _price(r, cur),
                    "sameDayShippingClickCount": clicks // 10,
                    "oneDayShippingClickCount": clicks // 5,
                    "twoDayShippingClickCount": clicks // 2,
                },
                "cartAddData": {
                    "cartAddCount": carts,
                    "cartAddedMedianPrice": _price(r, cur),
                    "sameDayShippingCartAddCount": carts // 10,
                    "oneDayShippingCartAddCount": carts // 5,
                    "twoDayShippingCartAddCount": carts // 2,
                },
                "purchaseData": {
                    "purchaseCount": buys,
                    "searchTrafficSales": amount(buys * p.price(cur), cur),
                    "conversionRate": round(buys / clicks, 4) if clicks else 0.0,
                    "purchaseMedianPrice": amount(p.price(cur), cur),
                    "sameDayShippingPurchaseCount": buys // 10,
                    "oneDayShippingPurchaseCount": buys // 5,
                    "twoDayShippingPurchaseCount": buys // 2,
                },
            }
        )
    return {"reportSpecification": _spec(req, ("reportPeriod", "asins")), "dataByAsin": rows}


def market_basket(req: ReportRequest) -> Json:
    _period(req)
    start, end = _window(req)
    products = _products(req, 15)
    rows = []
    for p in products[:8]:
        r = _rng(req, p.asin, start)
        others = r.sample([q for q in products if q.asin != p.asin], 3)
        for rank, q in enumerate(others, start=1):
            rows.append(
                {
                    "startDate": start,
                    "endDate": end,
                    "asin": p.asin,
                    "purchasedWithAsin": q.asin,
                    "purchasedWithRank": rank,
                    "combinationPct": round(r.uniform(0.005, 0.12), 4),  # a fraction
                }
            )
    return {"reportSpecification": _spec(req, ("reportPeriod",)), "dataByAsin": rows}


def repeat_purchase(req: ReportRequest) -> Json:
    _period(req)
    start, end = _window(req)
    cur = _currency(req)
    rows = []
    for p in _products(req, 10):
        r = _rng(req, p.asin, start)
        orders = r.randint(10, 200)
        rows.append(
            {
                "startDate": start,
                "endDate": end,
                "asin": p.asin,
                "orders": orders,
                "uniqueCustomers": orders - r.randint(0, orders // 4),
                "repeatCustomersPctTotal": round(r.uniform(0, 0.3), 4),
                "repeatPurchaseRevenue": amount(r.uniform(0, 500), cur),
                "repeatPurchaseRevenuePctTotal": round(r.uniform(0, 0.3), 4),
            }
        )
    return {"reportSpecification": _spec(req, ("reportPeriod",)), "dataByAsin": rows}


# --- B2B ----------------------------------------------------------------------------------------------


def b2b_recommended(req: ReportRequest) -> Json:
    cur = _currency(req)
    recs = []
    for p in _products(req, 10):
        r = _rng(req, p.asin)
        recs.append(
            {
                "asin": p.asin,
                "itemName": p.title("en"),
                "link": f"https://{marketplace(req.marketplace_ids[0]).domain}/dp/{p.asin}",
                "brand": "Northwind",
                "category": "Office Products",
                "subCategory": "Storage",
                "lowestPriceInTheLastWeek": amount(p.price(cur), cur),
                "hasFBAOffer": r.random() < 0.5,
                "offerCount": r.randint(1, 12),
                "hasAmazonOffer": r.random() < 0.3,
                "hasOfferWithVatInvoiceGeneration": False,
                "reviewCount": r.randint(0, 900),
                "b2bSalesRank": r.randint(1, 50000),
                "b2bSalesRankGrowth": r.choice(("HIGH", "MEDIUM", "LOW")),
                "pageViews": r.choice(("HIGH", "MEDIUM", "LOW")),
                "partNumber": f"PN-{p.index:05d}",
                "ean": "",
                "upc": p.upc,
                "modelNumber": f"M{p.index:04d}",
                "isbn": "",
                "isBrandYouOffer": r.random() < 0.5,
                "isCategoryYouOffer": True,
                "productPerformance": r.choice(("TIER_1", "TIER_2", "TIER_3")),
                "isProductOnAmazon": True,
            }
        )
    return {"recommendations": recs}


def b2b_not_on_amazon(req: ReportRequest) -> Json:
    recs = []
    for i in range(max(3, int(8 * min(req.scale, 4.0)))):
        r = _rng(req, "nya", i)
        recs.append(
            {
                "itemName": f"Industrial shelf bracket {i}",
                "brand": r.choice(("Acme", "Globex", "Initech")),
                "category": "Industrial & Scientific",
                "initialB2bBuyerIndustry": r.choice(("Education", "Healthcare", "Manufacturing")),
                "partNumber": f"BR-{i:04d}",
                "ean": "",
                "upc": f"{r.randrange(10**11, 10**12)}",
                "modelNumber": f"BR{i}",
                "isbn": "",
                "initialB2bBuyerRequestedDate": (req.as_of.date() - timedelta(days=i)).isoformat(),
            }
        )
    return {"recommendations": recs}


# --- seller performance -----------------------------------------------------------------------------


def _date_range(req: ReportRequest, days: int) -> Json:
    end = req.as_of.replace(hour=0, minute=0, second=0, microsecond=0)
    # minute precision with a Z, as in Amazon's examples: 2020-05-23T00:00Z
    fmt = "%Y-%m-%dT%H:%MZ"
    return {
        "reportingDateFrom": (end - timedelta(days=days)).strftime(fmt),
        "reportingDateTo": end.strftime(fmt),
    }


def _target(status: str, value: float, cond: str = "LESS_THAN") -> Json:
    return {"status": status, "targetValue": value, "targetCondition": cond}


def account_health(req: ReportRequest) -> Json:
    r = _rng(req, req.as_of.date())
    statuses, metrics = [], []
    for mid in req.account.marketplace_ids:
        statuses.append({"marketplaceId": mid, "status": "NORMAL"})
        orders = r.randint(100, 2000)

        def counted(n: int) -> Json:
            return {"count": n, "status": "GOOD"}

        def odr(channel: str, orders: int = orders) -> Json:
            return {
                "fulfillmentType": channel,
                "reportingDateRange": _date_range(req, 60),
                "orderCount": orders,
                "orderWithDefects": counted(2),
                "claims": counted(1),
                "chargebacks": counted(0),
                "negativeFeedback": counted(1),
                "rate": round(2 / orders, 4),
                **_target("GOOD", 0.01),
            }

        policy = {
            "reportingDateRange": _date_range(req, 180),
            "defectsCount": 0,
            **_target("GOOD", 0, "EQUALS"),
        }
        metrics.append(
            {
                "marketplaceId": mid,
                "invoiceDefectRate": {
                    "reportingDateRange": _date_range(req, 7),
                    "orderCount": orders // 10,
                    "invoiceDefect": counted(0),
                    "missingInvoice": counted(0),
                    "lateInvoice": counted(0),
                    "rate": 0.0,
                    **_target("GOOD", 0.05),
                },
                "lateShipmentRate": {
                    "reportingDateRange": _date_range(req, 30),
                    "orderCount": orders,
                    "lateShipmentCount": 3,
                    "rate": round(3 / orders, 4),
                    **_target("GOOD", 0.04),
                },
                "orderDefectRate": {"mfn": odr("MFN"), "afn": odr("AFN")},
                "onTimeDeliveryRate": {
                    "reportingDateRange": _date_range(req, 14),
                    "shipmentCountWithValidTracking": orders,
                    "onTimeDeliveryCount": orders - 5,
                    "rate": round((orders - 5) / orders, 4),
                    **_target("GOOD", 0.9, "GREATER_THAN"),
                },
                "unitOnTimeDeliveryRate": {
                    "reportingDateRange": _date_range(req, 14),
                    "unitOnTimeDeliveryCount": orders - 4,
                    "totalUnitCount": orders,
                    "rate": round((orders - 4) / orders, 4),
                    **_target("GOOD", 0.9, "GREATER_THAN"),
                },
                "validTrackingRate": {
                    "reportingDateRange": _date_range(req, 30),
                    "shipmentCount": orders,
                    "validTrackingCount": orders - 2,
                    "rate": round((orders - 2) / orders, 4),
                    **_target("GOOD", 0.95, "GREATER_THAN"),
                },
                "preFulfillmentCancellationRate": {
                    "reportingDateRange": _date_range(req, 7),
                    "orderCount": orders,
                    "cancellationCount": 1,
                    "rate": round(1 / orders, 4),
                    **_target("GOOD", 0.025),
                },
                "warningStates": [],
                "accountHealthRating": {
                    "reportingDateRange": _date_range(req, 180),
                    "ahrStatus": "GREAT",  # the field name Amazon sends (the schema's examples)
                },
                **{
                    name: dict(policy)
                    for name in (
                        "listingPolicyViolations",
                        "productAuthenticityCustomerComplaints",
                        "productConditionCustomerComplaints",
                        "productSafetyCustomerComplaints",
                        "receivedIntellectualPropertyComplaints",
                        "restrictedProductPolicyViolations",
                        "suspectedIntellectualPropertyViolations",
                        "foodAndProductSafetyIssues",
                        "otherPolicyViolations",
                        "documentRequests",
                    )
                },
            }
        )
    return {"accountStatuses": statuses, "performanceMetrics": metrics}


def promotions(req: ReportRequest) -> Json:
    cur = _currency(req)
    rows = []
    for d in _days(req):
        r = _rng(req, "promo", d)
        for i in range(2):
            start = datetime(d.year, d.month, d.day, 8 * i, tzinfo=UTC)
            products = r.sample(_products(req, 20), 2)
            rows.append(
                {
                    "promotionId": f"PRM{_code(req, d, i)}",
                    "promotionName": f"Spring deal {d.isoformat()} #{i + 1}",
                    "merchantId": req.account.selling_partner_id,
                    "unitsSold": r.randint(0, 80),
                    "amountSpent": round(r.uniform(0, 200), 2),
                    "amountSpentCurrencyCode": cur,
                    "revenue": round(r.uniform(0, 2000), 2),
                    "revenueCurrencyCode": cur,
                    "startDateTime": iso(start),
                    "endDateTime": iso(start + timedelta(days=7)),
                    "type": r.choice(("BEST_DEAL", "PRICE_DISCOUNT", "PROMO_CODE")),
                    "status": "APPROVED",
                    "creationChannel": "SELF-SERVICE",
                    "marketplaceId": req.marketplace_ids[0],
                    "glanceViews": r.randint(100, 5000),
                    "createdDateTime": iso(start - timedelta(days=3)),
                    "lastUpdatedDateTime": iso(start),
                    "includedProducts": [
                        {
                            "asin": p.asin,
                            "productName": p.title("en"),
                            "sku": p.sku,
                            "productGlanceViews": r.randint(10, 500),
                            "productUnitsSold": r.randint(0, 40),
                            "productRevenue": round(r.uniform(0, 800), 2),
                            "productRevenueCurrencyCode": cur,
                        }
                        for p in products
                    ],
                }
            )
    spec = {
        "reportType": req.report_type,
        "reportOptions": {
            "promotionStartDateFrom": iso(req.start),
            "promotionStartDateTo": iso(req.end),
        },
        "marketplaceIds": [req.marketplace_ids[0]],
    }
    return {"reportSpecification": spec, "promotions": rows}


def _code(req: ReportRequest, d: date, i: int) -> str:
    text = f"{req.seed}|{req.account.account_id}|{req.marketplace_ids[0]}|{d.toordinal()}|{i}"
    return str(int(hashlib.sha256(text.encode()).hexdigest()[:12], 16) % 10**8).zfill(8)


def coupons(req: ReportRequest) -> Json:
    cur = _currency(req)
    rows = []
    for d in _days(req):
        r = _rng(req, "coupon", d)
        start = datetime(d.year, d.month, d.day, 7, tzinfo=UTC)
        budget = round(r.uniform(100, 1000), 2)
        spent = round(budget * r.uniform(0, 0.8), 2)
        rows.append(
            {
                "couponId": f"CPN{d.strftime('%Y%m%d')}{req.marketplace_ids[0][-4:]}",
                "merchantId": req.account.selling_partner_id,
                "marketplaceId": req.marketplace_ids[0],
                "currencyCode": cur,
                "name": f"Save 10% {d.isoformat()}",
                "websiteMessage": "Save 10% with coupon",
                "startDateTime": iso(start),
                "endDateTime": iso(start + timedelta(days=14)),
                "customerSegment": "MOST_SUBSCRIBERS",
                "discountType": "PERCENT_OFF_LIST_PRICE",
                "discountAmount": 10.0,
                "clips": r.randint(0, 500),
                "redemptions": r.randint(0, 100),
                "budget": budget,
                "totalDiscount": spent,
                "budgetSpent": spent,
                "budgetRemaining": round(budget - spent, 2),
                "budgetPercentageUsed": round(100 * spent / budget, 2),
                "sales": round(spent * 9, 2),
                "asins": [
                    {"asin": p.asin, "sales": round(r.uniform(0, 300), 2)} for p in _products(req, 3)[:2]
                ],
            }
        )
    spec = {
        "reportType": req.report_type,
        "reportOptions": {"couponStartDateFrom": iso(req.start), "couponStartDateTo": iso(req.end)},
        "marketplaceIds": [req.marketplace_ids[0]],
    }
    return {"reportSpecification": spec, "coupons": rows}


# --- vendor -------------------------------------------------------------------------------------------


def _vendor_delay(req: ReportRequest) -> None:
    if req.vendor_delay_hours > 0:
        end_of_data = datetime.combine(req.end.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        if end_of_data + timedelta(hours=req.vendor_delay_hours) > req.as_of:
            raise ReportFatal(
                f"Data for {req.end.date().isoformat()} is not available yet; vendor data is available "
                f"{req.vendor_delay_hours:g} hours after the end of the day."
            )


def _vendor_periods(req: ReportRequest) -> list[tuple[date, date]]:
    period = _period(req)
    days = _days(req) or [req.start.date()]
    if period == "DAY":
        return [(d, d) for d in days]
    return [(days[0], days[-1])]


def vendor_traffic(req: ReportRequest) -> Json:
    _vendor_delay(req)
    agg, by_asin = [], []
    for ps, pe in _vendor_periods(req):
        total = 0
        for p in _products(req, 20):
            views = _rng(req, p.asin, ps).randint(0, 400)
            total += views
            by_asin.append(
                {"startDate": ps.isoformat(), "endDate": pe.isoformat(), "asin": p.asin, "glanceViews": views}
            )
        agg.append({"startDate": ps.isoformat(), "endDate": pe.isoformat(), "glanceViews": total})
    spec = _spec(req, ("reportPeriod",)) | {"lastUpdatedDate": req.as_of.date().isoformat()}
    return {"reportSpecification": spec, "trafficAggregate": agg, "trafficByAsin": by_asin}


def vendor_nppm(req: ReportRequest) -> Json:
    _vendor_delay(req)
    agg, by_asin = [], []
    for ps, pe in _vendor_periods(req):
        margins = []
        for p in _products(req, 20):
            m = round(_rng(req, p.asin, ps).uniform(-0.1, 0.45), 4)
            margins.append(m)
            by_asin.append(
                {
                    "startDate": ps.isoformat(),
                    "endDate": pe.isoformat(),
                    "asin": p.asin,
                    "netPureProductMargin": m,
                }
            )
        agg.append(
            {
                "startDate": ps.isoformat(),
                "endDate": pe.isoformat(),
                "netPureProductMargin": round(sum(margins) / len(margins), 4),
            }
        )
    spec = _spec(req, ("reportPeriod",)) | {"lastUpdatedDate": req.as_of.date().isoformat()}
    return {
        "reportSpecification": spec,
        "netPureProductMarginAggregate": agg,
        "netPureProductMarginByAsin": by_asin,
    }


def vendor_forecast(req: ReportRequest) -> Json:
    program = req.option("sellingProgram")
    if program not in ("RETAIL", "FRESH"):
        raise ReportFatal("This report type requires the sellingProgram reportOption (RETAIL or FRESH).")
    generated = req.as_of.date() - timedelta(days=(req.as_of.date().weekday() + 1) % 7)  # last Sunday
    rows = []
    for p in _products(req, 15 if program == "RETAIL" else 5):
        for w in range(4):
            s = generated + timedelta(days=7 * w)
            r = _rng(req, program, p.asin, s)
            mean = round(r.uniform(5, 200), 1)
            rows.append(
                {
                    "forecastGenerationDate": generated.isoformat(),
                    "asin": p.asin,
                    "startDate": s.isoformat(),
                    "endDate": (s + timedelta(days=6)).isoformat(),
                    "meanForecastUnits": mean,
                    "p70ForecastUnits": round(mean * 1.1, 1),
                    "p80ForecastUnits": round(mean * 1.2, 1),
                    "p90ForecastUnits": round(mean * 1.35, 1),
                }
            )
    spec = {
        "reportType": req.report_type,
        "reportOptions": {"sellingProgram": program},
        "lastUpdatedDate": req.as_of.date().isoformat(),
        "marketplaceIds": [req.marketplace_ids[0]],
    }
    return {"reportSpecification": spec, "forecastByAsin": rows}


def _hours(req: ReportRequest) -> list[datetime]:
    end = min(req.end, req.as_of)
    t = req.start.replace(minute=0, second=0, microsecond=0)
    if t < req.start:
        t += timedelta(hours=1)
    out = []
    while t + timedelta(hours=1) <= end + timedelta(seconds=1):
        out.append(t)
        t += timedelta(hours=1)
    return out


def _real_time(req: ReportRequest, fields: Callable[[random.Random, Product], Json]) -> Json:
    rows = []
    for h in _hours(req):
        r = _rng(req, h)
        for p in r.sample(_products(req, 12), 4):
            rows.append(
                {
                    "startTime": iso(h),
                    "endTime": iso(h + timedelta(hours=1) - timedelta(seconds=1)),
                    "asin": p.asin,
                    **fields(_rng(req, h, p.asin), p),
                }
            )
    spec: Json = {
        "reportType": req.report_type,
        "dataStartTime": iso(req.start),
        "dataEndTime": iso(req.end),
        "marketplaceIds": [req.marketplace_ids[0]],
    }
    if req.report_type == "GET_VENDOR_REAL_TIME_SALES_REPORT":
        spec["reportOptions"] = {"currencyCode": req.option("currencyCode") or _currency(req)}
    return {"reportSpecification": spec, "reportData": rows}


def vendor_rt_inventory(req: ReportRequest) -> Json:
    return _real_time(req, lambda r, p: {"highlyAvailableInventory": r.randint(0, 900)})


def vendor_rt_sales(req: ReportRequest) -> Json:
    cur = _currency(req)
    return _real_time(
        req,
        lambda r, p: (lambda u: {"orderedUnits": u, "orderedRevenue": round(u * p.price(cur), 2)})(
            r.randint(0, 20)
        ),
    )


def vendor_rt_traffic(req: ReportRequest) -> Json:
    return _real_time(req, lambda r, p: {"glanceViews": r.randint(0, 300)})


JSON_BUILDERS: dict[str, Callable[[ReportRequest], Json]] = {
    "GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT": search_terms,
    "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT": search_query_performance,
    "GET_BRAND_ANALYTICS_SEARCH_CATALOG_PERFORMANCE_REPORT": search_catalog_performance,
    "GET_BRAND_ANALYTICS_MARKET_BASKET_REPORT": market_basket,
    "GET_BRAND_ANALYTICS_REPEAT_PURCHASE_REPORT": repeat_purchase,
    "GET_B2B_PRODUCT_OPPORTUNITIES_RECOMMENDED_FOR_YOU": b2b_recommended,
    "GET_B2B_PRODUCT_OPPORTUNITIES_NOT_YET_ON_AMAZON": b2b_not_on_amazon,
    "GET_V2_SELLER_PERFORMANCE_REPORT": account_health,
    "GET_PROMOTION_PERFORMANCE_REPORT": promotions,
    "GET_COUPON_PERFORMANCE_REPORT": coupons,
    "GET_VENDOR_TRAFFIC_REPORT": vendor_traffic,
    "GET_VENDOR_NET_PURE_PRODUCT_MARGIN_REPORT": vendor_nppm,
    "GET_VENDOR_FORECASTING_REPORT": vendor_forecast,
    "GET_VENDOR_REAL_TIME_INVENTORY_REPORT": vendor_rt_inventory,
    "GET_VENDOR_REAL_TIME_SALES_REPORT": vendor_rt_sales,
    "GET_VENDOR_REAL_TIME_TRAFFIC_REPORT": vendor_rt_traffic,
}
