"""Roles: which SP-API roles a call needs, and the 403 the sandbox answers when an account's
authorization lacks all of them (``SandboxConfig.account_roles``; absent account = every role).

Amazon binds the roles to the authorization: an app that gains a role after a seller authorized it only
gets that role for the seller once they authorize again, so one account can lack a role the app has.
A role-denied call gets ``403 {"errors": [{"code": "Unauthorized", "message": "Access to requested
resource is denied.", "details": ""}]}`` (also for ``getReports`` filtered on a report type the
authorization has no role for, e.g. settlement reports without Finance and Accounting).

The tables are the sandbox's own copy of Amazon's "Role Mappings for SP-API Operations / Types"
(any one listed role grants access), limited to what the sandbox serves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from starlette.requests import Request
from starlette.responses import Response

from splake.sandbox.catalog_types import CATALOG_REPORT_ROLES
from splake.sandbox.responses import UNAUTHORIZED_MESSAGE, sp_error
from splake.sandbox.state import SandboxState

INVENTORY_ORDER_TRACKING = "Inventory and Order Tracking"
AMAZON_FULFILLMENT = "Amazon Fulfillment"
FINANCE_ACCOUNTING = "Finance and Accounting"
BRAND_ANALYTICS = "Brand Analytics"
PRODUCT_LISTING = "Product Listing"
DTC_SHIPPING = "Direct-to-Consumer Shipping (Restricted)"
TAX_INVOICING = "Tax Invoicing (Restricted)"
TAX_REMITTANCE = "Tax Remittance (Restricted)"

_ORDERS = frozenset(
    {
        INVENTORY_ORDER_TRACKING,
        FINANCE_ACCOUNTING,
        AMAZON_FULFILLMENT,
        DTC_SHIPPING,
        TAX_INVOICING,
        TAX_REMITTANCE,
    }
)

# operationId -> roles (any one suffices). Operations not listed need no particular role.
OPERATION_ROLES: Mapping[str, frozenset[str]] = {
    "getOrders": _ORDERS,
    "searchOrders": _ORDERS,
    "getOrder": _ORDERS,
    "getOrderItems": _ORDERS,
    "getOrderAddress": frozenset({DTC_SHIPPING}),
    "getOrderBuyerInfo": frozenset({TAX_INVOICING, TAX_REMITTANCE}),
    "listFinancialEvents": frozenset({FINANCE_ACCOUNTING}),
    "getInventorySummaries": frozenset({AMAZON_FULFILLMENT}),
    "getListingsItem": frozenset({PRODUCT_LISTING, INVENTORY_ORDER_TRACKING}),
}

# Restricted data elements (createRestrictedDataToken) -> roles.
DATA_ELEMENT_ROLES: Mapping[str, frozenset[str]] = {
    "shippingAddress": frozenset({DTC_SHIPPING}),
    "buyerInfo": frozenset({TAX_INVOICING, TAX_REMITTANCE}),
    "buyerTaxInformation": frozenset({TAX_INVOICING, TAX_REMITTANCE}),
}

_ORDER_REPORTS = frozenset({INVENTORY_ORDER_TRACKING, AMAZON_FULFILLMENT})
_FBA = frozenset({AMAZON_FULFILLMENT})

# reportType -> roles. Types not listed need no particular role.
REPORT_TYPE_ROLES: Mapping[str, frozenset[str]] = {
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL": _ORDER_REPORTS,
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL": _ORDER_REPORTS,
    "GET_MERCHANT_LISTINGS_ALL_DATA": frozenset({PRODUCT_LISTING, INVENTORY_ORDER_TRACKING}),
    "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA": _FBA,
    "GET_AFN_INVENTORY_DATA": _FBA,
    "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA": _FBA,
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2": frozenset({FINANCE_ACCOUNTING}),
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE": frozenset({FINANCE_ACCOUNTING}),
    "GET_SALES_AND_TRAFFIC_REPORT": frozenset({BRAND_ANALYTICS}),
    "GET_VENDOR_SALES_REPORT": frozenset({BRAND_ANALYTICS}),
    "GET_VENDOR_INVENTORY_REPORT": frozenset({BRAND_ANALYTICS}),
    **CATALOG_REPORT_ROLES,  # the catalog types (sandbox/catalog_types.py)
}


def lacks(granted: Iterable[str] | None, needed: frozenset[str] | None) -> bool:
    """True when an authorization with ``granted`` roles (None = every role) may not do this (pure)."""
    if granted is None or not needed:
        return False
    return not (set(granted) & needed)


def _query_list(request: Request, name: str) -> list[str]:
    out: list[str] = []
    for v in request.query_params.getlist(name):
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


async def _needed(request: Request, operation_id: str) -> list[frozenset[str]]:
    """Every role set the request needs (each must be satisfied)."""
    if operation_id in OPERATION_ROLES:
        return [OPERATION_ROLES[operation_id]]
    if operation_id in ("getReports",):
        return [REPORT_TYPE_ROLES[t] for t in _query_list(request, "reportTypes") if t in REPORT_TYPE_ROLES]
    if operation_id in ("createReport", "createRestrictedDataToken"):
        try:
            body = json.loads(await request.body() or b"null")  # Starlette caches it for the handler
        except ValueError:
            return []
        if not isinstance(body, dict):
            return []
        if operation_id == "createReport":
            rt = body.get("reportType")
            return [REPORT_TYPE_ROLES[rt]] if isinstance(rt, str) and rt in REPORT_TYPE_ROLES else []
        needed: list[frozenset[str]] = []
        for res in body.get("restrictedResources") or []:
            for element in (res.get("dataElements") or []) if isinstance(res, dict) else []:
                if isinstance(element, str) and element in DATA_ELEMENT_ROLES:
                    needed.append(DATA_ELEMENT_ROLES[element])
        return needed
    return []


async def denied(
    state: SandboxState, request: Request, account_id: str | None, operation_id: str
) -> Response | None:
    """The 403 Amazon answers when the caller's authorization lacks the role, else None
    (``account_id`` None = a grantless call, not bound to a seller's authorization)."""
    configured = state.config.account_roles
    granted = configured.get(account_id) if configured and account_id else None
    if granted is None:
        return None
    for needed in await _needed(request, operation_id):
        if lacks(granted, needed):
            state.stats.count_fault("role_denied")
            return sp_error(403, "Unauthorized", UNAUTHORIZED_MESSAGE, "")
    return None
