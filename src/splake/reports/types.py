"""Report types declared as data: how to request, window, parse and land each one.

Adding a report type = one :class:`ReportTypeSpec` entry in :data:`REPORT_TYPES` (plus a test). Columns are
declared with the header Amazon uses; the curated column name is its snake_case form unless given.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any, Literal

from splake.errors import ConfigError

# "decimal": money, exact (decimal128, see splake.reports.casting.DECIMAL); "float": ratios and measures
ColumnType = Literal["string", "int", "float", "decimal", "timestamp", "date", "bool"]
ReportFormat = Literal["tsv", "json", "xml"]
AccountKind = Literal["seller", "vendor"]
ReplaceMode = Literal["window", "snapshot", "key"]
Role = str  # an SP-API role name as Developer Central spells it, e.g. "Brand Analytics"

_CAMEL_1 = re.compile(r"(.)([A-Z][a-z]+)")
_CAMEL_2 = re.compile(r"([a-z0-9])([A-Z])")
_NON_WORD = re.compile(r"[^0-9a-zA-Z]+")


@functools.lru_cache(maxsize=8192)  # (pure; every document's header goes through it, twice)
def snake_case(name: str) -> str:
    """``amazon-order-id`` → ``amazon_order_id``; ``orderedProductSales.amount`` →
    ``ordered_product_sales_amount``; ``Quantity Available`` → ``quantity_available``.

    Non-ASCII headers (localised JP headers) are kept as lower-case words joined by ``_``.
    """
    text = _CAMEL_2.sub(r"\1_\2", _CAMEL_1.sub(r"\1_\2", name.strip()))
    out = re.sub(r"[\s\-./:()\[\]#,;]+", "_", text).strip("_").lower()
    out = re.sub(r"_+", "_", out)
    if not out:
        return "column"
    if out[0].isdigit():
        out = "c_" + out
    if _NON_WORD.sub("", out) == "" and not any(ch.isalpha() for ch in out):
        return "column"
    return out


@dataclass(frozen=True)
class ColumnSpec:
    """One declared column. ``source`` is the header as Amazon writes it (flat files) or a dotted JSON
    path inside a record (JSON reports)."""

    source: str
    type: ColumnType = "string"
    name: str | None = None  # curated name; default snake_case(source)
    # other headers Amazon writes for the same column (e.g. the British "fulfilment-channel")
    aliases: tuple[str, ...] = ()

    @cached_property
    def column(self) -> str:  # (cached: parsers ask for it per column per block)
        return self.name or snake_case(self.source)


def cols(type_: ColumnType, *sources: str) -> tuple[ColumnSpec, ...]:
    return tuple(ColumnSpec(s, type_) for s in sources)


@dataclass(frozen=True)
class JsonSection:
    """A JSON report array whose elements become rows (``section`` column = ``name``).

    ``fill``: (column, source) pairs giving a declared column its value where the record has none; the
    source is a record path (``date``) or a path into the document (``reportSpecification.dataStartTime``)
    — e.g. by-ASIN rows carry the period the document aggregates, by-date rows their own day."""

    path: str  # top-level key, e.g. "salesAndTrafficByDate"
    name: str  # value of the ``section`` column, e.g. "by_date"
    fill: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class OptionSpec:
    """A reportOption the type accepts: ``values`` are the allowed values (empty = free text);
    ``required`` options must be configured unless the type gives a default."""

    name: str
    values: tuple[str, ...] = ()
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class ReportTypeSpec:
    name: str
    format: ReportFormat
    account_kinds: tuple[AccountKind, ...]
    table: str  # curated table name
    columns: tuple[ColumnSpec, ...]
    key_columns: tuple[str, ...]  # curated names; the row key is built from these
    replace: ReplaceMode
    window_column: str | None = None  # for replace == "window"
    requestable: bool = True  # False: discovered with getReports (settlement)
    windowed: bool = True  # False: snapshot report (no dataStartTime/dataEndTime)
    max_window: timedelta = timedelta(days=30)
    granularity: timedelta = timedelta(days=1)  # window boundaries align to this grid
    lookback: timedelta = timedelta(0)  # minimum lookback (late data); max(this, config lookback)
    end_lag: timedelta = timedelta(0)  # data newer than now - end_lag is never requested
    # send dataEndTime = end - 1 s: Amazon treats dataEndTime as inclusive (a row stamped exactly at a
    # window boundary would otherwise land in two reports; daily reports would cover one day too many)
    end_inclusive: bool = True
    refresh_interval: timedelta = timedelta(hours=1)  # snapshots: at most one per interval
    default_options: tuple[tuple[str, str], ...] = ()
    json_sections: tuple[JsonSection, ...] = ()
    # Localized header lines (e.g. JP Seller Central), positional: label i stands for columns[i]. Labels
    # repeat ("適用外" = not applicable), so they are matched as a whole prefix, never one by one.
    localized_headers: tuple[tuple[str, ...], ...] = ()
    partition_by: tuple[str, ...] = ("marketplace_id",)
    description: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # reportOptions the type accepts (validated in the config); empty = not declared (anything goes)
    options: tuple[OptionSpec, ...] = ()
    roles: tuple[Role, ...] = ()  # SP-API roles that grant this type (any one; 403 / FATAL without)
    # XML reports: each ``xml_row`` element is a row; scalar fields of the enclosing ``xml_context``
    # element (e.g. an Order around its OrderItems) are repeated on each of its rows
    xml_row: str = ""
    xml_context: str = ""
    # window grid origin relative to the Unix epoch (a Thursday): 3 days = weeks from Sunday, for
    # reports whose WEEK period must run Sunday to Saturday
    grid_offset: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        names = [c.column for c in self.columns]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigError(f"report type {self.name}: duplicate column names {dupes}")
        missing = [k for k in self.key_columns if k not in names and k != "section"]
        if missing:
            raise ConfigError(f"report type {self.name}: key columns {missing} are not declared columns")
        if self.replace == "window" and self.window_column not in [*names, None] and self.window_column:
            raise ConfigError(f"report type {self.name}: window column {self.window_column} is not declared")
        if self.replace == "window" and not self.window_column:
            raise ConfigError(f"report type {self.name}: replace='window' needs window_column")

    @property
    def column_names(self) -> tuple[str, ...]:
        base = tuple(c.column for c in self.columns)
        return ("section", *base) if self.json_sections else base

    def english_header(self, header: list[str]) -> list[str]:
        """The header with a known localized prefix replaced by the declared (English) column sources, and
        declared aliases by their column's source (unless the document also has the source itself)."""
        for labels in self.localized_headers:
            if len(header) >= len(labels) and tuple(h.strip() for h in header[: len(labels)]) == labels:
                header = [c.source for c in self.columns[: len(labels)]] + header[len(labels) :]
                break
        aliases = {a: c.source for c in self.columns for a in c.aliases}
        if not aliases:
            return header
        present = {h.strip() for h in header}
        return [
            aliases[h.strip()] if h.strip() in aliases and aliases[h.strip()] not in present else h
            for h in header
        ]

    @property
    def aliases(self) -> tuple[tuple[str, str], ...]:
        """(alias, declared source) pairs."""
        return tuple((a, c.source) for c in self.columns for a in c.aliases)

    def dealias(self, record: dict[str, Any]) -> dict[str, Any]:
        """A flattened JSON record with declared aliases renamed to their column's source (when the record
        lacks the source itself): e.g. Amazon's own typo ``trafficByDate.browerPageViews``."""
        for alias, source in self.aliases:
            if alias in record and source not in record:
                record[source] = record.pop(alias)
        return record

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.column == name:
                return c
        raise KeyError(name)


