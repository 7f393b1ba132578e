"""FBA reports: fees, reimbursements, removals, shipments, inventory health and the inventory ledger."""

from __future__ import annotations

from datetime import timedelta

from splake.reports.catalog._build import FBA_ROLE, FINANCE_ROLE, INVENTORY_ROLE, columns
from splake.reports.types import ColumnSpec, OptionSpec, ReportTypeSpec

STORAGE_FEES = columns("""
asin
fnsku
product_name
fulfillment_center
country_code
longest_side|float
median_side|float
shortest_side|float
measurement_units
weight|float
weight_units
item_volume|float
volume_units
product_size_tier
average_quantity_on_hand|float
average_quantity_pending_removal|float
estimated_total_item_volume|float
month_of_charge
storage_rate|decimal
estimated_monthly_storage_fee|decimal
currency
average_quantity_customer_orders|float
base_rate|decimal
breakdown_incentive_fee_amount
dangerous_goods_storage_type
eligible_for_inventory_discount
qualifies_for_inventory_discount
storage_utilization_ratio|float
storage_utilization_ratio_units
total_incentive_fee_amount|decimal
utilization_surcharge_rate|decimal
""")

LONG_TERM_STORAGE = columns("""
snapshot-date|timestamp
sku
fnsku
asin
product-name
condition
per-unit-volume|float
currency
volume-unit
country
qty-charged|int
amount-charged|decimal
surcharge-age-tier
rate-surcharge|decimal
""")

REIMBURSEMENTS = columns("""
approval-date|timestamp
reimbursement-id
case-id
amazon-order-id
reason
sku
fnsku
asin
product-name
condition
currency-unit
amount-per-unit|decimal
amount-total|decimal
quantity-reimbursed-cash|int
quantity-reimbursed-inventory|int
quantity-reimbursed-total|int
original-reimbursement-id
original-reimbursement-type
""")

# Amazon's FBA Removals reports attributes (developer docs)
REMOVAL_ORDERS = columns("""
request-date|timestamp
order-id
order-type
service-speed
order-status
last-updated-date|timestamp
sku
fnsku
disposition
requested-quantity|int
cancelled-quantity|int
disposed-quantity|int
shipped-quantity|int
in-process-quantity|int
removal-fee|decimal
currency
""")

REMOVAL_SHIPMENTS = columns("""
request-date|timestamp
order-id
shipment-date|timestamp
sku
fnsku
disposition
shipped-quantity|int
carrier
tracking-number
removal-order-type
""")

SHIPMENT_PROMOTIONS = columns("""
shipment-date|timestamp
currency
item-promotion-discount|decimal
item-promotion-id
description
promotion-rule-value
amazon-order-id
shipment-id
shipment-item-id
""")

SHIPMENT_REPLACEMENTS = columns("""
shipment-date|timestamp
sku
asin
fulfillment-center-id
original-fulfillment-center-id
quantity|int
replacement-reason-code
replacement-amazon-order-id
original-amazon-order-id
""")

SHIPMENT_SALES = columns("""
shipment-date|timestamp
sku
fnsku
asin
fulfillment-center-id
quantity|int
amazon-order-id
currency
item-price-per-unit|decimal
shipping-price|decimal
gift-wrap-price|decimal
ship-city
ship-state
ship-postal-code
""")

ESTIMATED_FEES = columns("""
sku
fnsku
asin
product-name
product-group
brand
fulfilled-by
your-price|decimal
sales-price|decimal
longest-side|float
median-side|float
shortest-side|float
length-and-girth|float
unit-of-dimension
item-package-weight|float
unit-of-weight
product-size-tier
currency
estimated-fee-total|decimal
estimated-referral-fee-per-unit|decimal
estimated-variable-closing-fee|decimal
estimated-order-handling-fee-per-order|decimal
estimated-pick-pack-fee-per-unit|decimal
estimated-weight-handling-fee-per-unit|decimal
expected-fulfillment-fee-per-unit|decimal
estimated-future-fee (Current Selling on Amazon + Future Fulfillment fees)|decimal|estimated_future_fee
estimated-future-order-handling-fee-per-order|decimal
estimated-future-pick-pack-fee-per-unit|decimal
estimated-future-weight-handling-fee-per-unit|decimal
expected-future-fulfillment-fee-per-unit|decimal
estimated-future-referral-fee-per-unit|decimal
current-fee-category
future-fee-category
future-fee-category-effective-date|date
""")

