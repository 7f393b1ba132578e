"""Seller performance: feedback, account health (JSON), promotions and coupons (JSON)."""

from __future__ import annotations

from datetime import timedelta

from splake.reports.catalog._build import INSIGHTS_ROLE, INVENTORY_ROLE, columns
from splake.reports.types import ColumnSpec, JsonSection, OptionSpec, ReportTypeSpec

# Amazon writes the feedback date as a marketplace-local short date (e.g. 10/12/24 in the US): kept as
# text rather than guessing day/month order.
SELLER_FEEDBACK = columns("""
Date|string|feedback_date
Rating|int
Comments
Response
Order ID
Rater Email
""")


def _range(metric: str) -> str:
    dates = f"{metric}.reportingDateRange"
    return f"{dates}.reportingDateFrom|timestamp\n{dates}.reportingDateTo|timestamp\n"


def _target(metric: str) -> str:
    return f"{metric}.status\n{metric}.targetValue|float\n{metric}.targetCondition\n"


def _counted(metric: str, *parts: str) -> str:
    return "".join(f"{metric}.{p}.count|int\n{metric}.{p}.status\n" for p in parts)


def _odr(channel: str) -> str:
    m = f"orderDefectRate.{channel}"
    return (
        _range(m)
        + f"{m}.orderCount|int\n{m}.fulfillmentType\n"
        + _counted(m, "orderWithDefects", "claims", "chargebacks", "negativeFeedback")
        + f"{m}.rate|float\n"
        + _target(m)
    )


_POLICIES = (
    "listingPolicyViolations",
    "productAuthenticityCustomerComplaints",
    "productConditionCustomerComplaints",
    "productSafetyCustomerComplaints",
    "receivedIntellectualPropertyComplaints",
    "restrictedProductPolicyViolations",
    "suspectedIntellectualPropertyViolations",
    "foodAndProductSafetyIssues",
    "otherPolicyViolations",
    "documentRequests",
)

# accountHealthReport-2020-11-18: accountStatuses rows (marketplaceId, status) and performanceMetrics rows
ACCOUNT_HEALTH = columns(
    "marketplaceId|string|amazon_marketplace_id\nstatus\n"
    + _range("invoiceDefectRate")
    + "invoiceDefectRate.orderCount|int\n"
    + _counted("invoiceDefectRate", "invoiceDefect", "missingInvoice", "lateInvoice")
    + "invoiceDefectRate.rate|float\n"
    + _target("invoiceDefectRate")
    + _range("lateShipmentRate")
    + "lateShipmentRate.orderCount|int\nlateShipmentRate.lateShipmentCount|int\nlateShipmentRate.rate|float\n"
    + _target("lateShipmentRate")
    + _odr("mfn")
    + _odr("afn")
    + _range("onTimeDeliveryRate")
    + "onTimeDeliveryRate.shipmentCountWithValidTracking|int\nonTimeDeliveryRate.onTimeDeliveryCount|int\n"
    + "onTimeDeliveryRate.rate|float\n"
    + _target("onTimeDeliveryRate")
    + _range("unitOnTimeDeliveryRate")
    + "unitOnTimeDeliveryRate.unitOnTimeDeliveryCount|int\nunitOnTimeDeliveryRate.totalUnitCount|int\n"
    + "unitOnTimeDeliveryRate.rate|float\n"
    + _target("unitOnTimeDeliveryRate")
    + _range("validTrackingRate")
    + "validTrackingRate.shipmentCount|int\nvalidTrackingRate.validTrackingCount|int\n"
    + "validTrackingRate.rate|float\n"
    + _target("validTrackingRate")
    + _range("preFulfillmentCancellationRate")
    + "preFulfillmentCancellationRate.orderCount|int\npreFulfillmentCancellationRate.cancellationCount|int\n"
    + "preFulfillmentCancellationRate.rate|float\n"
    + _target("preFulfillmentCancellationRate")
    + "warningStates\n"
    + _range("accountHealthRating")
    + "accountHealthRating.ahrStatus\n"  # named accountHealthRatingStatus in the schema, ahrStatus in data
    + "".join(_range(p) + f"{p}.defectsCount|int\n" + _target(p) for p in _POLICIES)
)

