"""Brand Analytics and B2B opportunity reports (JSON; Brand Analytics documents can be several GB)."""

from __future__ import annotations

from datetime import timedelta

from splake.reports.catalog._build import BRAND_ROLE, INSIGHTS_ROLE, columns, period_option
from splake.reports.types import ColumnSpec, JsonSection, OptionSpec, ReportTypeSpec

SEARCH_TERMS = columns("""
departmentName
searchTerm
searchFrequencyRank|int
clickedAsin
clickShareRank|int
clickShare|float
conversionShare|float
""")


def _money(path: str) -> str:
    return f"{path}.amount|decimal\n{path}.currencyCode\n"


SEARCH_QUERY_PERFORMANCE = columns(
    "startDate|date\nendDate|date\nasin\n"
    "searchQueryData.searchQuery\nsearchQueryData.searchQueryScore|int\nsearchQueryData.searchQueryVolume|int\n"
    "impressionData.totalQueryImpressionCount|int\nimpressionData.asinImpressionCount|int\n"
    "impressionData.asinImpressionShare|float\n"
    "clickData.totalClickCount|int\nclickData.totalClickRate|float\nclickData.asinClickCount|int\n"
    "clickData.asinClickShare|float\n"
    + _money("clickData.totalMedianClickPrice")
    + _money("clickData.asinMedianClickPrice")
    + "clickData.totalSameDayShippingClickCount|int\nclickData.totalOneDayShippingClickCount|int\n"
    "clickData.totalTwoDayShippingClickCount|int\n"
    "cartAddData.totalCartAddCount|int\ncartAddData.totalCartAddRate|float\ncartAddData.asinCartAddCount|int\n"
    "cartAddData.asinCartAddShare|float\n"
    + _money("cartAddData.totalMedianCartAddPrice")
    + _money("cartAddData.asinMedianCartAddPrice")
    + "cartAddData.totalSameDayShippingCartAddCount|int\ncartAddData.totalOneDayShippingCartAddCount|int\n"
    "cartAddData.totalTwoDayShippingCartAddCount|int\n"
    "purchaseData.totalPurchaseCount|int\npurchaseData.totalPurchaseRate|float\n"
    "purchaseData.asinPurchaseCount|int\npurchaseData.asinPurchaseShare|float\n"
    + _money("purchaseData.totalMedianPurchasePrice")
    + _money("purchaseData.asinMedianPurchasePrice")
    + "purchaseData.totalSameDayShippingPurchaseCount|int\n"
    "purchaseData.totalOneDayShippingPurchaseCount|int\n"
    "purchaseData.totalTwoDayShippingPurchaseCount|int\n"
)

SEARCH_CATALOG_PERFORMANCE = columns(
    "startDate|date\nendDate|date\nasin\n"
    "impressionData.impressionCount|int\n"
    + _money("impressionData.impressionMedianPrice")
    + "impressionData.sameDayShippingImpressionCount|int\nimpressionData.oneDayShippingImpressionCount|int\n"
    "impressionData.twoDayShippingImpressionCount|int\n"
    "clickData.clickCount|int\nclickData.clickRate|float\n"
    + _money("clickData.clickedMedianPrice")
    + "clickData.sameDayShippingClickCount|int\nclickData.oneDayShippingClickCount|int\n"
    "clickData.twoDayShippingClickCount|int\n"
    "cartAddData.cartAddCount|int\n"
    + _money("cartAddData.cartAddedMedianPrice")
    + "cartAddData.sameDayShippingCartAddCount|int\ncartAddData.oneDayShippingCartAddCount|int\n"
    "cartAddData.twoDayShippingCartAddCount|int\n"
    "purchaseData.purchaseCount|int\n"
    + _money("purchaseData.searchTrafficSales")
    + "purchaseData.conversionRate|float\n"
    + _money("purchaseData.purchaseMedianPrice")
    + "purchaseData.sameDayShippingPurchaseCount|int\npurchaseData.oneDayShippingPurchaseCount|int\n"
    "purchaseData.twoDayShippingPurchaseCount|int\n"
)

MARKET_BASKET = columns("""
startDate|date
endDate|date
asin
purchasedWithAsin
purchasedWithRank|int
combinationPct|float
""")

REPEAT_PURCHASE = columns(
    "startDate|date\nendDate|date\nasin\norders|int\nuniqueCustomers|int\nrepeatCustomersPctTotal|float\n"
    + _money("repeatPurchaseRevenue")
    + "repeatPurchaseRevenuePctTotal|float\n"
)

B2B_RECOMMENDED = columns(
    "asin\nitemName\nlink\nbrand\ncategory\nsubCategory\n"
    + _money("lowestPriceInTheLastWeek")
    + "hasFBAOffer|bool\nofferCount|int\nhasAmazonOffer|bool\nhasOfferWithVatInvoiceGeneration|bool\n"
    "reviewCount|int\nb2bSalesRank|int\nb2bSalesRankGrowth\npageViews\npartNumber\nean\nupc\nmodelNumber\nisbn\n"
    "isBrandYouOffer|bool\nisCategoryYouOffer|bool\nproductPerformance\nisProductOnAmazon|bool\n"
)

