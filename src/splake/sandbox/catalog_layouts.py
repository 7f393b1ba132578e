"""Flat-file layouts of the sandbox's catalog report types: Amazon's header, in order, and how the sandbox
fills each column (declared here independently of the client's declarations).

One column per line: ``header|kind``; kinds are interpreted by :mod:`splake.sandbox.catalog_render`
(``ts`` = ISO timestamp inside the row's day, ``date``, ``int``, ``money``, ``float``, ``yn``, ``tf``,
``id`` = unique per row, ``enum:A,B`` …; no kind = a short text).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Source = Literal["snapshot", "days", "months", "orders"]


@dataclass(frozen=True)
class FlatLayout:
    columns: tuple[tuple[str, str], ...]  # (header, kind)
    source: Source  # snapshot: per product now; days: per day x products; months; orders: real orders
    per: int = 4  # rows per day (days/months) or products (snapshot, x scale)
    fba_only: bool = False  # only Amazon-fulfilled products

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(h for h, _ in self.columns)


def layout(text: str, source: Source, per: int = 4, fba_only: bool = False) -> FlatLayout:
    cols = []
    for raw in text.strip().splitlines():
        head, _, kind = raw.strip().partition("|")
        cols.append((head, kind or "text"))
    return FlatLayout(tuple(cols), source, per, fba_only)


_LISTING_HEAD = """item-name|title
item-description|empty
listing-id|id
seller-sku|sku
price|money
quantity|int
open-date|ts
image-url|empty
item-is-marketplace|lit:y
product-id-type|lit:1
zshop-shipping-fee|empty
item-note|empty
item-condition|lit:11
zshop-category1|empty
zshop-browse-path|empty
zshop-storefront-feature|empty
asin1|asin
asin2|empty
asin3|empty
will-ship-internationally|empty
expedited-shipping|empty
zshop-boldface|empty
product-id|asin
bid-for-featured-placement|empty
add-delete|empty
pending-quantity|int
"""
_B2B = """Business Price|money
Quantity Price Type|enum:fixed,percent
Quantity Lower Bound 1|int
Quantity Price 1|money
Quantity Lower Bound 2|int
Quantity Price 2|money
Quantity Lower Bound 3|empty
Quantity Price 3|empty
Quantity Lower Bound 4|empty
Quantity Price 4|empty
Quantity Lower Bound 5|empty
Quantity Price 5|empty
"""
_PROGRESSIVE = """Progressive Price Type|empty
Progressive Lower Bound 1|empty
Progressive Price 1|empty
Progressive Lower Bound 2|empty
Progressive Price 2|empty
Progressive Lower Bound 3|empty
Progressive Price 3|empty
"""

FLAT_LAYOUTS: dict[str, FlatLayout] = {
    "GET_FLAT_FILE_ARCHIVED_ORDERS_DATA_BY_ORDER_DATE": layout(
        """amazon-order-id|o:amazon-order-id
merchant-order-id|o:merchant-order-id
purchase-date|o:purchase-date
last-updated-date|o:last-updated-date
order-status|o:order-status
fulfillment-channel|o:fulfillment-channel
sales-channel|o:sales-channel
order-channel|o:order-channel
url|o:url
ship-service-level|o:ship-service-level
product-name|o:product-name
sku|o:sku
asin|o:asin
item-status|o:item-status
quantity|o:quantity
currency|o:currency
item-price|o:item-price
item-tax|o:item-tax
shipping-price|o:shipping-price
shipping-tax|o:shipping-tax
gift-wrap-price|o:gift-wrap-price
gift-wrap-tax|o:gift-wrap-tax
item-promotion-discount|o:item-promotion-discount
ship-promotion-discount|o:ship-promotion-discount
ship-country|o:ship-country
ship-promotion-id|empty
promotion-ids|o:promotion-ids
is-business-order|o:is-business-order
purchase-order-number|o:purchase-order-number
price-designation|o:price-designation
is-replacement-order|lit:false""",
        "orders",
    ),
    "GET_FLAT_FILE_ACTIONABLE_ORDER_DATA_SHIPPING": layout(
        """order-id|oid
order-item-id|id
purchase-date|ts
payments-date|ts
reporting-date|ts
promise-date|ts
days-past-promise|int
buyer-email|empty
buyer-phone-number|empty
is-business-order|tf
quantity-purchased|int
quantity-shipped|lit:0
quantity-to-ship|int
product-name|title
purchase-order-number|empty
recipient-name|empty
ship-city|city
ship-country|country
ship-postal-code|postal
ship-promotion-discount|lit:0.00
ship-service-level|enum:Standard,Expedited
ship-state|empty
shipping-price|money
shipping-tax|money
sku|sku""",
        "snapshot",
        per=12,
    ),
    "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL": layout(
        """amazon-order-id|oid