# Today's order-report layout (the all-orders flat files, by order date and by last update): the columns
# seen in current documents across marketplaces, money exact, counts int, flags bool. A marketplace writes
# a subset (JP has no url / is-business-order, BR adds cpf, …): declared columns a document lacks land as
# null and show in `splake reports drift` (splake.reports.drift).
_ORDER_MONEY = (
    "item-price",
    "item-tax",
    "shipping-price",
    "shipping-tax",
    "gift-wrap-price",
    "gift-wrap-tax",
    "item-promotion-discount",
    "ship-promotion-discount",
)
_ORDER_COLUMNS = (
    *cols("string", "amazon-order-id", "merchant-order-id"),
    *cols("timestamp", "purchase-date", "last-updated-date"),
    *cols(
        "string",
        "order-status",
        "fulfillment-channel",
        "sales-channel",
        "order-channel",
        "url",
        "ship-service-level",
        "product-name",
        "sku",
        "asin",
    ),
    ColumnSpec("number-of-items", "int"),
    *cols("string", "item-status", "tax-collection-model", "tax-collection-responsible-party"),
    ColumnSpec("quantity", "int"),
    ColumnSpec("currency"),
    *cols("decimal", *_ORDER_MONEY),
    *cols(
        "string",
        "address-type",
        "ship-city",
        "ship-state",
        "ship-postal-code",
        "ship-country",
        "ship-promotion-id",
        "promotion-ids",
        "payment-method-details",
        "item-extensions-data",
        "cpf",
    ),
    ColumnSpec("is-business-order", "bool"),
    *cols(
        "string",
        "purchase-order-number",
        "price-designation",
        "fulfilled-by",
        "buyer-company-name",
        "buyer-tax-registration-country",
        "buyer-tax-registration-type",
        "customized-url",
        "customized-page",
    ),
    *cols("bool", "is-heavy-or-bulky", "is-replacement-order", "is-exchange-order"),
    ColumnSpec("original-order-id"),
    ColumnSpec("is-amazon-invoiced", "bool"),
    *cols(
        "decimal", "vat-exclusive-item-price", "vat-exclusive-shipping-price", "vat-exclusive-giftwrap-price"
    ),
    *cols("string", "license-state", "license-expiration-date"),
    *cols("bool", "is-iba", "is-buyer-requested-cancellation"),
    ColumnSpec("buyer-requested-cancel-reason"),
    ColumnSpec("is-transparency", "bool"),
    *cols("string", "ioss-number", "order-invoice-type"),
    ColumnSpec("signature-confirmation-recommended", "bool"),
    *cols("string", "buyer-identification-number", "buyer-identification-type"),
    ColumnSpec("amazon-programs"),  # written for some sellers only (since 2024)
    *cols("bool", "is-sold-by-ab", "is-pickup-point-order"),
    *cols(
        "string",
        "buyer-cst-number",
        "buyer-vat-number",
        "buyer-tax-registration-id",
        "buyer-citizen-name",
        "buyer-citizen-id",
        "invoice-business-legal-name",
        "invoice-business-address",
        "invoice-business-tax-id",
        "invoice-business-tax-office",
        "licensee-name",
        "license-number",
    ),
)

