"""Data Kiosk datasets of the sandbox world: the records a query asks for, before projection.

- ``analytics_salesAndTraffic_2024_04_24``: ``salesAndTrafficByDate`` (aggregateBy DAY/WEEK/MONTH) and
  ``salesAndTrafficByAsin`` (aggregateBy PARENT/CHILD/SKU over the whole range) — the same numbers as the
  GET_SALES_AND_TRAFFIC_REPORT of the same seller, marketplace and dates (one source of truth).
- ``analytics_economics_2024_03_15``: ``economics`` (aggregateBy {date: DAY/WEEK/MONTH/RANGE, productId:
  MSKU/FNSKU/CHILD_ASIN/PARENT_ASIN}) from the world's orders by purchase date (cancelled ones left out):
  sales, the referral fee (15 %) and FBA fulfillment fee (3.22 per unit, FBA only) — the same rates as the
  Finances APIs — and net proceeds = net product sales - fees.
Invalid arguments raise :class:`DatasetError` (the query ends FATAL with that message).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from splake.sandbox.graphql_lite import Field
from splake.sandbox.orders import iter_orders
from splake.sandbox.render_sales_traffic import sales_and_traffic
from splake.sandbox.report_periods import expand_period
from splake.sandbox.world import World
from splake.spapi.marketplaces import marketplace

SALES_TRAFFIC = "analytics_salesAndTraffic_2024_04_24"
ECONOMICS = "analytics_economics_2024_03_15"
DATASETS = {SALES_TRAFFIC: ("salesAndTrafficByDate", "salesAndTrafficByAsin"), ECONOMICS: ("economics",)}
REFERRAL = 0.15
FBA_FEE = 3.22


class DatasetError(ValueError):
    pass


def _date(args: dict[str, Any], name: str) -> date:
    try:
        return date.fromisoformat(str(args[name]))
    except (KeyError, ValueError):
        raise DatasetError(f"Argument '{name}' is required and must be a Date (YYYY-MM-DD).") from None


def _amount(v: float, cur: str) -> dict[str, Any]:
    return {"amount": round(v, 2), "currencyCode": cur}


def records(
    world: World, spid: str, account_mps: tuple[str, ...], root: Field, now: datetime
) -> list[dict[str, Any]]:
    """Every record of the one table the query selects (before projection), in a stable order."""
    if root.name not in DATASETS:
        raise DatasetError(f"Unknown dataset {root.name}.")
    if len(root.selections) != 1 or root.selections[0].name not in DATASETS[root.name]:
        raise DatasetError(f"Select exactly one of {', '.join(DATASETS[root.name])} in {root.name}.")
    table = root.selections[0]
    args = table.args
    start, end = _date(args, "startDate"), _date(args, "endDate")
    if start > end:
        raise DatasetError("startDate must not be after endDate.")
    if start < (now - timedelta(days=730)).date():
        raise DatasetError("startDate must be no more than two years ago.")
    mps = args.get("marketplaceIds")
    if not isinstance(mps, list) or not mps:
        raise DatasetError("Argument 'marketplaceIds' is required.")
    bad = [m for m in mps if m not in account_mps]
    if bad:
        raise DatasetError(f"Invalid marketplaceIds: {', '.join(map(str, bad))}.")
    end = min(end, now.date())
    out: list[dict[str, Any]] = []
    for mp in mps:
        if table.name == "salesAndTrafficByDate":
            out += _by_date(world, spid, mp, start, end, str(args.get("aggregateBy") or ""), now)
        elif table.name == "salesAndTrafficByAsin":
            out += _by_asin(world, spid, mp, start, end, str(args.get("aggregateBy") or ""), now)
        else:
            out += _economics(world, spid, mp, start, end, args.get("aggregateBy") or {}, now)
    return out


def _st_report(
    world: World, spid: str, mp: str, start: date, end: date, opts: dict[str, str], now: datetime
) -> Any:
    req = world.report_request(
        "GET_SALES_AND_TRAFFIC_REPORT",
        spid,
        (mp,),
        datetime.combine(start, time(), UTC),
        datetime.combine(end, time(23, 59, 59), UTC),
        opts,
        as_of=now,
    )
    return sales_and_traffic(req)


def _by_date(
    world: World, spid: str, mp: str, start: date, end: date, gran: str, now: datetime
) -> list[dict[str, Any]]:
    if gran not in ("DAY", "WEEK", "MONTH"):
        raise DatasetError("aggregateBy must be DAY, WEEK or MONTH.")
    doc = _st_report(world, spid, mp, start, end, {"dateGranularity": gran, "asinGranularity": "PARENT"}, now)
    periods = expand_period(start, end, gran)
    return [
        {
            "startDate": ps.isoformat(),
            "endDate": pe.isoformat(),
            "marketplaceId": mp,
            "sales": rec["salesByDate"],
            "traffic": rec["trafficByDate"],
        }
        for (ps, pe), rec in zip(periods, doc["salesAndTrafficByDate"], strict=True)
    ]


def _by_asin(
    world: World, spid: str, mp: str, start: date, end: date, gran: str, now: datetime
) -> list[dict[str, Any]]:
    if gran not in ("PARENT", "CHILD", "SKU"):
        raise DatasetError("aggregateBy must be PARENT, CHILD or SKU.")
    doc = _st_report(world, spid, mp, start, end, {"dateGranularity": "DAY", "asinGranularity": gran}, now)
    out = []
    for rec in doc["salesAndTrafficByAsin"]:
        row: dict[str, Any] = {
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "marketplaceId": mp,
        }
        row.update({k: rec[k] for k in ("parentAsin", "childAsin", "sku") if k in rec})
        row["sales"] = rec["salesByAsin"]
        row["traffic"] = rec["trafficByAsin"]
        out.append(row)
    return out


def _economics(
    world: World, spid: str, mp: str, start: date, end: date, agg: Any, now: datetime
) -> list[dict[str, Any]]:
    agg = agg if isinstance(agg, dict) else {}
    gran = str(agg.get("date") or "DAY")
    product = str(agg.get("productId") or "MSKU")
    if gran not in ("DAY", "WEEK", "MONTH", "RANGE") or product not in (
        "MSKU",
        "FNSKU",
        "CHILD_ASIN",
        "PARENT_ASIN",
    ):
        raise DatasetError(
            "aggregateBy.date must be DAY/WEEK/MONTH/RANGE and productId MSKU/FNSKU/CHILD_ASIN/PARENT_ASIN."
        )
    periods = [(start, end)] if gran == "RANGE" else expand_period(start, end, gran)
    acct = world.account_by_selling_partner_id(spid)
    assert acct is not None
    cur = marketplace(mp).currency
    # (period index, product key) -> [units, sales, fba units]
    acc: dict[tuple[int, tuple[str, ...]], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    first, last = periods[0][0], periods[-1][1]
    for o in iter_orders(world.seed, acct, mp, first, last, world.scale):
        st = o.status_at(now)
        if st is None or st[0] == "Cancelled":
            continue
        d = o.purchase.date()
        idx = next((n for n, (ps, pe) in enumerate(periods) if ps <= d <= pe), None)
        if idx is None:
            continue
        for i in o.items:
            p = i.product
            key = {
                "MSKU": (p.parent_asin, p.asin, p.sku, p.fnsku),
                "FNSKU": (p.parent_asin, p.asin, p.sku, p.fnsku),
                "CHILD_ASIN": (p.parent_asin, p.asin),
                "PARENT_ASIN": (p.parent_asin,),
            }[product]
            vals = acc[(idx, key)]
            vals[0] += i.quantity
            vals[1] += i.unit_price * i.quantity
            if o.fulfillment == "Amazon":
                vals[2] += i.quantity
    out = []
    for (idx, key), (units, sales, fba_units) in sorted(acc.items()):
        ps, pe = periods[idx]
        referral = round(sales * REFERRAL, 2)
        fba = round(fba_units * FBA_FEE, 2)

        def detail(v: float, qty: float) -> dict[str, Any]:
            return {
                "amount": _amount(v, cur),
                "promotionAmount": _amount(0.0, cur),
                "taxAmount": _amount(0.0, cur),
                "totalAmount": _amount(v, cur),
                "quantity": qty,
                "amountPerUnit": _amount(v / qty if qty else 0.0, cur),
            }

        fees = [{"feeTypeName": "Referral fee", "charge": {"aggregatedDetail": detail(referral, units)}}]
        if fba_units:
            fees.append(
                {
                    "feeTypeName": "FBA fulfillment fees",
                    "charge": {"aggregatedDetail": detail(fba, fba_units)},
                }
            )
        net = round(sales, 2) - referral - fba
        row: dict[str, Any] = {
            "startDate": ps.isoformat(),
            "endDate": pe.isoformat(),
            "marketplaceId": mp,
            "parentAsin": key[0],
            "sales": {
                "orderedProductSales": _amount(sales, cur),
                "refundedProductSales": _amount(0.0, cur),
                "netProductSales": _amount(sales, cur),
                "unitsOrdered": int(units),
                "unitsRefunded": 0,
                "netUnitsSold": int(units),
                "averageSellingPrice": _amount(sales / units, cur) if units else None,
            },
            "fees": fees,
            "ads": [],
            "netProceeds": {
                "total": _amount(net, cur),
                "perUnit": _amount(net / units if units else 0.0, cur),
            },
        }
        if len(key) > 1:
            row["childAsin"] = key[1]
        if len(key) > 2:
            row["msku"], row["fnsku"] = key[2], key[3]
        out.append(row)
    return out
