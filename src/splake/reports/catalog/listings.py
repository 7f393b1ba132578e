"""Listings & catalog reports."""

from __future__ import annotations

from datetime import timedelta

from splake.reports.catalog._build import LISTINGS_ROLE, PRICING_ROLE, columns
from splake.reports.types import ColumnSpec, ReportTypeSpec

_LISTING_HEAD = """
item-name
item-description
listing-id
seller-sku
price|decimal
quantity|int
open-date|timestamp
image-url
item-is-marketplace
product-id-type
zshop-shipping-fee
item-note
item-condition
zshop-category1
zshop-browse-path
zshop-storefront-feature
asin1
asin2
asin3
will-ship-internationally
expedited-shipping
zshop-boldface
product-id
bid-for-featured-placement
add-delete
pending-quantity|int
"""

_B2B = """
Business Price|decimal
Quantity Price Type
Quantity Lower Bound 1|int
Quantity Price 1|decimal
Quantity Lower Bound 2|int
Quantity Price 2|decimal
Quantity Lower Bound 3|int
Quantity Price 3|decimal
Quantity Lower Bound 4|int
Quantity Price 4|decimal
Quantity Lower Bound 5|int
Quantity Price 5|decimal
"""

_PROGRESSIVE = """
Progressive Price Type
Progressive Lower Bound 1|int
Progressive Price 1|decimal
Progressive Lower Bound 2|int
Progressive Price 2|decimal
Progressive Lower Bound 3|int
Progressive Price 3|decimal
"""

ACTIVE_LISTINGS = columns(
    _LISTING_HEAD + "fulfillment-channel\n" + _B2B + "merchant-shipping-group\n" + _PROGRESSIVE
)
INACTIVE_LISTINGS = columns(_LISTING_HEAD + "fulfillment-channel\nmerchant-shipping-group\n")
BACK_COMPAT_LISTINGS = columns(_LISTING_HEAD + _B2B + "merchant-shipping-group\n" + _PROGRESSIVE)
LITE_LISTINGS = columns("seller-sku\nquantity|int\nprice|decimal\nproduct-id\n" + _B2B + _PROGRESSIVE)
OPEN_LISTINGS = columns("sku\nasin\nprice|decimal\nquantity|int\n" + _B2B + _PROGRESSIVE)
CANCELLED_LISTINGS = columns(
    """
item-name
item-description
seller-sku
price|decimal
quantity|int
image-url
item-is-marketplace
product-id-type
zshop-shipping-fee
item-note
item-condition
zshop-category1
zshop-browse-path
zshop-storefront-feature
asin1
asin2
asin3
will-ship-internationally
expedited-shipping
zshop-boldface
product-id
add-delete
"""
    + _B2B
    + "merchant-shipping-group\n"
    + _PROGRESSIVE
)
SUPPRESSED_FYP = columns("""
Status
Reason
SKU
ASIN
Product name
Condition
Status Change Date|timestamp
Issue Description
""")
REFERRAL_FEE_PREVIEW = columns("""
seller-sku
asin
item-name
price|decimal
estimated-referral-fee-per-item|decimal
""")
# GET_XML_BROWSE_TREE_DATA: one row per Node
BROWSE_TREE = columns("""
browseNodeId|string|browse_node_id
browseNodeName|string|browse_node_name
browseNodeStoreContextName|string|browse_node_store_context_name
browsePathById|string|browse_path_by_id
browsePathByName|string|browse_path_by_name
hasChildren|bool|has_children
childNodes@count|int|child_node_count
childNodes/id|string|child_node_ids
productTypeDefinitions|string|product_type_definitions
browseNodeAttributes@count|int|attribute_count
browseNodeAttributes/attribute|string|attributes
browseNodeAttributes/attribute@name|string|attribute_names
refinementsInformation@count|int|refinement_count
""")

_ROLES = (LISTINGS_ROLE,)


def _listings(name: str, table: str, cols: tuple[ColumnSpec, ...], key: str, desc: str) -> ReportTypeSpec:
    return ReportTypeSpec(
        name=name,
        format="tsv",
        account_kinds=("seller",),
        table=table,
        columns=cols,
        key_columns=(key,),
        replace="snapshot",
        windowed=False,
        refresh_interval=timedelta(hours=6),
        roles=_ROLES,
        description=desc,
    )


SPECS = (
    _listings(
        "GET_MERCHANT_LISTINGS_DATA", "listings_active", ACTIVE_LISTINGS, "seller_sku", "Active listings."
    ),
    _listings(
        "GET_MERCHANT_LISTINGS_INACTIVE_DATA",
        "listings_inactive",
        INACTIVE_LISTINGS,
        "seller_sku",
        "Inactive listings (out of stock, closed, suppressed).",
    ),
    _listings(
        "GET_MERCHANT_LISTINGS_DATA_BACK_COMPAT",
        "listings_back_compat",
        BACK_COMPAT_LISTINGS,
        "seller_sku",
        "Active listings in the backwards-compatible layout (no fulfillment-channel).",
    ),
    _listings(
        "GET_MERCHANT_LISTINGS_DATA_LITE",
        "listings_lite",
        LITE_LISTINGS,
        "seller_sku",
        "Active listings, SKU / quantity / price / product id only.",
    ),
    _listings(
        "GET_FLAT_FILE_OPEN_LISTINGS_DATA",
        "listings_open",
        OPEN_LISTINGS,
        "sku",
        "Open listings (inventory report): SKU, ASIN, price, quantity and B2B prices.",
    ),
    ReportTypeSpec(
        name="GET_MERCHANT_CANCELLED_LISTINGS_DATA",
        format="tsv",
        account_kinds=("seller",),
        table="listings_cancelled",
        columns=CANCELLED_LISTINGS,
        key_columns=("seller_sku",),
        replace="snapshot",
        windowed=False,
        refresh_interval=timedelta(hours=6),
        roles=_ROLES,
        description="Cancelled (closed) listings.",
    ),
    _listings(
        "GET_MERCHANTS_LISTINGS_FYP_REPORT",
        "listings_suppressed",
        SUPPRESSED_FYP,
        "sku",
        "Suppressed listings (Fix Your Products): status, reason and the issue to fix.",
    ),
    ReportTypeSpec(
        name="GET_REFERRAL_FEE_PREVIEW_REPORT",
        format="tsv",
        account_kinds=("seller",),
        table="referral_fee_preview",
        columns=REFERRAL_FEE_PREVIEW,
        key_columns=("seller_sku",),
        replace="snapshot",
        windowed=False,
        refresh_interval=timedelta(hours=24),
        roles=(*_ROLES, PRICING_ROLE),
        description="Estimated referral fee per listed item.",
    ),
    ReportTypeSpec(
        name="GET_XML_BROWSE_TREE_DATA",
        format="xml",
        account_kinds=("seller",),
        table="browse_tree",
        columns=BROWSE_TREE,
        key_columns=("browse_node_id",),
        replace="snapshot",
        windowed=False,
        refresh_interval=timedelta(days=7),
        roles=_ROLES,
        xml_row="Node",
        description="The marketplace's browse tree (XML), one row per node.",
    ),
)