merchant-order-id|empty
shipment-id|id
shipment-item-id|id
amazon-order-item-id|id
merchant-order-item-id|empty
purchase-date|ts
payments-date|ts
shipment-date|ts
reporting-date|ts
buyer-email|empty
buyer-name|empty
buyer-phone-number|empty
sku|sku
product-name|title
quantity-shipped|int
currency|cur
item-price|money
item-tax|money
shipping-price|money
shipping-tax|money
gift-wrap-price|lit:0.00
gift-wrap-tax|lit:0.00
ship-service-level|enum:Standard,Expedited
recipient-name|empty
ship-address-1|empty
ship-address-2|empty
ship-address-3|empty
ship-city|city
ship-state|empty
ship-postal-code|postal
ship-country|country
ship-phone-number|empty
bill-address-1|empty
bill-address-2|empty
bill-address-3|empty
bill-city|empty
bill-state|empty
bill-postal-code|empty
bill-country|empty
item-promotion-discount|lit:0.00
ship-promotion-discount|lit:0.00
carrier|enum:AMZN_US,UPS,USPS
tracking-number|id
estimated-arrival-date|ts
fulfillment-center-id|fc
fulfillment-channel|lit:AFN
sales-channel|channel""",
        "days",
        fba_only=True,
    ),
    "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE": layout(
        """Order ID|oid
Order date|date
Return request date|date
Return request status|enum:Approved,Pending,Closed
Amazon RMA ID|id
Merchant RMA ID|empty
Label type|enum:AmazonPrePaidLabel,CustomerOwnLabel
Label cost|money
Currency code|cur
Return carrier|enum:UPS,USPS
Tracking ID|id
Label to be paid by|enum:Seller,Customer
A-to-Z Claim|yn
Is prime|yn
ASIN|asin
Merchant SKU|sku
Item Name|title
Return quantity|int1
Return Reason|enum:CR-UNWANTED_ITEM,CR-DEFECTIVE,CR-ORDERED_WRONG_ITEM
In policy|yn
Return type|enum:C-Returns,RefundOnly
Resolution|enum:StandardRefund,Replacement
Invoice number|empty
Return delivery date|date
Order Amount|money
Order quantity|int1
SafeT Action reason|empty
SafeT claim id|empty
SafeT claim state|empty
SafeT claim creation time|empty
SafeT claim reimbursement amount|empty
Refunded Amount|money""",
        "days",
        per=2,
    ),
    "GET_FBA_STORAGE_FEE_CHARGES_DATA": layout(
        """asin|asin
fnsku|fnsku
product_name|title
fulfillment_center|fc
country_code|country
longest_side|float
median_side|float
shortest_side|float
measurement_units|lit:inches
weight|float
weight_units|lit:pounds
item_volume|float
volume_units|lit:cubic feet
product_size_tier|enum:Standard,Oversize
average_quantity_on_hand|float
average_quantity_pending_removal|float
estimated_total_item_volume|float
month_of_charge|month
storage_rate|float
estimated_monthly_storage_fee|money
currency|cur
average_quantity_customer_orders|float
base_rate|float
breakdown_incentive_fee_amount|empty
dangerous_goods_storage_type|lit:--
eligible_for_inventory_discount|enum:Yes,No
qualifies_for_inventory_discount|enum:Yes,No
storage_utilization_ratio|float
storage_utilization_ratio_units|lit:weeks
total_incentive_fee_amount|lit:0.00
utilization_surcharge_rate|float""",
        "months",
        per=6,
        fba_only=True,
    ),
    "GET_FBA_FULFILLMENT_LONGTERM_STORAGE_FEE_CHARGES_DATA": layout(
        """snapshot-date|ts
sku|sku
fnsku|fnsku
asin|asin
product-name|title
condition|lit:New
per-unit-volume|float
currency|cur
volume-unit|lit:cubic feet
country|country
qty-charged|int
amount-charged|money
surcharge-age-tier|enum:181-210,211-240,241-270,365+
rate-surcharge|float""",
        "days",
        per=2,
        fba_only=True,
    ),
    "GET_FBA_REIMBURSEMENTS_DATA": layout(
        """approval-date|ts