_LISTING_COLUMNS = (
    *cols("string", "item-name", "item-description", "listing-id", "seller-sku"),
    ColumnSpec("price", "decimal"),
    ColumnSpec("quantity", "int"),
    ColumnSpec("open-date", "timestamp"),
    *cols(
        "string",
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
    ),
    ColumnSpec("pending-quantity", "int"),
    ColumnSpec("fulfillment-channel", aliases=("fulfilment-channel",)),
    *cols("string", "merchant-shipping-group", "status"),
    # B2B prices (sellers with business pricing) and the newer columns; appended after the columns the
    # localized (JP) header maps by position
    ColumnSpec("optional-payment-type-exclusion"),
    ColumnSpec("Business Price", "decimal"),
    ColumnSpec("Quantity Price Type"),
    *(
        c
        for n in range(1, 6)
        for c in (
            ColumnSpec(f"Quantity Lower Bound {n}", "int"),
            ColumnSpec(f"Quantity Price {n}", "decimal"),
        )
    ),
    ColumnSpec("Progressive Price Type"),
    *(
        c
        for n in range(1, 4)
        for c in (
            ColumnSpec(f"Progressive Lower Bound {n}", "int"),
            ColumnSpec(f"Progressive Price {n}", "decimal"),
        )
    ),
    ColumnSpec("Minimum order quantity", "int"),
    ColumnSpec("Sell remainder"),
)

