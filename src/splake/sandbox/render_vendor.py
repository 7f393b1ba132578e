"""The vendor JSON reports (Vendor Sales, Vendor Inventory), shaped exactly like the official schemas in
``splake/spapi/models/schemas/reports``; their required report options are checked as Amazon does."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from splake.sandbox.catalog import products_for
from splake.sandbox.report_periods import vendor_periods
from splake.sandbox.report_request import ReportFatal, ReportRequest
from splake.sandbox.report_text import amount, daterange
from splake.spapi.marketplaces import marketplace

Json = dict[str, Any]

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