reimbursement-id|id
case-id|empty
amazon-order-id|oid
reason|enum:Lost_Warehouse,Damaged_Warehouse,CustomerReturn
sku|sku
fnsku|fnsku
asin|asin
product-name|title
condition|lit:NewItem
currency-unit|cur
amount-per-unit|money
amount-total|money
quantity-reimbursed-cash|int1
quantity-reimbursed-inventory|lit:0
quantity-reimbursed-total|int1
original-reimbursement-id|empty
original-reimbursement-type|empty""",
        "days",
        per=2,
        fba_only=True,
    ),
    "GET_FBA_FULFILLMENT_REMOVAL_ORDER_DETAIL_DATA": layout(
        """request-date|ts
order-id|id
order-type|enum:Return,Disposal
service-speed|enum:Standard,Expedited
order-status|enum:Pending,Completed,Cancelled
last-updated-date|ts
sku|sku
fnsku|fnsku
disposition|enum:Sellable,Unsellable
requested-quantity|int
cancelled-quantity|lit:0
disposed-quantity|int
shipped-quantity|int
in-process-quantity|lit:0
removal-fee|money
currency|cur""",
        "days",
        per=2,
        fba_only=True,
    ),
    "GET_FBA_FULFILLMENT_REMOVAL_SHIPMENT_DETAIL_DATA": layout(
        """request-date|ts
order-id|id
shipment-date|ts
sku|sku
fnsku|fnsku
disposition|enum:Sellable,Unsellable
shipped-quantity|int1
carrier|enum:UPS,USPS,FEDEX
tracking-number|id
removal-order-type|enum:Return,Disposal""",
        "days",
        per=2,
        fba_only=True,
    ),
    "GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_PROMOTION_DATA": layout(
        """shipment-date|ts
currency|cur
item-promotion-discount|money
item-promotion-id|id
description|enum:Buy 2 save 10%,Holiday deal
promotion-rule-value|enum:PercentOff,FixedAmountOff
amazon-order-id|oid
shipment-id|id
shipment-item-id|id""",
        "days",
        per=3,
        fba_only=True,
    ),
    "GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_REPLACEMENT_DATA": layout(
        """shipment-date|ts
sku|sku
asin|asin
fulfillment-center-id|fc
original-fulfillment-center-id|fc
quantity|int1
replacement-reason-code|enum:2,4,5
replacement-amazon-order-id|oid
original-amazon-order-id|oid""",
        "days",
        per=1,
        fba_only=True,
    ),
    "GET_FBA_FULFILLMENT_CUSTOMER_SHIPMENT_SALES_DATA": layout(
        """shipment-date|ts
sku|sku
fnsku|fnsku
asin|asin
fulfillment-center-id|fc
quantity|int1
amazon-order-id|oid
currency|cur
item-price-per-unit|money
shipping-price|money
gift-wrap-price|lit:0.00
ship-city|city
ship-state|empty
ship-postal-code|postal""",
        "days",
        per=5,
        fba_only=True,
    ),
    "GET_FBA_ESTIMATED_FBA_FEES_TXT_DATA": layout(
        """sku|sku
fnsku|fnsku
asin|asin
product-name|title
product-group|enum:Home,Kitchen,Sports
brand|lit:Cascade
fulfilled-by|lit:Amazon
your-price|money
sales-price|money
longest-side|float
median-side|float
shortest-side|float
length-and-girth|float
unit-of-dimension|lit:inches
item-package-weight|float
unit-of-weight|lit:pounds
product-size-tier|enum:Small standard,Large standard
currency|cur
estimated-fee-total|money
estimated-referral-fee-per-unit|money
estimated-variable-closing-fee|lit:0.00
estimated-order-handling-fee-per-order|lit:0.00
estimated-pick-pack-fee-per-unit|money
estimated-weight-handling-fee-per-unit|lit:0.00
expected-fulfillment-fee-per-unit|money
estimated-future-fee (Current Selling on Amazon + Future Fulfillment fees)|money
estimated-future-order-handling-fee-per-order|lit:0.00
estimated-future-pick-pack-fee-per-unit|money
estimated-future-weight-handling-fee-per-unit|lit:0.00
expected-future-fulfillment-fee-per-unit|money
estimated-future-referral-fee-per-unit|money
current-fee-category|enum:Standard-Size,Oversize
future-fee-category|enum:Standard-Size,Oversize
future-fee-category-effective-date|date""",
        "snapshot",
        per=30,
        fba_only=True,
    ),
    "GET_FBA_INVENTORY_PLANNING_DATA": layout(
        """snapshot-date|date