INVENTORY_PLANNING = columns("""
snapshot-date|date
sku
fnsku
asin
product-name
condition
available|int
pending-removal-quantity|int
inv-age-0-to-90-days|int
inv-age-91-to-180-days|int
inv-age-181-to-270-days|int
inv-age-271-to-365-days|int
inv-age-365-plus-days|int
currency
qty-to-be-charged-ltsf-9-mo|int
projected-ltsf-9-mo|decimal
qty-to-be-charged-ltsf-12-mo|int
estimated-ltsf-next-charge|decimal
units-shipped-t7|int
units-shipped-t30|int
units-shipped-t60|int
units-shipped-t90|int
alert
your-price|decimal
sales-price|decimal
lowest-price-new-plus-shipping|decimal
lowest-price-used|decimal
recommended-action
healthy-inventory-level|int
recommended-sales-price|decimal
recommended-sale-duration-days|int
recommended-removal-quantity|int
estimated-cost-savings-of-recommended-actions|decimal
sell-through|float
item-volume|float
volume-unit-measurement
storage-type
storage-volume|float
marketplace
product-group
sales-rank|int
days-of-supply|int
estimated-excess-quantity|int
weeks-of-cover-t30|float
weeks-of-cover-t90|float
featuredoffer-price|decimal
sales-shipped-last-7-days|decimal
sales-shipped-last-30-days|decimal
sales-shipped-last-60-days|decimal
sales-shipped-last-90-days|decimal
inv-age-0-to-30-days|int
inv-age-31-to-60-days|int
inv-age-61-to-90-days|int
inv-age-181-to-330-days|int
inv-age-331-to-365-days|int
estimated-storage-cost-next-month|decimal
inbound-quantity|int
inbound-working|int
inbound-shipped|int
inbound-received|int
no-sale-last-6-months|int
reserved-quantity|int
unfulfillable-quantity|int
estimated-ais-181-210-days|decimal
estimated-ais-211-240-days|decimal
estimated-ais-241-270-days|decimal
estimated-ais-271-300-days|decimal
estimated-ais-301-330-days|decimal
estimated-ais-331-365-days|decimal
estimated-ais-365-plus-days|decimal
quantity-to-be-charged-ais-181-210-days|int
quantity-to-be-charged-ais-211-240-days|int
quantity-to-be-charged-ais-241-270-days|int
quantity-to-be-charged-ais-271-300-days|int
quantity-to-be-charged-ais-301-330-days|int
quantity-to-be-charged-ais-331-365-days|int
quantity-to-be-charged-ais-365-plus-days|int
""")

AFN_BY_COUNTRY = columns("""
seller-sku
fulfillment-channel-sku
asin
condition-type
country
quantity-for-local-fulfillment|int
""")

STRANDED = columns("""
primary-action
date-stranded|timestamp
Date-to-take-auto-removal|timestamp
status-primary
status-secondary
error-message
stranded-reason
asin
sku
fnsku
product-name
condition
fulfilled-by
fulfillable-qty|int
your-price|decimal
unfulfillable-qty|int
reserved-quantity|int
inbound-shipped-qty|int
""")

RESTOCK = columns("""
Country
Product Name
FNSKU
Merchant SKU
ASIN
Condition
Supplier
Supplier part no.
Currency code
Price|decimal
Sales last 30 days|decimal
Units Sold Last 30 Days|int
Total Units|int
Inbound|int
Available|int
FC transfer|int
FC Processing|int
Customer Order|int
Unfulfillable|int
Working|int
Shipped|int
Receiving|int
Fulfilled by
Total Days of Supply (including units from open shipments)|float|total_days_of_supply
Days of Supply at Amazon Fulfillment Network|float|days_of_supply_at_afn
Alert
Recommended replenishment qty|int
Recommended ship date|date
Recommended action
Unit storage size
""")

LEDGER_DETAIL = columns("""
Date|date
FNSKU
ASIN
MSKU
Title
Event Type
Reference ID
Quantity|int
Fulfillment Center
Disposition
Reason
Country
Reconciled Quantity|int
Unreconciled Quantity|int
Date and Time|timestamp
""")

