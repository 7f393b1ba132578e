"""Document realism that varies by marketplace, declared as data by the sandbox itself (never taken from
``splake.reports``): today's order-report layout, German zone words, documents served without a charset,
with a byte-order mark or with CRLF line ends.

- **Orders**: EU marketplaces serve today's long layout (tax collection, address type, payment and
  business-buyer columns, VAT-exclusive prices, the ``is-*`` flags, ``ship-promotion-id``,
  ``customized-url``, …); JP serves today's layout without ``url`` / ``is-business-order`` /
  ``purchase-order-number`` (JP documents lack them); US and CA keep the classic 32-column layout (both
  kinds exist among real sellers).
- **Listings**: DE writes ``open-date`` as ``dd/mm/yyyy HH:MM:SS MEST`` / ``MET`` (the German zone words of a
  real DE file); CA is UTF-8 with a BOM labelled ``charset=utf-8`` (as a recorded CA response); FR is UTF-8
  served without any charset and with CRLF line ends.
- **Settlements (V1 layout)**: ``text/plain`` without a charset, UTF-8 (as the recorded V1 responses).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# --- today's order layouts ---------------------------------------------------------------------------

ORDERS_EU = (
    "amazon-order-id",
    "merchant-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "fulfillment-channel",
    "sales-channel",
    "order-channel",
    "url",
    "ship-service-level",
    "product-name",
    "sku",
    "asin",
    "number-of-items",
    "item-status",
    "tax-collection-model",
    "tax-collection-responsible-party",
    "quantity",
    "currency",
    "item-price",
    "item-tax",
    "shipping-price",
    "shipping-tax",
    "gift-wrap-price",
    "gift-wrap-tax",
    "item-promotion-discount",
    "ship-promotion-discount",
    "address-type",
    "ship-city",
    "ship-state",
    "ship-postal-code",
    "ship-country",
    "ship-promotion-id",
    "promotion-ids",
    "payment-method-details",
    "item-extensions-data",
    "is-business-order",
    "purchase-order-number",
    "price-designation",
    "fulfilled-by",
    "buyer-company-name",
    "buyer-tax-registration-country",
    "buyer-tax-registration-type",
    "customized-url",
    "customized-page",
    "buyer-vat-number",
    "is-sold-by-ab",
    "is-pickup-point-order",
    "is-heavy-or-bulky",
    "is-replacement-order",
    "is-exchange-order",
    "original-order-id",
    "is-amazon-invoiced",
    "vat-exclusive-item-price",
    "vat-exclusive-shipping-price",
    "vat-exclusive-giftwrap-price",
    "licensee-name",
    "license-number",
    "license-state",
    "license-expiration-date",
    "is-iba",
    "is-buyer-requested-cancellation",
    "buyer-requested-cancel-reason",
    "is-transparency",
    "ioss-number",
    "order-invoice-type",
)

ORDERS_JP = tuple(c for c in ORDERS_EU if c not in {"url", "is-business-order", "purchase-order-number"})

ORDER_LAYOUTS: dict[str, tuple[str, ...]] = {
    "DE": ORDERS_EU,
    "GB": ORDERS_EU,
    "FR": ORDERS_EU,
    "IT": ORDERS_EU,
    "ES": ORDERS_EU,
    "JP": ORDERS_JP,
}


def order_layout(country: str) -> tuple[str, ...] | None:
    """Today's order header for a marketplace country, or None for the classic layout."""
    return ORDER_LAYOUTS.get(country)


def _money(value: float, currency: str) -> str:
    return f"{value:.0f}" if currency == "JPY" else f"{value:.2f}"


def current_order_values(
    *,
    currency: str,
    fulfillment: str,
    is_business: bool,
    quantity: int,
    gross: float,
    shipping: float,
    rate: float,
    hide_price: bool,
) -> dict[str, str]:
    """Values of today's columns the classic layout lacks (text as written)."""

    def net(v: float) -> str:
        return "" if hide_price else _money(v / (1.0 + rate), currency)

    return {
        "number-of-items": str(quantity),
        "tax-collection-model": "MarketplaceFacilitator" if rate and not hide_price else "",
        "tax-collection-responsible-party": "Amazon" if rate and not hide_price else "",
        "address-type": "",
        "ship-promotion-id": "",
        "payment-method-details": "Standard",
        "item-extensions-data": "",
        "fulfilled-by": "Amazon" if fulfillment == "Amazon" else "",
        "buyer-company-name": "",
        "buyer-tax-registration-country": "",
        "buyer-tax-registration-type": "",
        "buyer-vat-number": "",
        "is-sold-by-ab": "false",
        "is-pickup-point-order": "false",
        "licensee-name": "",
        "license-number": "",
        "customized-url": "",
        "customized-page": "",
        "is-heavy-or-bulky": "false",
        "is-replacement-order": "false",
        "is-exchange-order": "false",
        "original-order-id": "",
        "is-amazon-invoiced": "true" if is_business else "false",
        "vat-exclusive-item-price": net(gross),
        "vat-exclusive-shipping-price": net(shipping),
        "vat-exclusive-giftwrap-price": "",
        "license-state": "",
        "license-expiration-date": "",
        "is-iba": "false",
        "is-buyer-requested-cancellation": "false",
        "buyer-requested-cancel-reason": "",
        "is-transparency": "false",
        "ioss-number": "",
        "order-invoice-type": "",
    }


# --- German zone words on DE listings ----------------------------------------------------------------


def de_listing_datetime(dt: datetime) -> str:
    """``02/05/2020 05:18:00 MEST``: day first, Central European (summer) time as a DE file writes it."""
    summer = 4 <= dt.month <= 10
    off, word = (2, "MEST") if summer else (1, "MET")
    return (dt + timedelta(hours=off)).strftime("%d/%m/%Y %H:%M:%S ") + word


# --- charset labels, BOM, line ends ------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """How a document's bytes are served: ``label`` None = no charset in Content-Type."""

    label: str | None
    codec: str
    bom: bool = False
    newline: str = "\n"


VARIANTS: dict[tuple[str, str], Variant] = {
    ("GET_MERCHANT_LISTINGS_ALL_DATA", "CA"): Variant("utf-8", "utf-8", bom=True),
    ("GET_MERCHANT_LISTINGS_ALL_DATA", "FR"): Variant(None, "utf-8", newline="\r\n"),
    **{
        ("GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE", c): Variant(None, "utf-8")
        for c in ("US", "CA", "MX", "DE", "GB", "FR", "IT", "ES", "JP", "AU")
    },
}


def variant(report_type: str, country: str) -> Variant | None:
    return VARIANTS.get((report_type, country))
