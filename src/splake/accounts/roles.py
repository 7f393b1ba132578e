"""Which SP-API roles report types and API families need (Amazon: "Role Mappings for SP-API
Operations" and "… for SP-API Types"; any one listed role grants access), declared as data.

Used to explain a denial (``splake accounts check``): the verdicts themselves come from probing
Amazon, never from this table.
"""

from __future__ import annotations

from collections.abc import Mapping

INVENTORY_ORDER_TRACKING = "Inventory and Order Tracking"
AMAZON_FULFILLMENT = "Amazon Fulfillment"
FINANCE_ACCOUNTING = "Finance and Accounting"
BRAND_ANALYTICS = "Brand Analytics"
PRODUCT_LISTING = "Product Listing"
DTC_SHIPPING = "Direct-to-Consumer Shipping (Restricted)"
TAX_INVOICING = "Tax Invoicing (Restricted)"
TAX_REMITTANCE = "Tax Remittance (Restricted)"

REPORT_TYPE_ROLES: Mapping[str, tuple[str, ...]] = {
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL": (INVENTORY_ORDER_TRACKING, AMAZON_FULFILLMENT),
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL": (INVENTORY_ORDER_TRACKING, AMAZON_FULFILLMENT),
    "GET_MERCHANT_LISTINGS_ALL_DATA": (PRODUCT_LISTING, INVENTORY_ORDER_TRACKING),
    "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA": (AMAZON_FULFILLMENT,),
    "GET_AFN_INVENTORY_DATA": (AMAZON_FULFILLMENT,),
    "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA": (AMAZON_FULFILLMENT,),
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2": (FINANCE_ACCOUNTING,),
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE": (FINANCE_ACCOUNTING,),
    "GET_SALES_AND_TRAFFIC_REPORT": (BRAND_ANALYTICS,),
    "GET_VENDOR_SALES_REPORT": (BRAND_ANALYTICS,),
    "GET_VENDOR_INVENTORY_REPORT": (BRAND_ANALYTICS,),
}

# API family (as probed by `accounts check`) -> roles that grant it.
FAMILY_ROLES: Mapping[str, tuple[str, ...]] = {
    "orders": (INVENTORY_ORDER_TRACKING, FINANCE_ACCOUNTING, AMAZON_FULFILLMENT),
    "orders_rdt": (DTC_SHIPPING, TAX_INVOICING, TAX_REMITTANCE),
    "finances": (FINANCE_ACCOUNTING,),
    "fba_inventory": (AMAZON_FULFILLMENT,),
    "vendor_reports": (BRAND_ANALYTICS,),
}


def roles_for_report_type(report_type: str) -> tuple[str, ...]:
    """Roles that grant the type: this table, else the type's declaration (``ReportTypeSpec.roles``)."""
    from splake.reports.types import REPORT_TYPES

    spec = REPORT_TYPES.get(report_type)
    return REPORT_TYPE_ROLES.get(report_type) or (spec.roles if spec else ())