# The JP Seller Central header of the listings report (same order as the English one).
_LISTINGS_JP = (
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
)

_MYI_COLUMNS = (
    *cols("string", "sku", "fnsku", "asin", "product-name", "condition"),
    ColumnSpec("your-price", "decimal"),
    ColumnSpec("mfn-listing-exists", "bool"),
    ColumnSpec("mfn-fulfillable-quantity", "int"),
    ColumnSpec("afn-listing-exists", "bool"),
    *cols(
        "int",
        "afn-warehouse-quantity",
        "afn-fulfillable-quantity",
        "afn-unsellable-quantity",
        "afn-reserved-quantity",
        "afn-total-quantity",
    ),
    ColumnSpec("per-unit-volume", "float"),
    *cols(
        "int",
        "afn-inbound-working-quantity",
        "afn-inbound-shipped-quantity",
        "afn-inbound-receiving-quantity",
        "afn-researching-quantity",
        "afn-reserved-future-supply",
        "afn-future-supply-buyable",
        "afn-fulfillable-quantity-local",
        "afn-fulfillable-quantity-remote",
    ),
    ColumnSpec("store"),
)

_AFN_COLUMNS = (
    *cols(
        "string",
        "seller-sku",
        "fulfillment-channel-sku",
        "asin",
        "condition-type",
        "Warehouse-Condition-code",
    ),
    ColumnSpec("Quantity Available", "int"),
)

_RETURNS_COLUMNS = (
    ColumnSpec("return-date", "timestamp"),
    *cols("string", "order-id", "sku", "asin", "fnsku", "product-name"),
    ColumnSpec("quantity", "int"),
    *cols(
        "string",
        "fulfillment-center-id",
        "detailed-disposition",
        "reason",
        "status",
        "license-plate-number",
        "customer-comments",
    ),
)

_SETTLEMENT_COLUMNS = (
    ColumnSpec("settlement-id"),
    *cols("timestamp", "settlement-start-date", "settlement-end-date", "deposit-date"),
    ColumnSpec("total-amount", "decimal"),
    *cols(
        "string",
        "currency",
        "transaction-type",
        "order-id",
        "merchant-order-id",
        "adjustment-id",
        "shipment-id",
        "marketplace-name",
        "amount-type",
        "amount-description",
    ),
    ColumnSpec("amount", "decimal"),
    ColumnSpec("fulfillment-id"),
    ColumnSpec("posted-date", "date"),
    ColumnSpec("posted-date-time", "timestamp"),
    *cols("string", "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku"),
    ColumnSpec("quantity-purchased", "int"),
    ColumnSpec("promotion-id"),
)


# The older settlement layout (GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE, not ..._FLAT_FILE_V2): one line per
# settlement event with one amount column per kind (price, item fee, shipment fee, order fee, promotion, …)
# instead of V2's amount-type/amount-description/amount triple; posted-date carries the time.
_SETTLEMENT_V1_COLUMNS = (
    ColumnSpec("settlement-id"),
    *cols("timestamp", "settlement-start-date", "settlement-end-date", "deposit-date"),
    ColumnSpec("total-amount", "decimal"),
    *cols(
        "string",
        "currency",
        "transaction-type",
        "order-id",
        "merchant-order-id",
        "adjustment-id",
        "shipment-id",
        "marketplace-name",
        "shipment-fee-type",
    ),
    ColumnSpec("shipment-fee-amount", "decimal"),
    ColumnSpec("order-fee-type"),
    ColumnSpec("order-fee-amount", "decimal"),
    ColumnSpec("fulfillment-id"),
    ColumnSpec("posted-date", "timestamp"),
    *cols("string", "order-item-code", "merchant-order-item-id", "merchant-adjustment-item-id", "sku"),
    ColumnSpec("quantity-purchased", "int"),
    ColumnSpec("price-type"),
    ColumnSpec("price-amount", "decimal"),
    ColumnSpec("item-related-fee-type"),
    *cols("decimal", "item-related-fee-amount", "misc-fee-amount", "other-fee-amount"),
    *cols("string", "other-fee-reason-description", "promotion-id", "promotion-type"),
    ColumnSpec("promotion-amount", "decimal"),
    ColumnSpec("direct-payment-type"),
    *cols("decimal", "direct-payment-amount", "other-amount"),
)


