"""Settlements: the 14-day periods, their money events, and the rows of the V2 flat settlement report
(the V1 layout is written from the same events in ``settlement_v1.py``)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from splake.sandbox.accounts import SandboxAccount
from splake.sandbox.orders import VAT, Order, iter_orders
from splake.sandbox.report_request import ReportRequest
from splake.sandbox.report_text import country_of, local_datetime, money, sales_channel
from splake.sandbox.report_types import SETTLEMENT_COLUMNS
from splake.spapi.marketplaces import marketplace

SETTLEMENT_EPOCH = datetime(2024, 1, 5, 8, 0, tzinfo=UTC)  # a Friday; settlements run every 14 days
SETTLEMENT_PERIOD = timedelta(days=14)


@dataclass(frozen=True)
class SettlementPeriod:
    settlement_id: str
    marketplace_id: str
    start: datetime
    end: datetime

    @property
    def deposit(self) -> datetime:
        return self.end + timedelta(days=2)

    @property
    def available(self) -> datetime:
        """When Amazon has the report ready (createdTime)."""
        return self.end + timedelta(hours=9)


def settlement_periods(
    seed: int, account: SandboxAccount, since: datetime, until: datetime
) -> list[SettlementPeriod]:
    """Settlements whose report became available in [since, until]."""
    out = []
    k = max(0, int((since - SETTLEMENT_EPOCH) / SETTLEMENT_PERIOD) - 1)
    while True:
        start = SETTLEMENT_EPOCH + k * SETTLEMENT_PERIOD
        end = start + SETTLEMENT_PERIOD
        if end + timedelta(hours=9) > until:
            break
        for mid in account.marketplace_ids:
            sid = str(
                int(hashlib.sha256(f"{seed}|settle|{account.account_id}|{mid}|{k}".encode()).hexdigest(), 16)
                % 10**11
            )
            p = SettlementPeriod(sid, mid, start, end)
            if p.available >= since:
                out.append(p)
        k += 1
    return out


@dataclass(frozen=True)
class SettlementLine:
    """One money event of a settlement (both settlement layouts are written from these)."""

    order: Order
    item_index: int
    sku: str
    quantity: int
    promotion_id: str
    amount_type: str  # ItemPrice / ItemFees / Promotion
    description: str  # Principal / Tax / Commission / FBAPerUnitFulfillmentFee
    amount: float
    posted: datetime


def settlement_lines(req: ReportRequest, period: SettlementPeriod) -> tuple[list[SettlementLine], float]:
    """The settlement's events (orders shipped in the period) and their total."""
    mid = period.marketplace_id
    country, currency = country_of(mid), marketplace(mid).currency
    lines: list[SettlementLine] = []
    total = 0.0
    first = (period.start - timedelta(days=4)).date()
    for order in iter_orders(req.seed, req.account, mid, first, period.end.date(), req.scale):
        if order.ship_at is None or not (period.start <= order.ship_at < period.end):
            continue
        for n, item in enumerate(order.items):
            gross = item.unit_price * item.quantity
            fee_rate = 0.15
            amounts = [
                ("ItemPrice", "Principal", gross),
                ("ItemPrice", "Tax", gross * VAT.get(currency, 0.0) if country in {"US", "CA"} else 0.0),
                ("ItemFees", "Commission", -gross * fee_rate),
            ]
            if order.fulfillment == "Amazon":
                amounts.append(
                    (
                        "ItemFees",
                        "FBAPerUnitFulfillmentFee",
                        -(3.22 if currency != "JPY" else 318.0) * item.quantity,
                    )
                )
            if item.promotion_discount:
                amounts.append(("Promotion", "Principal", -item.promotion_discount))
            for a_type, a_desc, amount in amounts:
                amount = float(round(amount)) if currency == "JPY" else round(amount, 2)
                if amount == 0.0:
                    continue
                total += amount
                lines.append(
                    SettlementLine(
                        order,
                        n,
                        item.product.sku,
                        item.quantity,
                        item.promotion_id,
                        a_type,
                        a_desc,
                        amount,
                        order.ship_at,
                    )
                )
    return lines, (round(total, 2) if currency != "JPY" else float(round(total)))


def shipment_id(order_id: str) -> str:
    return "D" + hashlib.sha256(order_id.encode()).hexdigest()[:8].upper()


def settlement_rows(req: ReportRequest, period: SettlementPeriod) -> Iterator[dict[str, str]]:
    mid = period.marketplace_id
    country, currency = country_of(mid), marketplace(mid).currency
    comma = country in {"DE", "FR"}
    # every per-line column (those after the summary row's currency) starts empty
    empty = dict.fromkeys(SETTLEMENT_COLUMNS[SETTLEMENT_COLUMNS.index("transaction-type") :], "")
    events, total = settlement_lines(req, period)
    lines: list[dict[str, str]] = []
    for ev in events:
        lines.append(
            {
                **empty,
                "transaction-type": "Order",
                "order-id": ev.order.order_id,
                "shipment-id": shipment_id(ev.order.order_id),
                "marketplace-name": sales_channel(mid),
                "amount-type": ev.amount_type,
                "amount-description": ev.description,
                "amount": money(ev.amount, currency, comma),
                "fulfillment-id": "AFN" if ev.order.fulfillment == "Amazon" else "MFN",
                "posted-date": local_datetime(ev.posted, country).split(" ")[0],
                "posted-date-time": local_datetime(ev.posted, country),
                "order-item-code": _item_code(ev.order.order_id, ev.item_index),
                "sku": ev.sku,
                "quantity-purchased": str(ev.quantity)
                if ev.description == "Principal" and ev.amount_type == "ItemPrice"
                else "",
                "promotion-id": ev.promotion_id if ev.amount_type == "Promotion" else "",
            }
        )
    header = {
        "settlement-id": period.settlement_id,
        "settlement-start-date": local_datetime(period.start, country),
        "settlement-end-date": local_datetime(period.end, country),
        "deposit-date": local_datetime(period.deposit, country),
        "total-amount": money(total, currency, comma),
        "currency": currency,
        **empty,
    }
    yield header
    for line in lines:
        yield {
            "settlement-id": period.settlement_id,
            "settlement-start-date": "",
            "settlement-end-date": "",
            "deposit-date": "",
            "total-amount": "",
            "currency": "",
            **{k: line[k] for k in empty},
        }


def item_code(order_id: str, n: int) -> str:
    return _item_code(order_id, n)


def _item_code(order_id: str, n: int) -> str:
    return f"{int(hashlib.sha256(f'{order_id}|{n}'.encode()).hexdigest(), 16) % 10**14:014d}"
