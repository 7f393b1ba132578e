"""Orders & shipping reports (flat file and XML)."""

from __future__ import annotations

from datetime import timedelta

from splake.reports.catalog._build import INVENTORY_ROLE, PII_ROLE, columns
from splake.reports.types import ReportTypeSpec

# GET_FLAT_FILE_ARCHIVED_ORDERS_DATA_BY_ORDER_DATE (Amazon's archived order report layout)
ARCHIVED_ORDERS = columns("""
amazon-order-id
merchant-order-id
purchase-date|timestamp
last-updated-date|timestamp
order-status
fulfillment-channel
sales-channel
order-channel
url
ship-service-level
product-name
sku
asin
item-status
quantity|int
currency
item-price|decimal
item-tax|decimal
shipping-price|decimal
shipping-tax|decimal
gift-wrap-price|decimal
gift-wrap-tax|decimal
item-promotion-discount|decimal
ship-promotion-discount|decimal
ship-country
ship-promotion-id
promotion-ids
is-business-order|bool
purchase-order-number
price-designation
is-replacement-order|bool
""")

ACTIONABLE_ORDERS = columns("""
order-id
order-item-id
purchase-date|timestamp
payments-date|timestamp
reporting-date|timestamp
promise-date|timestamp
days-past-promise|int
buyer-email
buyer-phone-number
is-business-order|bool
quantity-purchased|int
quantity-shipped|int
quantity-to-ship|int
product-name
purchase-order-number
recipient-name
ship-city
ship-country
ship-postal-code
ship-promotion-discount|decimal
ship-service-level
ship-state
shipping-price|decimal
shipping-tax|decimal
sku
""")

FULFILLED_SHIPMENTS = columns("""
amazon-order-id
merchant-order-id
shipment-id
shipment-item-id
amazon-order-item-id
merchant-order-item-id
purchase-date|timestamp
payments-date|timestamp
shipment-date|timestamp
reporting-date|timestamp
buyer-email
buyer-name
buyer-phone-number
sku
product-name
quantity-shipped|int
currency
item-price|decimal
item-tax|decimal
shipping-price|decimal
shipping-tax|decimal
gift-wrap-price|decimal
gift-wrap-tax|decimal
ship-service-level
recipient-name
ship-address-1
ship-address-2
ship-address-3
ship-city
ship-state
ship-postal-code
ship-country
ship-phone-number
bill-address-1
bill-address-2
bill-address-3
bill-city
bill-state
bill-postal-code
bill-country
item-promotion-discount|decimal
ship-promotion-discount|decimal
carrier
tracking-number
estimated-arrival-date|timestamp
fulfillment-center-id
fulfillment-channel
sales-channel
""")

RETURNS_BY_RETURN_DATE = columns("""
Order ID
Order date|date
Return request date|date
Return request status
Amazon RMA ID
Merchant RMA ID
Label type
Label cost|decimal
Currency code
Return carrier
Tracking ID
Label to be paid by
A-to-Z Claim|bool
Is prime|bool
ASIN
Merchant SKU
Item Name
Return quantity|int
Return Reason
In policy|bool
Return type
Resolution
Invoice number
Return delivery date|date
Order Amount|decimal
Order quantity|int
SafeT Action reason
SafeT claim id
SafeT claim state
SafeT claim creation time|timestamp
SafeT claim reimbursement amount|decimal
Refunded Amount|decimal
""")

# XML all-orders reports: one row per OrderItem; the Order's fields repeat on each item row
XML_ORDERS = columns("""
AmazonOrderID|string|amazon_order_id
MerchantOrderID|string|merchant_order_id
PurchaseDate|timestamp|purchase_date
LastUpdatedDate|timestamp|last_updated_date
OrderStatus|string|order_status
SalesChannel|string|sales_channel
FulfillmentData/FulfillmentChannel|string|fulfillment_channel
FulfillmentData/ShipServiceLevel|string|ship_service_level
FulfillmentData/Address/City|string|ship_city
FulfillmentData/Address/State|string|ship_state
FulfillmentData/Address/PostalCode|string|ship_postal_code
FulfillmentData/Address/Country|string|ship_country
IsBusinessOrder|bool|is_business_order
OrderItem/AmazonOrderItemCode|string|amazon_order_item_code
OrderItem/ASIN|string|asin
OrderItem/SKU|string|sku
OrderItem/ItemStatus|string|item_status
OrderItem/ProductName|string|product_name
OrderItem/Quantity|int|quantity
OrderItem/ItemPrice/Principal/Amount|decimal|item_price
OrderItem/ItemPrice/Principal/Amount@currency|string|currency
OrderItem/ItemPrice/Tax/Amount|decimal|item_tax
OrderItem/ItemPrice/Tax/Amount@currency|string|item_tax_currency
OrderItem/ItemPrice/Shipping/Amount|decimal|shipping_price
OrderItem/ItemPrice/Shipping/Amount@currency|string|shipping_price_currency
OrderItem/ItemPrice/ShippingTax/Amount|decimal|shipping_tax
OrderItem/ItemPrice/ShippingTax/Amount@currency|string|shipping_tax_currency
OrderItem/Promotion/PromotionIDs|string|promotion_ids
OrderItem/Promotion/ItemPromotionDiscount|decimal|item_promotion_discount
""")