def _money(prefix: str) -> tuple[ColumnSpec, ...]:
    return (ColumnSpec(f"{prefix}.amount", "decimal"), ColumnSpec(f"{prefix}.currencyCode"))


_ST_SALES = (
    *_money("salesByDate.orderedProductSales"),
    *_money("salesByDate.orderedProductSalesB2B"),
    *cols("int", "salesByDate.unitsOrdered", "salesByDate.unitsOrderedB2B"),
    *cols("int", "salesByDate.totalOrderItems", "salesByDate.totalOrderItemsB2B"),
    *_money("salesByDate.averageSalesPerOrderItem"),
    *_money("salesByDate.averageSalesPerOrderItemB2B"),
    *cols("float", "salesByDate.averageUnitsPerOrderItem", "salesByDate.averageUnitsPerOrderItemB2B"),
    *_money("salesByDate.averageSellingPrice"),
    *_money("salesByDate.averageSellingPriceB2B"),
    ColumnSpec("salesByDate.unitsRefunded", "int"),
    ColumnSpec("salesByDate.refundRate", "float"),
    ColumnSpec("salesByDate.claimsGranted", "int"),
    *_money("salesByDate.claimsAmount"),
    *_money("salesByDate.shippedProductSales"),
    *cols("int", "salesByDate.unitsShipped", "salesByDate.ordersShipped"),
)
_ST_TRAFFIC = (
    # one record of Amazon's own example document spells it "browerPageViews"
    ColumnSpec("trafficByDate.browserPageViews", "int", aliases=("trafficByDate.browerPageViews",)),
    *cols(
        "int",
        "trafficByDate.browserPageViewsB2B",
        "trafficByDate.mobileAppPageViews",
        "trafficByDate.mobileAppPageViewsB2B",
        "trafficByDate.pageViews",
        "trafficByDate.pageViewsB2B",
        "trafficByDate.browserSessions",
        "trafficByDate.browserSessionsB2B",
        "trafficByDate.mobileAppSessions",
        "trafficByDate.mobileAppSessionsB2B",
        "trafficByDate.sessions",
        "trafficByDate.sessionsB2B",
    ),
    *cols(
        "float",
        "trafficByDate.buyBoxPercentage",
        "trafficByDate.buyBoxPercentageB2B",
        "trafficByDate.orderItemSessionPercentage",
        "trafficByDate.orderItemSessionPercentageB2B",
        "trafficByDate.unitSessionPercentage",
        "trafficByDate.unitSessionPercentageB2B",
    ),
    *cols(
        "int",
        "trafficByDate.averageOfferCount",
        "trafficByDate.averageParentItems",
        "trafficByDate.feedbackReceived",
        "trafficByDate.negativeFeedbackReceived",
    ),
    ColumnSpec("trafficByDate.receivedNegativeFeedbackRate", "float"),
)
_ST_ASIN = (
    *cols("string", "parentAsin", "childAsin", "sku"),
    *cols("int", "salesByAsin.unitsOrdered", "salesByAsin.unitsOrderedB2B"),
    *_money("salesByAsin.orderedProductSales"),
    *_money("salesByAsin.orderedProductSalesB2B"),
    *cols("int", "salesByAsin.totalOrderItems", "salesByAsin.totalOrderItemsB2B"),
    *cols(
        "int",
        "trafficByAsin.browserSessions",
        "trafficByAsin.browserSessionsB2B",
        "trafficByAsin.mobileAppSessions",
        "trafficByAsin.mobileAppSessionsB2B",
        "trafficByAsin.sessions",
        "trafficByAsin.sessionsB2B",
    ),
    *cols(
        "float",
        "trafficByAsin.browserSessionPercentage",
        "trafficByAsin.browserSessionPercentageB2B",
        "trafficByAsin.mobileAppSessionPercentage",
        "trafficByAsin.mobileAppSessionPercentageB2B",
        "trafficByAsin.sessionPercentage",
        "trafficByAsin.sessionPercentageB2B",
    ),
    *cols(
        "int",
        "trafficByAsin.browserPageViews",
        "trafficByAsin.browserPageViewsB2B",
        "trafficByAsin.mobileAppPageViews",
        "trafficByAsin.mobileAppPageViewsB2B",
        "trafficByAsin.pageViews",
        "trafficByAsin.pageViewsB2B",
    ),
    *cols(
        "float",
        "trafficByAsin.browserPageViewsPercentage",
        "trafficByAsin.browserPageViewsPercentageB2B",
        "trafficByAsin.mobileAppPageViewsPercentage",
        "trafficByAsin.mobileAppPageViewsPercentageB2B",
        "trafficByAsin.pageViewsPercentage",
        "trafficByAsin.pageViewsPercentageB2B",
        "trafficByAsin.buyBoxPercentage",
        "trafficByAsin.buyBoxPercentageB2B",
        "trafficByAsin.unitSessionPercentage",
        "trafficByAsin.unitSessionPercentageB2B",
    ),
)