LEDGER_SUMMARY = columns("""
Date|date
FNSKU
ASIN
MSKU
Title
Disposition
Starting Warehouse Balance|int
In Transit Between Warehouses|int
Receipts|int
Customer Shipments|int
Customer Returns|int
Vendor Returns|int
Warehouse Transfer In/Out|int
Found|int
Lost|int
Damaged|int
Disposed|int
Other Events|int
Ending Warehouse Balance|int
Unknown Events|int
Location
""")

RESERVED = columns("""
sku
fnsku
asin
product-name
reserved_qty|int
reserved_customerorders|int
reserved_fc-transfers|int
reserved_fc-processing|int
""")

_FBA = (FBA_ROLE,)


def _windowed(
    name: str,
    table: str,
    cols: tuple[ColumnSpec, ...],
    keys: tuple[str, ...],
    window: str,
    desc: str,
    **kw: object,
) -> ReportTypeSpec:
    return ReportTypeSpec(
        name=name,
        format="tsv",
        account_kinds=("seller",),
        table=table,
        columns=cols,
        key_columns=keys,
        replace="window",
        window_column=window,
        description=desc,
        **kw,  # type: ignore[arg-type]
    )


def _snapshot(
    name: str, table: str, cols: tuple[ColumnSpec, ...], keys: tuple[str, ...], desc: str, **kw: object
) -> ReportTypeSpec:
    return ReportTypeSpec(
        name=name,
        format="tsv",
        account_kinds=("seller",),
        table=table,
        columns=cols,
        key_columns=keys,
        replace="snapshot",
        windowed=False,
        description=desc,
        **kw,  # type: ignore[arg-type]
    )


