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