PROMOTIONS = columns("""
promotionId
promotionName
vendorCode
merchantId
unitsSold|int
amountSpent|decimal
amountSpentCurrencyCode
revenue|decimal
revenueCurrencyCode
startDateTime|timestamp
endDateTime|timestamp
type
status
creationChannel
marketplaceId|string|amazon_marketplace_id
fundingAgreementId
glanceViews|int
createdDateTime|timestamp
lastUpdatedDateTime|timestamp
includedProducts
""")

SELLER_COUPONS = columns("""
couponId
merchantId
marketplaceId|string|amazon_marketplace_id
currencyCode
name
websiteMessage
startDateTime|timestamp
endDateTime|timestamp
customerSegment
discountType
discountAmount|decimal
clips|int
redemptions|int
budget|decimal
totalDiscount|decimal
budgetSpent|decimal
budgetRemaining|decimal
budgetPercentageUsed|decimal
sales|decimal
asins
""")


def _json(
    name: str,
    table: str,
    cols: tuple[ColumnSpec, ...],
    keys: tuple[str, ...],
    sections: tuple[JsonSection, ...],
    desc: str,
    **kw: object,
) -> ReportTypeSpec:
    return ReportTypeSpec(
        name=name,
        format="json",
        account_kinds=("seller",),
        table=table,
        columns=cols,
        key_columns=keys,
        json_sections=sections,
        description=desc,
        **kw,  # type: ignore[arg-type]
    )


SPECS = (
    ReportTypeSpec(
        name="GET_SELLER_FEEDBACK_DATA",
        format="tsv",
        account_kinds=("seller",),
        table="seller_feedback",
        columns=SELLER_FEEDBACK,
        key_columns=("order_id", "rater_email"),
        replace="key",
        max_window=timedelta(days=30),
        roles=(INVENTORY_ROLE,),
        description="Buyer feedback (rating, comments, your response) received in the window.",
    ),
    _json(
        "GET_V2_SELLER_PERFORMANCE_REPORT",
        "account_health",
        ACCOUNT_HEALTH,
        ("section", "amazon_marketplace_id"),
        (JsonSection("accountStatuses", "account_status"), JsonSection("performanceMetrics", "metrics")),
        "Account health: status per marketplace and every performance metric (JSON; daily snapshot).",
        replace="snapshot",
        windowed=False,
        refresh_interval=timedelta(hours=24),
        roles=(INVENTORY_ROLE,),
    ),
    _json(
        "GET_PROMOTION_PERFORMANCE_REPORT",
        "promotions",
        PROMOTIONS,
        ("promotion_id",),
        (JsonSection("promotions", "promotion"),),
        "Promotion performance (JSON) for promotions starting in the window.",
        replace="key",
        max_window=timedelta(days=31),
        roles=(INSIGHTS_ROLE,),
        options=(
            OptionSpec("promotionStartDateFrom", required=False, description="ISO date-time"),
            OptionSpec("promotionStartDateTo", required=False, description="ISO date-time"),
        ),
    ),
    _json(
        "GET_COUPON_PERFORMANCE_REPORT",
        "coupons",
        SELLER_COUPONS,
        ("coupon_id",),
        (JsonSection("coupons", "coupon"),),
        "Coupon performance (JSON) for coupons starting in the window.",
        replace="key",
        max_window=timedelta(days=31),
        roles=(INSIGHTS_ROLE,),
        options=(
            OptionSpec("couponStartDateFrom", required=False, description="ISO date-time"),
            OptionSpec("couponStartDateTo", required=False, description="ISO date-time"),
        ),
    ),
)