SPECS = (
    ReportTypeSpec(
        name="GET_FBA_STORAGE_FEE_CHARGES_DATA",
        format="tsv",
        account_kinds=("seller",),
        table="fba_storage_fees",
        columns=STORAGE_FEES,
        key_columns=("asin", "fnsku", "fulfillment_center", "month_of_charge"),
        replace="key",
        max_window=timedelta(days=31),
        granularity=timedelta(days=1),
        end_lag=timedelta(days=1),
        roles=(*_FBA, FINANCE_ROLE),
        description="Monthly FBA storage fees per ASIN and fulfillment center (estimated until charged).",
    ),
    _windowed(
        "GET_FBA_FULFILLMENT_LONGTERM_STORAGE_FEE_CHARGES_DATA",
        "fba_long_term_storage_fees",
        LONG_TERM_STORAGE,
        ("snapshot_date", "sku", "surcharge_age_tier"),
        "snapshot_date",
        "Long-term (aged inventory) storage surcharges by charge date.",
        max_window=timedelta(days=31),
        roles=(*_FBA, FINANCE_ROLE),
    ),
    _windowed(
        "GET_FBA_REIMBURSEMENTS_DATA",
        "fba_reimbursements",
        REIMBURSEMENTS,
        ("reimbursement_id", "sku", "original_reimbursement_id"),
        "approval_date",
        "FBA reimbursements (lost/damaged inventory, customer returns) by approval date.",
        max_window=timedelta(days=30),
        end_lag=timedelta(days=1),
        roles=(*_FBA, FINANCE_ROLE),
    ),
    ReportTypeSpec(
        name="GET_FBA_FULFILLMENT_REMOVAL_ORDER_DETAIL_DATA",
        format="tsv",
        account_kinds=("seller",),
        table="fba_removal_orders",
        columns=REMOVAL_ORDERS,
        key_columns=("order_id", "sku", "disposition"),
        replace="key",
        max_window=timedelta(days=30),
        roles=_FBA,
        description="Removal orders (return/disposal) and their progress; latest version per order line.",
    ),
    _windowed(
        "GET_FBA_FULFILLMENT_REMOVAL_SHIPMENT_DETAIL_DATA",
        "fba_removal_shipments",
        REMOVAL_SHIPMENTS,
        ("order_id", "sku", "tracking_number"),
        "shipment_date",
        "Shipments of removal orders by shipment date.",
        max_window=timedelta(days=30),
        roles=_FBA,
    ),
    _windowed(
        "GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_PROMOTION_DATA",
        "fba_shipment_promotions",
        SHIPMENT_PROMOTIONS,
        ("shipment_item_id", "item_promotion_id"),
        "shipment_date",
        "Promotions applied to FBA customer shipments.",
        max_window=timedelta(days=30),
        roles=_FBA,
    ),
    _windowed(
        "GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_REPLACEMENT_DATA",
        "fba_shipment_replacements",
        SHIPMENT_REPLACEMENTS,
        ("replacement_amazon_order_id", "sku"),
        "shipment_date",
        "Free replacement shipments.",
        max_window=timedelta(days=30),
        roles=_FBA,
    ),
    _windowed(
        "GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_SALES_DATA",
        "fba_shipment_sales",
        SHIPMENT_SALES,
        ("amazon_order_id", "sku", "shipment_date"),
        "shipment_date",
        "FBA customer shipment sales (units and prices shipped).",
        max_window=timedelta(days=30),
        roles=_FBA,
    ),
    _snapshot(
        "GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA",
        "fba_estimated_fees",
        ESTIMATED_FEES,
        ("sku",),
        "Estimated FBA and referral fees per SKU (refreshed daily by Amazon).",
        refresh_interval=timedelta(hours=24),
        roles=_FBA,
    ),
    _snapshot(
        "GET_FBA_INVENTORY_PLANNING_DATA",
        "fba_inventory_planning",
        INVENTORY_PLANNING,
        ("sku", "snapshot_date"),
        "FBA inventory health: age, excess, recommendations (daily snapshot).",
        refresh_interval=timedelta(hours=24),
        roles=_FBA,
    ),
    _snapshot(
        "GET_AFN_INVENTORY_DATA_BY_COUNTRY",
        "afn_inventory_by_country",
        AFN_BY_COUNTRY,
        ("seller_sku", "country"),
        "FBA inventory per country (EU Pan-European / local fulfillment).",
        refresh_interval=timedelta(hours=4),
        roles=_FBA,
    ),
    _snapshot(
        "GET_STRANDED_INVENTORY_UI_DATA",
        "fba_stranded_inventory",
        STRANDED,
        ("sku",),
        "Stranded FBA inventory (no active offer) and the action to take.",
        refresh_interval=timedelta(hours=6),
        roles=_FBA,
    ),
    _snapshot(
        "GET_RESTOCK_INVENTORY_RECOMMENDATIONS_REPORT",
        "fba_restock_recommendations",
        RESTOCK,
        ("merchant_sku", "country"),
        "Restock recommendations (replenishment quantity and ship date).",
        refresh_interval=timedelta(hours=24),
        roles=_FBA,
    ),
    _windowed(
        "GET_LEDGER_DETAIL_VIEW_DATA",
        "fba_inventory_ledger_detail",
        LEDGER_DETAIL,
        ("reference_id", "fnsku", "event_type", "fulfillment_center", "disposition", "date_and_time"),
        "date",
        "Inventory ledger events (receipts, shipments, returns, adjustments) by date.",
        max_window=timedelta(days=31),
        end_lag=timedelta(days=1),
        roles=_FBA,
    ),
    _windowed(
        "GET_LEDGER_SUMMARY_VIEW_DATA",
        "fba_inventory_ledger_summary",
        LEDGER_SUMMARY,
        ("date", "fnsku", "disposition", "location"),
        "date",
        "Inventory ledger balances per day, FNSKU, disposition and location.",
        max_window=timedelta(days=31),
        end_lag=timedelta(days=1),
        roles=_FBA,
        default_options=(("aggregateByLocation", "COUNTRY"), ("aggregatedByTimePeriod", "DAILY")),
        options=(
            OptionSpec("aggregateByLocation", ("COUNTRY", "FC")),
            OptionSpec("aggregatedByTimePeriod", ("DAILY", "WEEKLY", "MONTHLY")),
        ),
    ),
    _snapshot(
        "GET_RESERVED_INVENTORY_DATA",
        "fba_reserved_inventory",
        RESERVED,
        ("sku",),
        "Reserved FBA units: customer orders, FC transfers, FC processing.",
        refresh_interval=timedelta(hours=1),
        roles=(*_FBA, INVENTORY_ROLE),
    ),
)