sku|sku
fnsku|fnsku
asin|asin
product-name|title
condition|lit:New
available|int
pending-removal-quantity|int
inv-age-0-to-90-days|int
inv-age-91-to-180-days|int
inv-age-181-to-270-days|int
inv-age-271-to-365-days|int
inv-age-365-plus-days|int
currency|cur
qty-to-be-charged-ltsf-9-mo|int
projected-ltsf-9-mo|money
qty-to-be-charged-ltsf-12-mo|int
estimated-ltsf-next-charge|money
units-shipped-t7|int
units-shipped-t30|int
units-shipped-t60|int
units-shipped-t90|int
alert|enum:,Low traffic,Low conversion
your-price|money
sales-price|money
lowest-price-new-plus-shipping|money
lowest-price-used|empty
recommended-action|enum:No action required,Create promotion,Remove inventory
healthy-inventory-level|int
recommended-sales-price|money
recommended-sale-duration-days|int
recommended-removal-quantity|int
estimated-cost-savings-of-recommended-actions|money
sell-through|float
item-volume|float
volume-unit-measurement|lit:cubic feet
storage-type|enum:Standard,Oversize
storage-volume|float
marketplace|country
product-group|enum:Home,Kitchen,Sports
sales-rank|int
days-of-supply|int
estimated-excess-quantity|int
weeks-of-cover-t30|float
weeks-of-cover-t90|float
featuredoffer-price|money
sales-shipped-last-7-days|money
sales-shipped-last-30-days|money
sales-shipped-last-60-days|money
sales-shipped-last-90-days|money
inv-age-0-to-30-days|int
inv-age-31-to-60-days|int
inv-age-61-to-90-days|int
inv-age-181-to-330-days|int
inv-age-331-to-365-days|int
estimated-storage-cost-next-month|money
inbound-quantity|int
inbound-working|int
inbound-shipped|int
inbound-received|int
no-sale-last-6-months|int
reserved-quantity|int
unfulfillable-quantity|int
estimated-ais-181-210-days|money
estimated-ais-211-240-days|money
estimated-ais-241-270-days|money
estimated-ais-271-300-days|money
estimated-ais-301-330-days|money
estimated-ais-331-365-days|money
estimated-ais-365-plus-days|money
quantity-to-be-charged-ais-181-210-days|int
quantity-to-be-charged-ais-211-240-days|int
quantity-to-be-charged-ais-241-270-days|int
quantity-to-be-charged-ais-271-300-days|int
quantity-to-be-charged-ais-301-330-days|int
quantity-to-be-charged-ais-331-365-days|int
quantity-to-be-charged-ais-365-plus-days|int""",
        "snapshot",
        per=25,
        fba_only=True,
    ),
    "GET_AFN_INVENTORY_DATA_BY_COUNTRY": layout(
        """seller-sku|sku
fulfillment-channel-sku|fnsku
asin|asin
condition-type|lit:NewItem
country|country
quantity-for-local-fulfillment|int""",
        "snapshot",
        per=30,
        fba_only=True,
    ),
    "GET_STRANDED_INVENTORY_UI_DATA": layout(
        """primary-action|enum:Create listing,Relist,Remove
date-stranded|ts
Date-to-take-auto-removal|ts
status-primary|enum:Stranded,Action required
status-secondary|empty
error-message|empty
stranded-reason|enum:No listing exists,Listing closed
asin|asin
sku|sku
fnsku|fnsku
product-name|title
condition|lit:New
fulfilled-by|lit:Amazon
fulfillable-qty|int
your-price|money
unfulfillable-qty|int
reserved-quantity|int
inbound-shipped-qty|int""",
        "snapshot",
        per=8,
        fba_only=True,
    ),
    "GET_RESTOCK_INVENTORY_RECOMMENDATIONS_REPORT": layout(
        """Country|country
Product Name|title
FNSKU|fnsku
Merchant SKU|sku
ASIN|asin
Condition|lit:New
Supplier|empty
Supplier part no.|empty
Currency code|cur
Price|money
Sales last 30 days|money
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
Fulfilled by|lit:Amazon
Total Days of Supply (including units from open shipments)|float
Days of Supply at Amazon Fulfillment Network|float
Alert|enum:out_of_stock,reorder_now,
Recommended replenishment qty|int
Recommended ship date|date
Recommended action|enum:Restock,No action required
Unit storage size|float""",
        "snapshot",
        per=25,
        fba_only=True,
    ),
    "GET_LEDGER_DETAIL_VIEW_DATA": layout(
        """Date|date