_VENDOR_SALES = (
    *cols("date", "startDate", "endDate"),
    ColumnSpec("asin"),
    ColumnSpec("customerReturns", "int"),
    *_money("orderedRevenue"),
    ColumnSpec("orderedUnits", "int"),
    *_money("shippedCogs"),
    *_money("shippedRevenue"),
    ColumnSpec("shippedUnits", "int"),
)

_VENDOR_INVENTORY = (
    *cols("date", "startDate", "endDate"),
    ColumnSpec("asin"),
    *cols("float", "procurableProductOutOfStockRate", "uft", "receiveFillRate", "vendorConfirmationRate"),
    *_money("netReceivedInventoryCost"),
    *cols("int", "netReceivedInventoryUnits", "openPurchaseOrderUnits"),
    *cols("float", "averageVendorLeadTimeDays", "sellThroughRate"),
    ColumnSpec("unfilledCustomerOrderedUnits", "int"),
    *_money("sellableOnHandInventoryCost"),
    ColumnSpec("sellableOnHandInventoryUnits", "int"),
    *_money("unsellableOnHandInventoryCost"),
    ColumnSpec("unsellableOnHandInventoryUnits", "int"),
    *_money("aged90PlusDaysSellableInventoryCost"),
    ColumnSpec("aged90PlusDaysSellableInventoryUnits", "int"),
    *_money("unhealthyInventoryCost"),
    ColumnSpec("unhealthyInventoryUnits", "int"),
)

_VENDOR_OPTIONS = (
    ("reportPeriod", "DAY"),
    ("distributorView", "MANUFACTURING"),
    ("sellingProgram", "RETAIL"),
)

