"""Logical rows (dict of header → text value, exactly as written in the file) for flat-file reports."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from splake.sandbox.accounts import SandboxAccount
from splake.sandbox.catalog import Product, language_of, products_for
from splake.sandbox.layouts import current_order_values, de_listing_datetime, order_layout
from splake.sandbox.orders import VAT, Order, iter_orders
from splake.sandbox.report_types import SETTLEMENT_COLUMNS
from splake.spapi.marketplaces import marketplace

# Longest time between purchase and the last event of an order (shipping + late update), for
# last-updated windows; returns happen up to this long after shipping.
MAX_ORDER_LIFETIME = timedelta(days=14)
MAX_RETURN_DELAY = timedelta(days=30)


@dataclass(frozen=True)
class ReportRequest:
    report_type: str
    account: SandboxAccount
    marketplace_ids: tuple[str, ...]
    start: datetime
    end: datetime
    options: tuple[tuple[str, str], ...]
    as_of: datetime
    seed: int
    scale: float
    drift: bool = False
    localized: bool = False  # JP Japanese header labels
    vendor_delay_hours: float = 0.0

    def option(self, name: str, default: str = "") -> str:
        return dict(self.options).get(name, default)


def iso(dt: datetime) -> str:
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    return dt.replace(microsecond=0).isoformat()


def money(value: float, currency: str, comma: bool = False) -> str:
    text = f"{value:.0f}" if currency == "JPY" else f"{value:.2f}"
    return text.replace(".", ",") if comma else text


def local_datetime(dt: datetime, country: str) -> str:
    """Seller Central style local timestamps (open-date, settlement dates)."""
    summer = 4 <= dt.month <= 10
    if country in {"US", "CA"}:
        off, tz = (-7, "PDT") if summer else (-8, "PST")
        return (dt + timedelta(hours=off)).strftime("%Y-%m-%d %H:%M:%S ") + tz
    if country == "JP":
        return (dt + timedelta(hours=9)).strftime("%Y/%m/%d %H:%M:%S JST")
    if country == "GB":
        off, tz = (1, "BST") if summer else (0, "GMT")
        return (dt + timedelta(hours=off)).strftime("%d/%m/%Y %H:%M:%S ") + tz
    if country == "DE":
        off, tz = (2, "MESZ") if summer else (1, "MEZ")
        return (dt + timedelta(hours=off)).strftime("%d.%m.%Y %H:%M:%S ") + tz
    off, tz = (2, "CEST") if summer else (1, "CET")
    return (dt + timedelta(hours=off)).strftime("%d/%m/%Y %H:%M:%S ") + tz


def country_of(marketplace_id: str) -> str:
    code = marketplace(marketplace_id).code
    return "GB" if code == "UK" else code


def sales_channel(marketplace_id: str) -> str:
    host = marketplace(marketplace_id).domain.removeprefix("www.")
    return host[0].upper() + host[1:]


# --- orders ---------------------------------------------------------------------------------------


def order_rows(order: Order, as_of: datetime, language: str, drift: bool = False) -> list[dict[str, str]]:
    state = order.status_at(as_of)
    if state is None:
        return []
    order_status, item_status, last = state
    rows = []
    for item in order.items:
        cancelled = order_status == "Cancelled"
        hide_price = cancelled or (order_status == "Pending" and order.fulfillment == "Merchant")
        gross = item.unit_price * item.quantity
        rate = VAT.get(order.currency, 0.0)
        rows.append(
            {
                "amazon-order-id": order.order_id,
                "merchant-order-id": "",
                "purchase-date": iso(order.purchase),
                "last-updated-date": iso(last),
                "order-status": order_status,
                "fulfillment-channel": order.fulfillment,
                "sales-channel": sales_channel(order.marketplace_id),
                "order-channel": "",
                "url": "",
                "ship-service-level": order.ship_service_level,
                "product-name": item.product.title(language),
                "sku": item.product.sku,
                "asin": item.product.asin,
                "item-status": item_status,
                "quantity": "0" if cancelled else str(item.quantity),
                "currency": "" if hide_price else order.currency,
                "item-price": "" if hide_price else money(gross, order.currency),
                "item-tax": "" if hide_price else money(gross * rate, order.currency),
                "shipping-price": "" if hide_price else money(item.shipping_price, order.currency),
                "shipping-tax": "" if hide_price else money(item.shipping_price * rate, order.currency),
                "gift-wrap-price": "",
                "gift-wrap-tax": "",
                "item-promotion-discount": ""
                if hide_price or not item.promotion_discount
                else money(-item.promotion_discount, order.currency),
                "ship-promotion-discount": "",
                "ship-city": order.city,
                "ship-state": order.state,
                "ship-postal-code": order.postal_code,
                "ship-country": order.country,
                "promotion-ids": item.promotion_id,
                "is-business-order": "true" if order.is_business else "false",
                "purchase-order-number": "",
                "price-designation": "BusinessPrice" if order.is_business else "",
            }
        )
        if drift:
            rows[-1]["is-iba"] = "false"
            rows[-1]["signature-confirmation-recommended"] = "true" if gross >= 250 else "false"
        layout = order_layout(country_of(order.marketplace_id))
        if layout is not None:  # today's layout of this marketplace: exactly its columns, in its order
            full = rows[-1] | current_order_values(
                currency=order.currency,
                fulfillment=order.fulfillment,
                is_business=order.is_business,
                quantity=0 if cancelled else item.quantity,
                gross=gross,
                shipping=item.shipping_price,
                rate=rate,
                hide_price=hide_price,
            )
            # schema-drift columns are appended after the layout (as report_types.columns_for does)
            extra = [c for c in ("is-iba", "signature-confirmation-recommended") if drift and c not in layout]
            rows[-1] = {c: full[c] for c in (*layout, *extra)}
    return rows


def orders_report_rows(
    req: ReportRequest, by_last_update: bool, cache: bool = True
) -> Iterator[dict[str, str]]:
    for mid in req.marketplace_ids:
        language = language_of(mid)
        first_day = (req.start - MAX_ORDER_LIFETIME).date() if by_last_update else req.start.date()
        last_day = min(req.end, req.as_of).date()
        selected: list[tuple[datetime, str, Order]] = []
        for order in iter_orders(req.seed, req.account, mid, first_day, last_day, req.scale, cache=cache):
            state = order.status_at(req.as_of)
            if state is None:
                continue
            t = state[2] if by_last_update else order.purchase
            if req.start <= t <= req.end:
                if by_last_update:
                    selected.append((t, order.order_id, order))
                else:
                    yield from order_rows(order, req.as_of, language, req.drift)
        if by_last_update:
            selected.sort(key=lambda x: (x[0], x[1]))
            for _, _, order in selected:
                yield from order_rows(order, req.as_of, language, req.drift)


# --- inventory / listings snapshots ---------------------------------------------------------------


def _day_rng(req: ReportRequest, p: Product, kind: str) -> random.Random:
    return random.Random(f"{req.seed}|{kind}|{req.account.account_id}|{p.sku}|{req.as_of.date().isoformat()}")


def stock(req: ReportRequest, p: Product) -> tuple[int, int, int, int]:
    """(fulfillable, unsellable, reserved, inbound) for a product on the as-of day."""
    base = random.Random(f"{req.seed}|stockbase|{p.sku}").randint(0, 400)
    rng = _day_rng(req, p, "stock")
    fulfillable = max(0, base + rng.randint(-30, 30)) if base > 20 else rng.randint(0, 5)
    unsellable = rng.randint(0, 4) if rng.random() < 0.2 else 0
    reserved = rng.randint(0, 12)
    inbound = rng.choice((0, 0, 0, 24, 48, 120))
    return fulfillable, unsellable, reserved, inbound


def listing_id(p: Product, mid: str) -> str:
    return hashlib.sha256(f"{p.sku}|{mid}".encode()).hexdigest()[:11].upper()


def listings_rows(req: ReportRequest) -> Iterator[dict[str, str]]:
    mid = req.marketplace_ids[0]
    country, currency = country_of(mid), marketplace(mid).currency
    language = language_of(mid)
    channel = {"NA": "AMAZON_NA", "EU": "AMAZON_EU", "FE": "AMAZON_JP"}[marketplace(mid).region]
    for p in products_for(req.seed, req.account, min(req.scale, 4.0)):
        if p.open_date > req.as_of:
            continue
        fulfillable = stock(req, p)[0]
        inactive = random.Random(f"{req.seed}|inactive|{p.sku}|{mid}").random() < 0.08 or (
            p.fulfillment == "MFN" and fulfillable == 0
        )
        yield {
            "item-name": p.title(language),
            "item-description": "",
            "listing-id": listing_id(p, mid),
            "seller-sku": p.sku,
            "price": money(p.price(currency), currency),
            "quantity": "" if p.fulfillment == "AFN" else str(fulfillable),
            "open-date": de_listing_datetime(p.open_date)
            if country == "DE"
            else local_datetime(p.open_date, country),
            "image-url": "",
            "item-is-marketplace": "y",
            "product-id-type": "1",
            "zshop-shipping-fee": "",
            "item-note": "",
            "item-condition": "11",
            "zshop-category1": "",
            "zshop-browse-path": "",
            "zshop-storefront-feature": "",
            "asin1": p.asin,
            "asin2": "",
            "asin3": "",
            "will-ship-internationally": "",
            "expedited-shipping": "",
            "zshop-boldface": "",
            "product-id": p.asin,
            "bid-for-featured-placement": "",
            "add-delete": "",
            "pending-quantity": "0",
            "fulfillment-channel": channel if p.fulfillment == "AFN" else "DEFAULT",
            "merchant-shipping-group": "Migrated Template",
            "status": "Inactive" if inactive else "Active",
            **(_b2b_prices(p, currency) if req.drift else {}),
        }


def _b2b_prices(p: Product, currency: str) -> dict[str, str]:
    business = p.price(currency) * 0.95
    return {
        "Business Price": money(business, currency),
        "Quantity Price Type": "percent" if p.index % 3 else "",
        "Quantity Lower Bound 1": "10" if p.index % 3 else "",
        "Quantity Price 1": "5" if p.index % 3 else "",
    }


def myi_rows(req: ReportRequest) -> Iterator[dict[str, str]]:
    mid = req.marketplace_ids[0]
    currency, language = marketplace(mid).currency, language_of(mid)
    for p in products_for(req.seed, req.account, min(req.scale, 4.0)):
        if p.fulfillment != "AFN" or p.open_date > req.as_of:
            continue
        fulfillable, unsellable, reserved, inbound = stock(req, p)
        warehouse = fulfillable + unsellable + reserved
        yield {
            "sku": p.sku,
            "fnsku": p.fnsku,
            "asin": p.asin,
            "product-name": p.title(language),
            "condition": "New",
            "your-price": money(p.price(currency), currency),
            "mfn-listing-exists": "No",
            "mfn-fulfillable-quantity": "",
            "afn-listing-exists": "Yes",
            "afn-warehouse-quantity": str(warehouse),
            "afn-fulfillable-quantity": str(fulfillable),
            "afn-unsellable-quantity": str(unsellable),
            "afn-reserved-quantity": str(reserved),
            "afn-total-quantity": str(warehouse + inbound),
            "per-unit-volume": f"{0.05 + (p.index % 17) * 0.03:.2f}",
            "afn-inbound-working-quantity": "0",
            "afn-inbound-shipped-quantity": str(inbound),
            "afn-inbound-receiving-quantity": "0",
            "afn-researching-quantity": "0",
            "afn-reserved-future-supply": "0",
            "afn-future-supply-buyable": "0",
        }


def afn_inventory_rows(req: ReportRequest) -> Iterator[dict[str, str]]:
    for p in products_for(req.seed, req.account, min(req.scale, 4.0)):
        if p.fulfillment != "AFN" or p.open_date > req.as_of:
            continue
        fulfillable, unsellable, _, _ = stock(req, p)
        base = {
            "seller-sku": p.sku,
            "fulfillment-channel-sku": p.fnsku,
            "asin": p.asin,
            "condition-type": "NewItem",
        }
        yield {**base, "Warehouse-Condition-code": "SELLABLE", "Quantity Available": str(fulfillable)}
        if unsellable:
            yield {**base, "Warehouse-Condition-code": "UNSELLABLE", "Quantity Available": str(unsellable)}


# --- returns ----------------------------------------------------------------------------------------


def returns_rows(req: ReportRequest) -> Iterator[dict[str, str]]:
    found: list[tuple[datetime, str, dict[str, str]]] = []
    for mid in req.marketplace_ids:
        language = language_of(mid)
        first = (req.start - MAX_RETURN_DELAY - timedelta(days=4)).date()
        for order in iter_orders(
            req.seed, req.account, mid, first, min(req.end, req.as_of).date(), req.scale
        ):
            r = order.return_at
            if r is None or not (req.start <= r <= req.end) or r > req.as_of:
                continue
            item = order.items[0]
            lpn = "LPN" + hashlib.sha256(order.order_id.encode()).hexdigest()[:9].upper()
            found.append(
                (
                    r,
                    order.order_id,
                    {
                        "return-date": iso(r),
                        "order-id": order.order_id,
                        "sku": item.product.sku,
                        "asin": item.product.asin,
                        "fnsku": item.product.fnsku,
                        "product-name": item.product.title(language),
                        "quantity": "1",
                        "fulfillment-center-id": order.fulfillment_center,
                        "detailed-disposition": order.return_disposition,
                        "reason": order.return_reason,
                        "status": "Unit returned to inventory",
                        "license-plate-number": lpn,
                        "customer-comments": "",
                    },
                )
            )
    found.sort(key=lambda x: (x[0], x[1]))
    for _, _, row in found:
        yield row


# --- settlements ------------------------------------------------------------------------------------

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


def daterange(start: date, end: date) -> Iterator[date]:
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)
