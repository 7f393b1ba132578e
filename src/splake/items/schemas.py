"""Arrow schemas (business columns) of the items tables, declared as data.

Nested SP-API structures stay nested (Iceberg structs/lists, queryable in DuckDB as ``s.field`` /
``unnest(list)``) next to flat key columns for joins. Free-form ``attributes`` objects (product-type
specific, thousands of possible keys) are kept as canonical JSON text.
"""

from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")
S = pa.string()


def _struct(**fields: pa.DataType) -> pa.DataType:
    return pa.struct([pa.field(k, v) for k, v in fields.items()])


DIMENSION = _struct(unit=S, value=pa.float64())
DIMENSIONS = _struct(height=DIMENSION, length=DIMENSION, weight=DIMENSION, width=DIMENSION)
BROWSE_CLASSIFICATION = _struct(display_name=S, classification_id=S)

CATALOG_SUMMARY = _struct(
    item_name=S,
    brand=S,
    browse_classification=BROWSE_CLASSIFICATION,
    color=S,
    item_classification=S,
    manufacturer=S,
    model_number=S,
    package_quantity=pa.int64(),
    part_number=S,
    release_date=S,
    size=S,
    style=S,
    adult_product=pa.bool_(),
    trade_in_eligible=pa.bool_(),
    website_display_group=S,
    website_display_group_name=S,
    contributors=pa.list_(_struct(role=_struct(display_name=S, value=S), value=S)),
)
CATALOG_SALES_RANKS = _struct(
    classification_ranks=pa.list_(_struct(classification_id=S, title=S, link=S, rank=pa.int64())),
    display_group_ranks=pa.list_(_struct(website_display_group=S, title=S, link=S, rank=pa.int64())),
)
CATALOG_RELATIONSHIP = _struct(
    type=S,
    child_asins=pa.list_(S),
    parent_asins=pa.list_(S),
    variation_theme=_struct(attributes=pa.list_(S), theme=S),
)

# One row per (ASIN, marketplace) and fetch. marketplace_id is a provenance column added by the lake.
CATALOG_ITEMS = pa.schema(
    [
        pa.field("asin", S, nullable=False),
        pa.field("fetched_at", TS, nullable=False),
        pa.field("item_name", S),
        pa.field("brand", S),
        pa.field("product_type", S),
        pa.field("sales_rank", pa.int64()),  # best display-group rank (flat, for joins/sorting)
        pa.field("sales_rank_group", S),
        pa.field("summary", CATALOG_SUMMARY),
        pa.field("identifiers", pa.list_(_struct(identifier_type=S, identifier=S))),
        pa.field("images", pa.list_(_struct(variant=S, link=S, height=pa.int64(), width=pa.int64()))),
        pa.field("sales_ranks", CATALOG_SALES_RANKS),
        pa.field("relationships", pa.list_(CATALOG_RELATIONSHIP)),
        pa.field("dimensions", _struct(item=DIMENSIONS, package=DIMENSIONS)),
        pa.field("attributes_json", S),
    ]
)

MONEY = _struct(currency_code=S, amount=S)
LISTING_SUMMARY = _struct(
    asin=S,
    product_type=S,
    condition_type=S,
    status=pa.list_(S),
    fn_sku=S,
    item_name=S,
    created_date=TS,
    last_updated_date=TS,
    main_image=_struct(link=S, height=pa.int64(), width=pa.int64()),
)
LISTING_ISSUE = _struct(
    code=S,
    message=S,
    severity=S,
    attribute_names=pa.list_(S),
    categories=pa.list_(S),
    enforcements=_struct(actions=pa.list_(_struct(action=S)), exemption=_struct(status=S, expiry_date=S)),
)

# One row per (seller, SKU, marketplace) and fetch.
LISTINGS_ITEMS = pa.schema(
    [
        pa.field("seller_id", S, nullable=False),
        pa.field("sku", S, nullable=False),
        pa.field("fetched_at", TS, nullable=False),
        pa.field("found", pa.bool_()),  # False: the listing no longer exists (404)
        pa.field("asin", S),
        pa.field("item_name", S),
        pa.field("status", pa.list_(S)),
        pa.field("buyable", pa.bool_()),
        pa.field("issue_count", pa.int64()),
        pa.field("error_count", pa.int64()),
        pa.field("price_amount", S),
        pa.field("price_currency", S),
        pa.field("fulfillment_quantity", pa.int64()),
        pa.field("summary", LISTING_SUMMARY),
        pa.field("issues", pa.list_(LISTING_ISSUE)),
        pa.field(
            "offers",
            pa.list_(_struct(offer_type=S, price=MONEY, points=_struct(points_number=pa.int64()))),
        ),
        pa.field(
            "fulfillment_availability", pa.list_(_struct(fulfillment_channel_code=S, quantity=pa.int64()))
        ),
        pa.field("attributes_json", S),
    ]
)

# --- Orders v0, Finances v0, FBA Inventory v1 --------------------------------------------------------

MONEY_V0 = _struct(currency_code=S, amount=S)
CURRENCY_V0 = _struct(currency_code=S, currency_amount=pa.float64())

