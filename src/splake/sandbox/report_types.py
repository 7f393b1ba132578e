"""Report types the sandbox serves, declared as data: format, audience, columns, window semantics,
charset labels. Column names and order follow Amazon's real flat-file headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ORDERS_COLUMNS = (
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
    "item-status",
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
    "ship-city",
    "ship-state",
    "ship-postal-code",
    "ship-country",
    "promotion-ids",
    "is-business-order",
    "purchase-order-number",
    "price-designation",
)

LISTINGS_COLUMNS = (
    "item-name",
    "item-description",
    "listing-id",
    "seller-sku",
    "price",
    "quantity",
    "open-date",
    "image-url",
    "item-is-marketplace",
    "product-id-type",
    "zshop-shipping-fee",
    "item-note",
    "item-condition",
    "zshop-category1",
    "zshop-browse-path",
    "zshop-storefront-feature",
    "asin1",
    "asin2",
    "asin3",
    "will-ship-internationally",
    "expedited-shipping",
    "zshop-boldface",
    "product-id",
    "bid-for-featured-placement",
    "add-delete",
    "pending-quantity",
    "fulfillment-channel",
    "merchant-shipping-group",
    "status",
)

MYI_COLUMNS = (
    "sku",
    "fnsku",
    "asin",
    "product-name",
    "condition",
    "your-price",
    "mfn-listing-exists",
    "mfn-fulfillable-quantity",
    "afn-listing-exists",
    "afn-warehouse-quantity",
    "afn-fulfillable-quantity",
    "afn-unsellable-quantity",
    "afn-reserved-quantity",
    "afn-total-quantity",
    "per-unit-volume",
    "afn-inbound-working-quantity",
    "afn-inbound-shipped-quantity",
    "afn-inbound-receiving-quantity",
    "afn-researching-quantity",
    "afn-reserved-future-supply",
    "afn-future-supply-buyable",
)

AFN_INVENTORY_COLUMNS = (
    "seller-sku",
    "fulfillment-channel-sku",
    "asin",
    "condition-type",
    "Warehouse-Condition-code",
    "Quantity Available",
)

RETURNS_COLUMNS = (
    "return-date",
    "order-id",
    "sku",
    "asin",
    "fnsku",
    "product-name",
    "quantity",
    "fulfillment-center-id",
    "detailed-disposition",
    "reason",
    "status",
    "license-plate-number",
    "customer-comments",
)

SETTLEMENT_COLUMNS = (
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
    "transaction-type",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
    "amount-type",
    "amount-description",
    "amount",
    "fulfillment-id",
    "posted-date",
    "posted-date-time",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "promotion-id",
)

# The older settlement layout (GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE): one amount column per kind.
SETTLEMENT_V1_COLUMNS = (
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
    "transaction-type",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
    "shipment-fee-type",
    "shipment-fee-amount",
    "order-fee-type",
    "order-fee-amount",
    "fulfillment-id",
    "posted-date",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "price-type",
    "price-amount",
    "item-related-fee-type",
    "item-related-fee-amount",
    "misc-fee-amount",
    "other-fee-amount",
    "other-fee-reason-description",
    "promotion-id",
    "promotion-type",
    "promotion-amount",
    "direct-payment-type",
    "direct-payment-amount",
    "other-amount",
)

Window = Literal[
    "purchase", "last_update", "snapshot", "return", "settlement", "sales_traffic", "vendor", "catalog"
]


@dataclass(frozen=True)
class SandboxReportType:
    name: str
    format: Literal["tsv", "json", "xml"]
    audience: Literal["seller", "vendor"]
    window: Window
    columns: tuple[str, ...] = ()
    requestable: bool = True
    # Amazon cancels these when the window holds no data.
    cancel_when_empty: bool = False
    # Only the first marketplace is used (snapshot/per-marketplace reports).
    single_marketplace: bool = False
    required_options: tuple[str, ...] = ()
    is_orders: bool = False
    fba_cooldown: bool = False  # regenerated at most every 30 minutes by Amazon


REPORT_TYPES: dict[str, SandboxReportType] = {
    t.name: t
    for t in (
        SandboxReportType(
            "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
            "tsv",
            "seller",
            "purchase",
            ORDERS_COLUMNS,
            cancel_when_empty=True,
            is_orders=True,
        ),
        SandboxReportType(
            "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
            "tsv",
            "seller",
            "last_update",
            ORDERS_COLUMNS,
            cancel_when_empty=True,
            is_orders=True,
        ),
        SandboxReportType(
            "GET_MERCHANT_LISTINGS_ALL_DATA",
            "tsv",
            "seller",
            "snapshot",
            LISTINGS_COLUMNS,
            single_marketplace=True,
        ),
        SandboxReportType(
            "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
            "tsv",
            "seller",
            "snapshot",
            MYI_COLUMNS,
            single_marketplace=True,
            fba_cooldown=True,
        ),
        SandboxReportType(
            "GET_AFN_INVENTORY_DATA",
            "tsv",
            "seller",
            "snapshot",
            AFN_INVENTORY_COLUMNS,
            single_marketplace=True,
            fba_cooldown=True,
        ),
        SandboxReportType(
            "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA",
            "tsv",
            "seller",
            "return",
            RETURNS_COLUMNS,
            cancel_when_empty=True,
        ),
        SandboxReportType(
            "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
            "tsv",
            "seller",
            "settlement",
            SETTLEMENT_COLUMNS,
            requestable=False,
            single_marketplace=True,
        ),
        SandboxReportType(
            "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE",
            "tsv",
            "seller",
            "settlement",
            SETTLEMENT_V1_COLUMNS,
            requestable=False,
            single_marketplace=True,
        ),
        SandboxReportType(
            "GET_SALES_AND_TRAFFIC_REPORT", "json", "seller", "sales_traffic", single_marketplace=True
        ),
        SandboxReportType(
            "GET_VENDOR_SALES_REPORT",
            "json",
            "vendor",
            "vendor",
            required_options=("reportPeriod", "distributorView", "sellingProgram"),
            single_marketplace=True,
        ),
        SandboxReportType(
            "GET_VENDOR_INVENTORY_REPORT",
            "json",
            "vendor",
            "vendor",
            required_options=("reportPeriod", "distributorView", "sellingProgram"),
            single_marketplace=True,
        ),
    )
}

# (the catalog types, sandbox/catalog_types.py, add themselves to REPORT_TYPES when loaded)

# Columns Amazon adds for some sellers/marketplaces (B2B, Amazon Imports), appended when schema_drift is on.
DRIFT_COLUMNS: dict[str, tuple[str, ...]] = {
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL": ("is-iba", "signature-confirmation-recommended"),
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL": ("is-iba", "signature-confirmation-recommended"),
    "GET_MERCHANT_LISTINGS_ALL_DATA": (
        "Business Price",
        "Quantity Price Type",
        "Quantity Lower Bound 1",
        "Quantity Price 1",
    ),
}


# Header labels for sellers whose Seller Central report language is Japanese: same positions as the
# English header; columns Amazon no longer fills are all labelled "適用外" (so labels repeat).
LOCALIZED_HEADERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET_MERCHANT_LISTINGS_ALL_DATA", "JP"): (
        "商品名",
        "出品者による商品説明",
        "出品ID",
        "出品者SKU",
        "価格",
        "数量",
        "出品日",
        "適用外",
        "マーケットプレイス出品",
        "商品IDタイプ",
        "適用外",
        "コンディション説明",
        "コンディション",
        "適用外",
        "適用外",
        "適用外",
        "ASIN1",
        "適用外",
        "適用外",
        "国外へ配送可",
        "迅速な配送",
        "適用外",
        "商品ID",
        "適用外",
        "追加-削除",
        "保留中の数量",
        "フルフィルメント・チャンネル",
        "出品者配送グループ",
        "ステータス",
    ),
}


def header_for(
    report_type: SandboxReportType, marketplace_code: str, drift: bool, localized: bool
) -> tuple[str, ...]:
    """The header line as written in the file (may be localized; logical row keys stay English)."""
    cols = columns_for(report_type, drift, marketplace_code)
    labels = LOCALIZED_HEADERS.get((report_type.name, marketplace_code)) if localized else None
    if labels is None:
        return cols
    return labels + cols[len(labels) :]


def columns_for(report_type: SandboxReportType, drift: bool, marketplace_code: str = "") -> tuple[str, ...]:
    """The columns of a document: the type's, or a marketplace's own order layout (sandbox.layouts)."""
    from splake.sandbox.layouts import order_layout

    base = (order_layout(marketplace_code) if report_type.is_orders else None) or report_type.columns
    extra = DRIFT_COLUMNS.get(report_type.name, ()) if drift else ()
    return base + tuple(c for c in extra if c not in base)


# Settlement types that exist on Amazon but can only be discovered with getReports.
NOT_REQUESTABLE = frozenset(
    {
        "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
        "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE",
        "GET_V2_SETTLEMENT_REPORT_DATA_XML",
    }
)


def charset_label(report_type: SandboxReportType, marketplace_code: str) -> tuple[str, str]:
    """(label in Content-Type, Python codec) for a flat file, as Amazon labels them (Java-style names).

    JP files are Windows-31J (cp932) labelled ``Shift_JIS`` (orders) or ``windows-31j`` (others); US/EU
    files are cp1252, labelled ``Cp1252`` — except EU order reports, labelled ``ISO-8859-1`` while their
    bytes are cp1252 (euro sign, dashes, oe ligature): decode ISO-8859-1 as cp1252, as browsers do.
    """
    if marketplace_code == "JP":
        return ("Shift_JIS", "cp932") if report_type.is_orders else ("windows-31j", "cp932")
    if report_type.is_orders and marketplace_code in {"DE", "FR", "GB", "UK", "IT", "ES"}:
        return "ISO-8859-1", "cp1252"
    return "Cp1252", "cp1252"