# GET_ORDER_REPORT_DATA_SHIPPING (XML order report for shipping): one row per Item of an OrderReport
ORDER_REPORT_SHIPPING = columns("""
AmazonOrderID|string|amazon_order_id
AmazonSessionID|string|amazon_session_id
OrderDate|timestamp|order_date
OrderPostedDate|timestamp|order_posted_date
BillingData/BuyerEmailAddress|string|buyer_email_address
BillingData/BuyerName|string|buyer_name
BillingData/BuyerPhoneNumber|string|buyer_phone_number
FulfillmentData/FulfillmentMethod|string|fulfillment_method
FulfillmentData/FulfillmentServiceLevel|string|fulfillment_service_level
FulfillmentData/Address/Name|string|ship_name
FulfillmentData/Address/City|string|ship_city
FulfillmentData/Address/StateOrRegion|string|ship_state_or_region
FulfillmentData/Address/PostalCode|string|ship_postal_code
FulfillmentData/Address/CountryCode|string|ship_country_code
IsBusinessOrder|bool|is_business_order
Item/AmazonOrderItemCode|string|amazon_order_item_code
Item/SKU|string|sku
Item/Title|string|title
Item/Quantity|int|quantity
Item/ProductTaxCode|string|product_tax_code
Item/ItemPrice/Principal/Amount|decimal|item_price
Item/ItemPrice/Principal/Amount@currency|string|currency
Item/ItemPrice/Shipping/Amount|decimal|shipping_price
Item/ItemPrice/Shipping/Amount@currency|string|shipping_price_currency
Item/ItemPrice/Tax/Amount|decimal|item_tax
Item/ItemPrice/Tax/Amount@currency|string|item_tax_currency
Item/ItemPrice/ShippingTax/Amount|decimal|shipping_tax
Item/ItemPrice/ShippingTax/Amount@currency|string|shipping_tax_currency
""")

_ROLES = (INVENTORY_ROLE,)

SPECS = (
    ReportTypeSpec(
        name="GET_FLAT_FILE_ARCHIVED_ORDERS_DATA_BY_ORDER_DATE",
        format="tsv",
        account_kinds=("seller",),
        table="orders_archived",
        columns=ARCHIVED_ORDERS,
        key_columns=("amazon_order_id", "sku"),
        replace="window",
        window_column="purchase_date",
        max_window=timedelta(days=30),
        roles=_ROLES,
        description="Archived orders (older than the all-orders window) by order date.",
    ),
    ReportTypeSpec(
        name="GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING",
        format="tsv",
        account_kinds=("seller",),
        table="orders_actionable",
        columns=ACTIONABLE_ORDERS,
        key_columns=("order_id", "order_item_id"),
        replace="snapshot",
        windowed=False,
        refresh_interval=timedelta(hours=1),
        roles=_ROLES,
        description="Unshipped merchant-fulfilled order items (snapshot of what still has to ship).",
    ),
    ReportTypeSpec(
        name="GET_ORDER_REPORT_DATA_SHIPPING",
        format="xml",
        account_kinds=("seller",),
        table="orders_shipping_xml",
        columns=ORDER_REPORT_SHIPPING,
        key_columns=("amazon_order_id", "amazon_order_item_code"),
        replace="key",
        max_window=timedelta(days=30),
        roles=(*_ROLES, PII_ROLE),
        xml_row="Item",
        xml_context="OrderReport",
        description="Order report for shipping (XML), one row per item; buyer fields need the PII role.",
    ),
    ReportTypeSpec(
        name="GET_XML_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
        format="xml",
        account_kinds=("seller",),
        table="orders_xml_by_order_date",
        columns=XML_ORDERS,
        key_columns=("amazon_order_id", "amazon_order_item_code"),
        replace="window",
        window_column="purchase_date",
        max_window=timedelta(days=30),
        roles=_ROLES,
        xml_row="OrderItem",
        xml_context="Order",
        description="All orders by order date (XML), one row per order item.",
    ),
    ReportTypeSpec(
        name="GET_XML_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
        format="xml",
        account_kinds=("seller",),
        table="orders_xml_by_last_update",
        columns=XML_ORDERS,
        key_columns=("amazon_order_id", "amazon_order_item_code"),
        replace="key",
        max_window=timedelta(days=30),
        roles=_ROLES,
        xml_row="OrderItem",
        xml_context="Order",
        description="All orders updated in the window (XML); an item's latest version replaces older ones.",
    ),
    ReportTypeSpec(
        name="GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL",
        format="tsv",
        account_kinds=("seller",),
        table="fba_fulfilled_shipments",
        columns=FULFILLED_SHIPMENTS,
        key_columns=("shipment_id", "shipment_item_id"),
        replace="window",
        window_column="shipment_date",
        max_window=timedelta(days=30),
        roles=(*_ROLES, PII_ROLE),
        description="FBA shipments by shipment date; buyer and address fields need the PII role.",
    ),
    ReportTypeSpec(
        name="GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE",
        format="tsv",
        account_kinds=("seller",),
        table="returns_by_return_date",
        columns=RETURNS_BY_RETURN_DATE,
        key_columns=("order_id", "amazon_rma_id", "merchant_sku"),
        replace="window",
        window_column="return_request_date",
        max_window=timedelta(days=60),
        roles=_ROLES,
        description="Merchant-fulfilled returns by return request date.",
    ),
)
