"""Logical rows (header → text value, exactly as written in the file) of the FBA returns report."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime, timedelta

from splake.sandbox.catalog import language_of
from splake.sandbox.orders import iter_orders
from splake.sandbox.report_request import ReportRequest
from splake.sandbox.report_text import iso

# Returns happen up to this long after shipping.
MAX_RETURN_DELAY = timedelta(days=30)


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