FNSKU|fnsku
ASIN|asin
MSKU|sku
Title|title
Event Type|enum:Shipments,Receipts,CustomerReturns,Adjustments
Reference ID|id
Quantity|sint
Fulfillment Center|fc
Disposition|enum:SELLABLE,CUSTOMER_DAMAGED
Reason|empty
Country|country
Reconciled Quantity|lit:0
Unreconciled Quantity|lit:0
Date and Time|ts""",
        "days",
        per=6,
        fba_only=True,
    ),
    "GET_LEDGER_SUMMARY_VIEW_DATA": layout(
        """Date|date
FNSKU|fnsku
ASIN|asin
MSKU|sku
Title|title
Disposition|lit:SELLABLE
Starting Warehouse Balance|int
In Transit Between Warehouses|int
Receipts|int
Customer Shipments|sint
Customer Returns|int
Vendor Returns|lit:0
Warehouse Transfer In/Out|sint
Found|lit:0
Lost|lit:0
Damaged|lit:0
Disposed|lit:0
Other Events|lit:0
Ending Warehouse Balance|int
Unknown Events|lit:0
Location|country""",
        "days",
        per=5,
        fba_only=True,
    ),
    "GET_RESERVED_INVENTORY_DATA": layout(
        """sku|sku
fnsku|fnsku
asin|asin
product-name|title
reserved_qty|int
reserved_customerorders|int
reserved_fc-transfers|int
reserved_fc-processing|int""",
        "snapshot",
        per=20,
        fba_only=True,
    ),
    "GET_MERCHANT_LISTINGS_DATA": layout(
        _LISTING_HEAD
        + "fulfillment-channel|enum:DEFAULT,AMAZON_NA\n"
        + _B2B
        + "merchant-shipping-group|lit:Migrated Template\n"
        + _PROGRESSIVE,
        "snapshot",
        per=40,
    ),
    "GET_MERCHANT_LISTINGS_INACTIVE_DATA": layout(
        _LISTING_HEAD
        + "fulfillment-channel|enum:DEFAULT,AMAZON_NA\nmerchant-shipping-group|lit:Migrated Template",
        "snapshot",
        per=6,
    ),
    "GET_MERCHANT_LISTINGS_DATA_BACK_COMPAT": layout(
        _LISTING_HEAD + _B2B + "merchant-shipping-group|lit:Migrated Template\n" + _PROGRESSIVE,
        "snapshot",
        per=40,
    ),
    "GET_MERCHANT_LISTINGS_DATA_LITE": layout(
        "seller-sku|sku\nquantity|int\nprice|money\nproduct-id|asin\n" + _B2B + _PROGRESSIVE,
        "snapshot",
        per=40,
    ),
    "GET_FLAT_FILE_OPEN_LISTINGS_DATA": layout(
        "sku|sku\nasin|asin\nprice|money\nquantity|int\n" + _B2B + _PROGRESSIVE,
        "snapshot",
        per=40,
    ),
    "GET_MERCHANT_CANCELLED_LISTINGS_DATA": layout(
        """item-name|title
item-description|empty
seller-sku|sku
price|money
quantity|lit:0
image-url|empty
item-is-marketplace|lit:y
product-id-type|lit:1
zshop-shipping-fee|empty
item-note|empty
item-condition|lit:11
zshop-category1|empty
zshop-browse-path|empty
zshop-storefront-feature|empty
asin1|asin
asin2|empty
asin3|empty
will-ship-internationally|empty
expedited-shipping|empty
zshop-boldface|empty
product-id|asin
add-delete|empty
"""
        + _B2B
        + "merchant-shipping-group|lit:Migrated Template\n"
        + _PROGRESSIVE,
        "snapshot",
        per=5,
    ),
    "GET_MERCHANTS_LISTINGS_FYP_REPORT": layout(
        """Status|lit:Search Suppressed
Reason|enum:Missing main image,Invalid brand
SKU|sku
ASIN|asin
Product name|title
Condition|lit:New
Status Change Date|ts
Issue Description|enum:Add a main image,Update the brand name""",
        "snapshot",
        per=4,
    ),
    "GET_REFERRAL_FEE_PREVIEW_REPORT": layout(
        """seller-sku|sku
asin|asin
item-name|title
price|money
estimated-referral-fee-per-item|money""",
        "snapshot",
        per=30,
    ),
    "GET_SELLER_FEEDBACK_DATA": layout(
        """Date|mdy
Rating|enum:5,4,3,1
Comments|enum:Great product,Fast shipping,Not as described
Response|empty
Order ID|oid
Rater Email|email""",
        "days",
        per=2,
    ),
}
