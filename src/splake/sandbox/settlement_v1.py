"""The older settlement layout, ``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE`` (a different report type from
``…_FLAT_FILE_V2``): Amazon generates it for the same settlements, discoverable with getReports only.

Its lines carry one amount column per kind instead of V2's amount-type / amount-description / amount triple
(``price-type``/``price-amount``, ``item-related-fee-type``/``…-amount``, ``promotion-type``/``…-amount``, …)
and ``posted-date`` holds the time. Dates are ISO 8601 with an offset, as in the real files
(``2020-07-30T12:01:37+00:00``); the sandbox declares the layout itself (never from splake.reports)."""

from __future__ import annotations

from collections.abc import Iterator

from splake.sandbox.render_settlements import SettlementPeriod, item_code, settlement_lines, shipment_id
from splake.sandbox.report_request import ReportRequest
from splake.sandbox.report_text import iso, money, sales_channel
from splake.sandbox.report_types import SETTLEMENT_V1_COLUMNS
from splake.spapi.marketplaces import marketplace

# which pair of columns an event's amount goes to, by V2 amount type
_AMOUNT_COLUMNS = {
    "ItemPrice": ("price-type", "price-amount"),
    "ItemFees": ("item-related-fee-type", "item-related-fee-amount"),
    "Promotion": ("promotion-type", "promotion-amount"),
}


def settlement_v1_rows(req: ReportRequest, period: SettlementPeriod) -> Iterator[dict[str, str]]:
    mid = period.marketplace_id
    currency = marketplace(mid).currency
    empty = dict.fromkeys(SETTLEMENT_V1_COLUMNS, "")
    events, total = settlement_lines(req, period)
    yield {
        **empty,
        "settlement-id": period.settlement_id,
        "settlement-start-date": iso(period.start),
        "settlement-end-date": iso(period.end),
        "deposit-date": iso(period.deposit),
        "total-amount": money(total, currency),
        "currency": currency,
    }
    for ev in events:
        type_col, amount_col = _AMOUNT_COLUMNS[ev.amount_type]
        row = {
            **empty,
            "settlement-id": period.settlement_id,
            "transaction-type": "Order",
            "order-id": ev.order.order_id,
            "shipment-id": shipment_id(ev.order.order_id),
            "marketplace-name": sales_channel(mid),
            "fulfillment-id": "AFN" if ev.order.fulfillment == "Amazon" else "MFN",
            "posted-date": iso(ev.posted),
            "order-item-code": item_code(ev.order.order_id, ev.item_index),
            "sku": ev.sku,
            "quantity-purchased": str(ev.quantity)
            if (ev.amount_type, ev.description) == ("ItemPrice", "Principal")
            else "",
            type_col: ev.description,
            amount_col: money(ev.amount, currency),
        }
        if ev.amount_type == "Promotion":
            row["promotion-id"] = ev.promotion_id
        yield {c: row[c] for c in SETTLEMENT_V1_COLUMNS}
