"""Logical rows (header → text value, exactly as written in the file) of the flat-file order reports
(by order date and by last update)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from splake.sandbox.catalog import language_of
from splake.sandbox.layouts import current_order_values, order_layout
from splake.sandbox.orders import VAT, Order, iter_orders
from splake.sandbox.report_request import ReportRequest
from splake.sandbox.report_text import country_of, iso, money, sales_channel

# Longest time between purchase and the last event of an order (shipping + late update), for
# last-updated windows.
MAX_ORDER_LIFETIME = timedelta(days=14)


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