_SPECS = (
    ReportTypeSpec(
        name="GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
        format="tsv",
        account_kinds=("seller",),
        table="orders_by_order_date",
        columns=_ORDER_COLUMNS,
        key_columns=("amazon_order_id", "sku"),
        replace="window",
        window_column="purchase_date",
        max_window=timedelta(days=30),
        granularity=timedelta(days=1),
        description="All orders placed in the window (order tracking flat file).",
    ),
    ReportTypeSpec(
        name="GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
        format="tsv",
        account_kinds=("seller",),
        table="orders_by_last_update",
        columns=_ORDER_COLUMNS,
        key_columns=("amazon_order_id", "sku"),
        replace="key",
        max_window=timedelta(days=30),
        granularity=timedelta(days=1),
        description="All orders updated in the window; an order's latest version replaces older ones.",
    ),
    ReportTypeSpec(
        name="GET_MERCHANT_LISTINGS_ALL_DATA",
        format="tsv",
        account_kinds=("seller",),
        table="merchant_listings",
        columns=_LISTING_COLUMNS,
        key_columns=("seller_sku",),
        replace="snapshot",
        windowed=False,
        refresh_interval=timedelta(hours=6),
        localized_headers=(_LISTINGS_JP,),
        description="All listings (active and inactive); each run replaces the previous snapshot.",
    ),
    ReportTypeSpec(
        name="GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
        format="tsv",
        account_kinds=("seller",),
        table="fba_myi_inventory",
        columns=_MYI_COLUMNS,
        key_columns=("sku",),
        replace="snapshot",
        windowed=False,
        refresh_interval=timedelta(minutes=30),
        description="FBA Manage Inventory (near real time; Amazon regenerates at most every 30 min).",
    ),
    ReportTypeSpec(
        name="GET_AFN_INVENTORY_DATA",
        format="tsv",
        account_kinds=("seller",),
        table="afn_inventory",
        columns=_AFN_COLUMNS,
        key_columns=("seller_sku", "warehouse_condition_code"),
        replace="snapshot",
        windowed=False,
        refresh_interval=timedelta(hours=4),
        description="FBA amazon-fulfilled inventory (daily report; regenerated at most every 4 h).",
    ),
    ReportTypeSpec(
        name="GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA",
        format="tsv",
        account_kinds=("seller",),
        table="fba_customer_returns",
        columns=_RETURNS_COLUMNS,
        key_columns=("order_id", "sku", "license_plate_number"),
        replace="window",
        window_column="return_date",
        max_window=timedelta(days=30),
        description="FBA customer returns by return date.",
    ),
    ReportTypeSpec(
        name="GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
        format="tsv",
        account_kinds=("seller",),
        table="settlements",
        columns=_SETTLEMENT_COLUMNS,
        key_columns=(
            "settlement_id",
            "transaction_type",
            "order_id",
            "adjustment_id",
            "shipment_id",
            "amount_type",
            "amount_description",
            "order_item_code",
            "merchant_adjustment_item_id",
            "sku",
            "posted_date_time",
        ),
        replace="key",
        requestable=False,
        windowed=False,
        lookback=timedelta(days=21),  # biweekly settlements: find the one covering the backfill start
        description="Settlement reports (generated by Amazon; discovered with getReports, never requested).",
    ),
    ReportTypeSpec(
        name="GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE",
        format="tsv",
        account_kinds=("seller",),
        table="settlements_v1",
        columns=_SETTLEMENT_V1_COLUMNS,
        # a line has no id of its own: every declared column identifies it (exact repeats are numbered)
        key_columns=tuple(c.column for c in _SETTLEMENT_V1_COLUMNS),
        replace="key",
        requestable=False,
        windowed=False,
        lookback=timedelta(days=21),
        roles=("Finance and Accounting",),
        description="Settlements, older flat-file layout (discovered with getReports, never requested).",
    ),
    ReportTypeSpec(
        name="GET_SALES_AND_TRAFFIC_REPORT",
        format="json",
        account_kinds=("seller",),
        table="sales_and_traffic",
        # by-date rows: their day (start = end = date); by-ASIN rows: the period the document aggregates
        # (reportSpecification dataStartTime..dataEndTime, both inclusive days), never a made-up date
        columns=(
            *cols("date", "date", "startDate", "endDate"),
            *_ST_SALES,
            *_ST_TRAFFIC,
            *_ST_ASIN,
        ),
        key_columns=("section", "date", "start_date", "end_date", "parent_asin", "child_asin", "sku"),
        replace="window",
        window_column="start_date",
        max_window=timedelta(days=1),
        lookback=timedelta(days=3),
        default_options=(("dateGranularity", "DAY"), ("asinGranularity", "CHILD")),
        json_sections=(
            JsonSection(
                "salesAndTrafficByDate", "by_date", fill=(("start_date", "date"), ("end_date", "date"))
            ),
            JsonSection(
                "salesAndTrafficByAsin",
                "by_asin",
                fill=(
                    ("start_date", "reportSpecification.dataStartTime"),
                    ("end_date", "reportSpecification.dataEndTime"),
                ),
            ),
        ),
        description="Sales & Traffic (JSON); by-ASIN rows carry the period they aggregate (start/end date).",
    ),
    ReportTypeSpec(
        name="GET_VENDOR_SALES_REPORT",
        format="json",
        account_kinds=("vendor",),
        table="vendor_sales",
        columns=_VENDOR_SALES,
        key_columns=("section", "start_date", "asin"),
        replace="window",
        window_column="start_date",
        max_window=timedelta(days=7),
        lookback=timedelta(hours=72),
        end_lag=timedelta(hours=72),  # a day's data exists ~72 h after it ends; earlier requests end FATAL
        default_options=_VENDOR_OPTIONS,
        json_sections=(JsonSection("salesAggregate", "aggregate"), JsonSection("salesByAsin", "by_asin")),
        description="Vendor retail analytics sales (JSON; data arrives with up to 72 h latency).",
    ),
    ReportTypeSpec(
        name="GET_VENDOR_INVENTORY_REPORT",
        format="json",
        account_kinds=("vendor",),
        table="vendor_inventory",
        columns=_VENDOR_INVENTORY,
        key_columns=("section", "start_date", "asin"),
        replace="window",
        window_column="start_date",
        max_window=timedelta(days=7),
        lookback=timedelta(hours=72),
        end_lag=timedelta(hours=72),  # a day's data exists ~72 h after it ends; earlier requests end FATAL
        default_options=_VENDOR_OPTIONS,
        json_sections=(
            JsonSection("inventoryAggregate", "aggregate"),
            JsonSection("inventoryByAsin", "by_asin"),
        ),
        description="Vendor retail analytics inventory (JSON; data arrives with up to 72 h latency).",
    ),
)