B2B_NOT_ON_AMAZON = columns("""
itemName
brand
category
initialB2bBuyerIndustry
partNumber
ean
upc
modelNumber
isbn
initialB2bBuyerRequestedDate
""")

_PERIOD = period_option(("DAY", "WEEK", "MONTH", "QUARTER"))
_WEEKLY = period_option(("WEEK", "MONTH", "QUARTER"))  # the schema allows no DAY for these
_BA = (BRAND_ROLE,)


def _ba(
    name: str,
    table: str,
    cols: tuple[ColumnSpec, ...],
    keys: tuple[str, ...],
    section: str,
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
        replace=kw.pop("replace", "window"),  # type: ignore[arg-type]
        window_column=kw.pop("window_column", "start_date"),  # type: ignore[arg-type]
        json_sections=(JsonSection(section, "by_asin" if section == "dataByAsin" else "by_term"),),
        max_window=kw.pop("max_window", timedelta(days=1)),  # type: ignore[arg-type]
        granularity=kw.pop("granularity", timedelta(days=1)),  # type: ignore[arg-type]
        end_lag=timedelta(days=2),  # Brand Analytics data for a day is complete ~48 h later
        lookback=timedelta(days=3),
        roles=_BA,
        description=desc,
        **kw,  # type: ignore[arg-type]
    )


SPECS = (
    _ba(
        "GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT",
        "ba_search_terms",
        (ColumnSpec("startDate", "date"), *SEARCH_TERMS),
        ("start_date", "department_name", "search_term", "clicked_asin"),
        "dataByDepartmentAndSearchTerm",
        "Top search terms with the three most-clicked ASINs (JSON, can be multi-GB; streamed).",
        default_options=(("reportPeriod", "DAY"),),
        options=(_PERIOD,),
    ),
    _ba(
        "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT",
        "ba_search_query_performance",
        SEARCH_QUERY_PERFORMANCE,
        ("start_date", "asin", "search_query_data_search_query"),
        "dataByAsin",
        "Search query performance for your ASINs (needs the asin option: space-separated ASINs).",
        default_options=(("reportPeriod", "WEEK"),),
        max_window=timedelta(days=7),
        granularity=timedelta(days=7),
        grid_offset=timedelta(days=3),  # Sunday to Saturday weeks
        options=(
            _WEEKLY,
            OptionSpec("asin", required=True, description="space-separated ASINs (max 200 chars)"),
        ),
    ),
    _ba(
        "GET_BRAND_ANALYTICS_SEARCH_CATALOG_PERFORMANCE_REPORT",
        "ba_search_catalog_performance",
        SEARCH_CATALOG_PERFORMANCE,
        ("start_date", "asin"),
        "dataByAsin",
        "Search funnel (impressions → clicks → cart adds → purchases) per ASIN.",
        default_options=(("reportPeriod", "WEEK"),),
        max_window=timedelta(days=7),
        granularity=timedelta(days=7),
        grid_offset=timedelta(days=3),  # Sunday to Saturday weeks
        options=(_WEEKLY, OptionSpec("asins", description="space-separated ASINs (optional filter)")),
    ),
    _ba(
        "GET_BRAND_ANALYTICS_MARKET_BASKET_REPORT",
        "ba_market_basket",
        MARKET_BASKET,
        ("start_date", "asin", "purchased_with_asin"),
        "dataByAsin",
        "Items most often bought together with your ASINs.",
        default_options=(("reportPeriod", "DAY"),),
        options=(_PERIOD,),
    ),
    _ba(
        "GET_BRAND_ANALYTICS_REPEAT_PURCHASE_REPORT",
        "ba_repeat_purchase",
        REPEAT_PURCHASE,
        ("start_date", "asin"),
        "dataByAsin",
        "Repeat purchase behaviour per ASIN.",
        default_options=(("reportPeriod", "WEEK"),),
        max_window=timedelta(days=7),
        granularity=timedelta(days=7),
        grid_offset=timedelta(days=3),  # Sunday to Saturday weeks
        options=(_WEEKLY,),
    ),
    ReportTypeSpec(
        name="GET_B2B_PRODUCT_OPPORTUNITIES_RECOMMENDED_FOR_YOU",
        format="json",
        account_kinds=("seller",),
        table="b2b_recommended_for_you",
        columns=B2B_RECOMMENDED,
        key_columns=("asin",),
        replace="snapshot",
        windowed=False,
        refresh_interval=timedelta(days=7),
        json_sections=(JsonSection("recommendations", "recommendation"),),
        roles=(INSIGHTS_ROLE,),
        description="B2B products recommended for you to offer (JSON).",
    ),
    ReportTypeSpec(
        name="GET_B2B_PRODUCT_OPPORTUNITIES_NOT_YET_ON_AMAZON",
        format="json",
        account_kinds=("seller",),
        table="b2b_not_yet_on_amazon",
        columns=B2B_NOT_ON_AMAZON,
        key_columns=("item_name", "part_number", "brand"),
        replace="snapshot",
        windowed=False,
        refresh_interval=timedelta(days=7),
        json_sections=(JsonSection("recommendations", "recommendation"),),
        roles=(INSIGHTS_ROLE,),
        description="Products B2B buyers searched for that are not on Amazon yet (JSON).",
    ),
)