ORDERS_API = pa.schema(
    [
        pa.field("amazon_order_id", S, nullable=False),
        pa.field("marketplace_id", S),
        pa.field("purchase_date", TS),
        pa.field("last_update_date", TS),
        pa.field("order_status", S),
        pa.field("fulfillment_channel", S),
        pa.field("sales_channel", S),
        pa.field("ship_service_level", S),
        pa.field("order_total", MONEY_V0),
        pa.field("number_of_items_shipped", pa.int64()),
        pa.field("number_of_items_unshipped", pa.int64()),
        pa.field("is_business_order", pa.bool_()),
        pa.field("is_prime", pa.bool_()),
        # Non-PII part of the address, as getOrders returns it without a Restricted Data Token.
        pa.field("shipping_address", _struct(city=S, state_or_region=S, postal_code=S, country_code=S)),
        # Only with [accounts].pii = true (fetched with RDTs):
        pa.field(
            "pii_shipping_address",
            _struct(
                name=S,
                address_line1=S,
                address_line2=S,
                city=S,
                state_or_region=S,
                postal_code=S,
                country_code=S,
            ),
        ),
        pa.field("pii_buyer_info", _struct(buyer_email=S, buyer_name=S)),
        pa.field("fetched_at", TS, nullable=False),
    ]
)

ORDER_ITEMS_API = pa.schema(
    [
        pa.field("amazon_order_id", S, nullable=False),
        pa.field("order_item_id", S, nullable=False),
        pa.field("marketplace_id", S),
        pa.field("asin", S),
        pa.field("seller_sku", S),
        pa.field("title", S),
        pa.field("quantity_ordered", pa.int64()),
        pa.field("quantity_shipped", pa.int64()),
        pa.field("item_price", MONEY_V0),
        pa.field("item_tax", MONEY_V0),
        pa.field("shipping_price", MONEY_V0),
        pa.field("promotion_discount", MONEY_V0),
        pa.field("promotion_ids", pa.list_(S)),
        pa.field("fetched_at", TS, nullable=False),
    ]
)

FINANCIAL_SHIPMENT_EVENTS = pa.schema(
    [
        pa.field("amazon_order_id", S, nullable=False),
        pa.field("posted_date", TS, nullable=False),
        pa.field("marketplace_id", S),
        pa.field("marketplace_name", S),
        pa.field("store_name", S),
        pa.field("currency", S),
        pa.field("principal", pa.float64()),  # sum of Principal charges
        pa.field("fees", pa.float64()),  # sum of item fees (negative)
        pa.field(
            "shipment_items",
            pa.list_(
                _struct(
                    seller_sku=S,
                    order_item_id=S,
                    quantity_shipped=pa.int64(),
                    item_charge_list=pa.list_(_struct(charge_type=S, charge_amount=CURRENCY_V0)),
                    item_fee_list=pa.list_(_struct(fee_type=S, fee_amount=CURRENCY_V0)),
                )
            ),
        ),
        pa.field("fetched_at", TS, nullable=False),
    ]
)

FBA_INVENTORY_SUMMARIES = pa.schema(
    [
        pa.field("seller_sku", S, nullable=False),
        pa.field("asin", S),
        pa.field("fn_sku", S),
        pa.field("condition", S),
        pa.field("product_name", S),
        pa.field("total_quantity", pa.int64()),
        pa.field("fulfillable_quantity", pa.int64()),
        pa.field(
            "inventory_details",
            _struct(
                fulfillable_quantity=pa.int64(),
                inbound_working_quantity=pa.int64(),
                inbound_shipped_quantity=pa.int64(),
                inbound_receiving_quantity=pa.int64(),
                reserved_quantity=_struct(
                    total_reserved_quantity=pa.int64(), pending_customer_order_quantity=pa.int64()
                ),
                unfulfillable_quantity=_struct(total_unfulfillable_quantity=pa.int64()),
            ),
        ),
        pa.field("last_updated_time", TS),
        pa.field("fetched_at", TS, nullable=False),
    ]
)

AMOUNT = _struct(currency_code=S, amount=pa.float64())  # a numeric amount (Finances)

# Finances 2024-06-19 listTransactions: one row per transaction (latest status).
FINANCIAL_TRANSACTIONS = pa.schema(
    [
        pa.field("transaction_id", S, nullable=False),
        pa.field("transaction_type", S),
        pa.field("transaction_status", S),
        pa.field("description", S),
        pa.field("posted_date", TS),
        pa.field("marketplace_id", S),
        pa.field("selling_partner_id", S),
        pa.field("account_type", S),
        pa.field("amazon_order_id", S),  # relatedIdentifiers ORDER_ID
        pa.field("financial_event_group_id", S),  # relatedIdentifiers FINANCIAL_EVENT_GROUP_ID
        pa.field("total_amount", AMOUNT),
        pa.field("related_identifiers", pa.list_(_struct(name=S, value=S))),
        # Breakdowns flattened: path "ProductCharges/Principal", amount at each level.
        pa.field("breakdowns", pa.list_(_struct(path=S, breakdown_type=S, amount=AMOUNT))),
        pa.field(
            "items",
            pa.list_(
                _struct(
                    description=S,
                    transaction_item_id=S,
                    sku=S,
                    asin=S,
                    quantity_shipped=pa.int64(),
                    fulfillment_network=S,
                    total_amount=AMOUNT,
                )
            ),
        ),
        pa.field("fetched_at", TS, nullable=False),
    ]
)

# Finances v0 listFinancialEventGroups: one row per group (settlement period), latest state.
FINANCIAL_EVENT_GROUPS = pa.schema(
    [
        pa.field("financial_event_group_id", S, nullable=False),
        # The account's marketplace of the group's currency when only one has it (groups carry no id).
        pa.field("marketplace_id", S),
        pa.field("processing_status", S),
        pa.field("fund_transfer_status", S),
        pa.field("original_total", AMOUNT),
        pa.field("converted_total", AMOUNT),
        pa.field("beginning_balance", AMOUNT),
        pa.field("fund_transfer_date", TS),
        pa.field("financial_event_group_start", TS),
        pa.field("financial_event_group_end", TS),
        pa.field("trace_id", S),
        pa.field("account_tail", S),
        pa.field("fetched_at", TS, nullable=False),
    ]
)