REPORT_TYPES: dict[str, ReportTypeSpec] = {s.name: s for s in _SPECS}
# What a sync requests when the config lists no types: the core types declared above (orders, listings,
# inventory, returns, settlements, Sales & Traffic, vendor sales/inventory). The catalog's types are
# opt-in: many need roles most apps lack (Brand Analytics, Insights), and each requested type costs
# createReport quota (one a minute per seller) on every run.
CORE_REPORT_TYPES: tuple[str, ...] = tuple(s.name for s in _SPECS)
# The catalog (splake/reports/catalog/, loaded with the splake.reports package) adds its types here.


def report_type(name: str) -> ReportTypeSpec:
    spec = REPORT_TYPES.get(name)
    if spec is None:
        raise ConfigError(
            f"unsupported report type {name!r}",
            hint="supported: " + ", ".join(sorted(REPORT_TYPES)) + " (add one in splake/reports/types.py)",
        )
    return spec


def default_report_types(kind: AccountKind) -> tuple[str, ...]:
    """The core types for an account kind (used when the config lists none; see ``CORE_REPORT_TYPES``),
    except types with a required reportOption that has no default. Catalog types are listed in the config
    (`splake reports list` shows them with their options and roles)."""
    return tuple(
        name
        for name in CORE_REPORT_TYPES
        if kind in (spec := REPORT_TYPES[name]).account_kinds
        and not missing_required_options(spec, dict(spec.default_options))
    )


def missing_required_options(spec: ReportTypeSpec, options: dict[str, str]) -> list[str]:
    return [o.name for o in spec.options if o.required and o.name not in options]
