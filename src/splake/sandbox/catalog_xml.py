"""XML documents of the sandbox's catalog types (orders, order report for shipping, browse tree).

:func:`xml_rows` gives the logical rows (one per OrderItem / Item / Node, the ground truth) and
:func:`xml_lines` the document, streamed as text chunks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from splake.sandbox.render_orders import orders_report_rows
from splake.sandbox.report_request import ReportRequest
from splake.sandbox.report_text import country_of
from splake.spapi.marketplaces import marketplace

ORDER_TYPES = {
    "GET_XML_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL": False,
    "GET_XML_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL": True,
}
SHIPPING_TYPE = "GET_ORDER_REPORT_DATA_SHIPPING"
BROWSE_TYPE = "GET_XML_BROWSE_TREE_DATA"
XML_TYPES = frozenset({*ORDER_TYPES, SHIPPING_TYPE, BROWSE_TYPE})

_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<AmazonEnvelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:noNamespaceSchemaLocation="amzn-envelope.xsd">\n'
    "<Header><DocumentVersion>1.01</DocumentVersion></Header>\n"
)


def _e(tag: str, value: str) -> str:
    return f"<{tag}>{escape(value)}</{tag}>"


def _item_code(order_id: str, i: int) -> str:
    return str(int(hashlib.sha256(f"{order_id}|{i}".encode()).hexdigest()[:12], 16) % 10**14).zfill(14)


def _orders(req: ReportRequest) -> Iterator[list[dict[str, str]]]:
    """Orders as lists of their flat-file item rows (consecutive rows of one order id)."""
    by_update = ORDER_TYPES.get(req.report_type, False)
    current: list[dict[str, str]] = []
    for row in orders_report_rows(req, by_last_update=by_update):
        if req.report_type == SHIPPING_TYPE and row["fulfillment-channel"] != "Merchant":
            continue
        if current and current[0]["amazon-order-id"] != row["amazon-order-id"]:
            yield current
            current = []
        current.append(row)
    if current:
        yield current


def _price(components: list[tuple[str, str]], currency: str) -> str:
    parts = [
        f"<Component><Type>{t}</Type><Amount currency={quoteattr(currency)}>{v}</Amount></Component>"
        for t, v in components
        if v
    ]
    return f"<ItemPrice>{''.join(parts)}</ItemPrice>" if parts else ""


def _all_orders_xml(items: list[dict[str, str]]) -> str:
    o = items[0]
    out = [
        "<Order>",
        _e("AmazonOrderID", o["amazon-order-id"]),
        _e("MerchantOrderID", o["merchant-order-id"]) if o["merchant-order-id"] else "",
        _e("PurchaseDate", o["purchase-date"]),
        _e("LastUpdatedDate", o["last-updated-date"]),
        _e("OrderStatus", o["order-status"]),
        _e("SalesChannel", o["sales-channel"]),
        "<FulfillmentData>",
        _e("FulfillmentChannel", o["fulfillment-channel"]),
        _e("ShipServiceLevel", o["ship-service-level"]),
        "<Address>",
        _e("City", o["ship-city"]),
        _e("State", o["ship-state"]),
        _e("PostalCode", o["ship-postal-code"]),
        _e("Country", o["ship-country"]),
        "</Address></FulfillmentData>",
        _e("IsBusinessOrder", o["is-business-order"]),
    ]
    for i, it in enumerate(items):
        out += [
            "<OrderItem>",
            _e("AmazonOrderItemCode", _item_code(o["amazon-order-id"], i)),
            _e("ASIN", it["asin"]),
            _e("SKU", it["sku"]),
            _e("ItemStatus", it["item-status"]),
            _e("ProductName", it["product-name"]),
            _e("Quantity", it["quantity"]),
            _price(
                [
                    ("Principal", it["item-price"]),
                    ("Tax", it["item-tax"]),
                    ("Shipping", it["shipping-price"]),
                    ("ShippingTax", it["shipping-tax"]),
                ],
                it["currency"],
            ),
        ]
        if it["promotion-ids"]:
            out += [
                "<Promotion>",
                _e("PromotionIDs", it["promotion-ids"]),
                _e("ItemPromotionDiscount", it["item-promotion-discount"]),
                "</Promotion>",
            ]
        out.append("</OrderItem>")
    out.append("</Order>")
    return "".join(out)


def _shipping_xml(items: list[dict[str, str]], country: str) -> str:
    o = items[0]
    out = [
        "<OrderReport>",
        _e("AmazonOrderID", o["amazon-order-id"]),
        _e("AmazonSessionID", "000-" + o["amazon-order-id"][4:]),
        _e("OrderDate", o["purchase-date"]),
        _e("OrderPostedDate", o["purchase-date"]),
        # buyer data is PII: empty unless the request carries a Restricted Data Token
        "<BillingData><BuyerEmailAddress></BuyerEmailAddress><BuyerName></BuyerName>"
        "<BuyerPhoneNumber></BuyerPhoneNumber></BillingData>",
        "<FulfillmentData>",
        _e("FulfillmentMethod", "Ship"),
        _e("FulfillmentServiceLevel", o["ship-service-level"]),
        "<Address>",
        _e("Name", ""),
        _e("City", o["ship-city"]),
        _e("StateOrRegion", o["ship-state"]),
        _e("PostalCode", o["ship-postal-code"]),
        _e("CountryCode", o["ship-country"] or country),
        "</Address></FulfillmentData>",
        _e("IsBusinessOrder", o["is-business-order"]),
    ]
    for i, it in enumerate(items):
        out += [
            "<Item>",
            _e("AmazonOrderItemCode", _item_code(o["amazon-order-id"], i)),
            _e("SKU", it["sku"]),
            _e("Title", it["product-name"]),
            _e("Quantity", it["quantity"]),
            _e("ProductTaxCode", "A_GEN_TAX"),
            _price(
                [
                    ("Principal", it["item-price"]),
                    ("Shipping", it["shipping-price"]),
                    ("Tax", it["item-tax"]),
                    ("ShippingTax", it["shipping-tax"]),
                ],
                it["currency"],
            ),
            "</Item>",
        ]
    out.append("</OrderReport>")
    return "".join(out)


# --- browse tree ------------------------------------------------------------------------------------

_DEPARTMENTS = ("Home & Kitchen", "Sports & Outdoors", "Garden", "Tools", "Office Products")
_SUB = ("Storage", "Lighting", "Accessories", "Cleaning", "Decor")


def _browse_nodes(req: ReportRequest) -> list[dict[str, Any]]:
    mid = req.marketplace_ids[0]
    base = int(hashlib.sha256(mid.encode()).hexdigest()[:6], 16) * 1000
    nodes: list[dict[str, Any]] = []
    for i, dept in enumerate(_DEPARTMENTS):
        root_id = str(base + i * 100)
        children = [str(base + i * 100 + j + 1) for j in range(len(_SUB))]
        nodes.append(
            {"id": root_id, "name": dept, "path_ids": [root_id], "path": [dept], "children": children}
        )
        for j, sub in enumerate(_SUB):
            cid = children[j]
            nodes.append(
                {"id": cid, "name": sub, "path_ids": [root_id, cid], "path": [dept, sub], "children": []}
            )
    return nodes


def _node_xml(n: dict[str, Any]) -> str:
    kids = "".join(_e("id", c) for c in n["children"])
    attrs = (
        '<browseNodeAttributes count="1"><attribute name="department">'
        + escape(n["path"][0])
        + "</attribute></browseNodeAttributes>"
    )
    return (
        "<Node>"
        + _e("browseNodeId", n["id"])
        + attrs
        + _e("browseNodeName", n["name"])
        + _e("browseNodeStoreContextName", n["path"][0])
        + _e("browsePathById", ",".join(n["path_ids"]))
        + _e("browsePathByName", ",".join(n["path"]))
        + _e("hasChildren", "true" if n["children"] else "false")
        + f'<childNodes count="{len(n["children"])}">{kids}</childNodes>'
        + _e("productTypeDefinitions", "HOME" if n["children"] else "HOME_ORGANIZER")
        + '<refinementsInformation count="0"/>'
        + "</Node>"
    )


def xml_rows(req: ReportRequest) -> Iterator[dict[str, Any]]:
    if req.report_type == BROWSE_TYPE:
        for n in _browse_nodes(req):
            yield {"browseNodeId": n["id"], "browseNodeName": n["name"], "hasChildren": bool(n["children"])}
        return
    for items in _orders(req):
        for i, it in enumerate(items):
            yield {
                "AmazonOrderID": it["amazon-order-id"],
                "AmazonOrderItemCode": _item_code(it["amazon-order-id"], i),
            }


def xml_lines(req: ReportRequest) -> Iterator[str]:
    if req.report_type == BROWSE_TYPE:
        yield '<?xml version="1.0" encoding="UTF-8"?>\n<Result>\n'
        for n in _browse_nodes(req):
            yield _node_xml(n) + "\n"
        yield "</Result>\n"
        return
    country = country_of(req.marketplace_ids[0])
    shipping = req.report_type == SHIPPING_TYPE
    yield _HEAD + _e("MessageType", "OrderReport" if shipping else "AllOrdersReport") + "\n"
    for i, items in enumerate(_orders(req), start=1):
        body = _shipping_xml(items, country) if shipping else _all_orders_xml(items)
        yield f"<Message><MessageID>{i}</MessageID>{body}</Message>\n"
    yield "</AmazonEnvelope>\n"


def currency_of(req: ReportRequest) -> str:
    return marketplace(req.marketplace_ids[0]).currency
