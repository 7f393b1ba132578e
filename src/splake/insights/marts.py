"""The marts, declared as data. Each is one Trino statement over the curated tables (``splake.reports``
report types → one Iceberg table each, snake_case columns from the real report headers, plus the lake's
provenance columns ``account_id, marketplace_id, report_id, data_start, data_end, ingested_at, source_key,
row_key``). The same SQL runs on Athena; locally it is transpiled to DuckDB.

Conventions: every mart outputs ``account_id`` and ``marketplace_id``; dated marts output ``day`` (a UTC
calendar DATE). Money is never added across currencies: money columns travel with a ``currency`` column.
"""

from __future__ import annotations

from splake.insights.model import Chart, Mart, Measure, Ratio

# Orders: the "by last update" table holds the latest version of every order line (replace = key).
ORDERS_TABLE = "orders_by_last_update"

# An order line counts as sold unless the order or the line was cancelled.
_SOLD = "COALESCE(order_status, '') <> 'Cancelled' AND COALESCE(item_status, '') <> 'Cancelled'"

DAILY_SALES = Mart(
    name="daily_sales",
    title="Daily sales and units (orders)",
    description=(
        "Units and item sales per UTC purchase day, ASIN, SKU and marketplace from the order reports "
        "(cancelled orders and lines excluded; item-price is the line total, before tax and promotions)."
    ),
    sql=f"""
SELECT
  CAST(purchase_date AT TIME ZONE 'UTC' AS DATE) AS day,
  account_id,
  marketplace_id,
  asin,
  sku,
  currency,
  CAST(SUM(COALESCE(quantity, 0)) AS BIGINT) AS units,
  SUM(COALESCE(item_price, 0)) AS sales,
  SUM(COALESCE(item_promotion_discount, 0)) AS promotion_discount,
  COUNT(DISTINCT amazon_order_id) AS orders
FROM {ORDERS_TABLE}
WHERE {_SOLD}
GROUP BY 1, 2, 3, 4, 5, 6
""",
    required_tables=(ORDERS_TABLE,),
    measures=(
        Measure("units", "Units ordered"),
        Measure("sales", "Item sales", unit="money"),
        Measure("orders", "Orders"),
    ),
    chart=Chart("line", x="day", measures=("units", "sales"), series="currency"),
    dimensions=("asin", "sku", "currency"),
)

# Sales & Traffic (JSON report): "by_date" rows = account-level totals per day ("date"); "by_asin" rows = per
# child ASIN / SKU over the period the document aggregates (start_date..end_date, inclusive): daily marts
# read the one-day periods only (a multi-day row belongs to no single day).
SALES_TRAFFIC_ASIN = Mart(
    name="sales_traffic_by_asin",
    title="Daily sales and units by ASIN (Sales & Traffic)",
    description=(
        "Units ordered, ordered product sales, sessions and page views per day, child ASIN and SKU from "
        "the Sales and Traffic report (Amazon's own daily numbers, including late corrections)."
    ),
    sql="""
SELECT
  start_date AS day,
  account_id,
  marketplace_id,
  parent_asin,
  child_asin AS asin,
  sku,
  sales_by_asin_ordered_product_sales_currency_code AS currency,
  CAST(SUM(COALESCE(sales_by_asin_units_ordered, 0)) AS BIGINT) AS units,
  SUM(COALESCE(sales_by_asin_ordered_product_sales_amount, 0)) AS sales,
  CAST(SUM(COALESCE(sales_by_asin_total_order_items, 0)) AS BIGINT) AS order_items,
  CAST(SUM(COALESCE(traffic_by_asin_sessions, 0)) AS BIGINT) AS sessions,
  CAST(SUM(COALESCE(traffic_by_asin_page_views, 0)) AS BIGINT) AS page_views
FROM sales_and_traffic
WHERE section = 'by_asin' AND start_date = end_date
GROUP BY 1, 2, 3, 4, 5, 6, 7
""",
    required_tables=("sales_and_traffic",),
    measures=(
        Measure("units", "Units ordered"),
        Measure("sales", "Ordered product sales", unit="money"),
        Measure("sessions", "Sessions"),
    ),
    chart=Chart("line", x="day", measures=("units", "sales"), series="currency"),
    ratios=(Ratio("unit_session_percentage", "Unit session percentage", "units", "sessions"),),
    dimensions=("parent_asin", "asin", "sku", "currency"),
)

ORDERS_VS_SALES_TRAFFIC = Mart(
    name="orders_vs_sales_traffic",
    title="Units: order reports vs Sales & Traffic",
    description=(
        "Units per day, marketplace and ASIN as the order reports show them (cancelled excluded) next to "
        "Amazon's Sales & Traffic numbers; the gap shows late or cancelled orders and reporting lag."
    ),
    sql=f"""
WITH o AS (
  SELECT CAST(purchase_date AT TIME ZONE 'UTC' AS DATE) AS day, account_id, marketplace_id, asin,
         CAST(SUM(COALESCE(quantity, 0)) AS BIGINT) AS units
  FROM {ORDERS_TABLE}
  WHERE {_SOLD}
  GROUP BY 1, 2, 3, 4
),
t AS (
  SELECT start_date AS day, account_id, marketplace_id, child_asin AS asin,
         CAST(SUM(COALESCE(sales_by_asin_units_ordered, 0)) AS BIGINT) AS units
  FROM sales_and_traffic
  WHERE section = 'by_asin' AND start_date = end_date
  GROUP BY 1, 2, 3, 4
)
SELECT
  COALESCE(o.day, t.day) AS day,
  COALESCE(o.account_id, t.account_id) AS account_id,
  COALESCE(o.marketplace_id, t.marketplace_id) AS marketplace_id,
  COALESCE(o.asin, t.asin) AS asin,
  COALESCE(o.units, 0) AS units_orders,
  COALESCE(t.units, 0) AS units_sales_traffic
FROM o
FULL OUTER JOIN t
  ON o.day = t.day AND o.account_id = t.account_id AND o.marketplace_id = t.marketplace_id AND o.asin = t.asin
""",
    required_tables=(ORDERS_TABLE, "sales_and_traffic"),
    measures=(
        Measure("units_orders", "Units (order reports)"),
        Measure("units_sales_traffic", "Units (Sales & Traffic)"),
    ),
    chart=Chart("line", x="day", measures=("units_orders", "units_sales_traffic")),
    ratios=(Ratio("coverage", "Order-report units / S&T units", "units_orders", "units_sales_traffic"),),
    dimensions=("asin",),
)

SESSIONS_CONVERSION = Mart(
    name="sessions_conversion",
    title="Sessions and conversion",
    description=(
        "Daily sessions, page views, units and order items per marketplace from the Sales and Traffic "
        "report; conversion = units ordered / sessions (Amazon's unit session percentage)."
    ),
    sql="""
SELECT
  "date" AS day,
  account_id,
  marketplace_id,
  CAST(SUM(COALESCE(traffic_by_date_sessions, 0)) AS BIGINT) AS sessions,
  CAST(SUM(COALESCE(traffic_by_date_page_views, 0)) AS BIGINT) AS page_views,
  CAST(SUM(COALESCE(sales_by_date_units_ordered, 0)) AS BIGINT) AS units,
  CAST(SUM(COALESCE(sales_by_date_total_order_items, 0)) AS BIGINT) AS order_items,
  CAST(SUM(COALESCE(sales_by_date_units_ordered, 0)) AS DOUBLE)
    / NULLIF(SUM(COALESCE(traffic_by_date_sessions, 0)), 0) AS conversion
FROM sales_and_traffic
WHERE section = 'by_date'
GROUP BY 1, 2, 3
""",
    required_tables=("sales_and_traffic",),
    measures=(
        Measure("sessions", "Sessions"),
        Measure("page_views", "Page views"),
        Measure("units", "Units ordered"),
    ),
    chart=Chart("line", x="day", measures=("sessions", "page_views", "units")),
    ratios=(
        Ratio("conversion", "Unit session percentage", "units", "sessions"),
        Ratio("order_item_session_percentage", "Order item session percentage", "order_items", "sessions"),
    ),
)

# Inventory health: the FBA Manage Inventory snapshot joined with 30-day sales velocity from the orders
# (30 days ending at the latest order day of the account+marketplace, so results don't drift with "now").
INVENTORY_HEALTH = Mart(
    name="inventory_health",
    title="FBA inventory health",
    description=(
        "Per SKU: fulfillable units on hand, inbound (working + shipped + receiving), reserved, "
        "unsellable, stranded (FBA units without an active FBA listing) and days of cover "
        "(on hand / average daily units sold over the last 30 days of orders)."
    ),
    sql=f"""
WITH last_day AS (
  SELECT account_id, marketplace_id, MAX(CAST(purchase_date AT TIME ZONE 'UTC' AS DATE)) AS max_day
  FROM {ORDERS_TABLE}
  GROUP BY 1, 2
),
velocity AS (
  SELECT o.account_id, o.marketplace_id, o.sku, CAST(SUM(COALESCE(o.quantity, 0)) AS BIGINT) AS units_30d
  FROM {ORDERS_TABLE} o
  JOIN last_day l ON l.account_id = o.account_id AND l.marketplace_id = o.marketplace_id
  WHERE COALESCE(o.order_status, '') <> 'Cancelled' AND COALESCE(o.item_status, '') <> 'Cancelled'
    AND CAST(o.purchase_date AT TIME ZONE 'UTC' AS DATE) > l.max_day - INTERVAL '30' DAY
  GROUP BY 1, 2, 3
)
SELECT
  i.account_id,
  i.marketplace_id,
  i.sku,
  i.asin,
  COALESCE(i.afn_fulfillable_quantity, 0) AS on_hand,
  COALESCE(i.afn_inbound_working_quantity, 0) + COALESCE(i.afn_inbound_shipped_quantity, 0)
    + COALESCE(i.afn_inbound_receiving_quantity, 0) AS inbound,
  COALESCE(i.afn_reserved_quantity, 0) AS reserved,
  COALESCE(i.afn_unsellable_quantity, 0) AS unsellable,
  CASE WHEN COALESCE(i.afn_listing_exists, FALSE) THEN 0 ELSE COALESCE(i.afn_fulfillable_quantity, 0) END
    AS stranded,
  COALESCE(v.units_30d, 0) AS units_30d,
  CAST(COALESCE(i.afn_fulfillable_quantity, 0) AS DOUBLE) * 30 / NULLIF(v.units_30d, 0) AS days_of_cover
FROM fba_myi_inventory i
LEFT JOIN velocity v
  ON v.account_id = i.account_id AND v.marketplace_id = i.marketplace_id AND v.sku = i.sku
""",
    required_tables=("fba_myi_inventory", ORDERS_TABLE),
    measures=(
        Measure("on_hand", "On hand (fulfillable)"),
        Measure("inbound", "Inbound"),
        Measure("reserved", "Reserved"),
        Measure("unsellable", "Unsellable"),
        Measure("stranded", "Stranded"),
        Measure("units_30d", "Units sold, last 30 days"),
    ),
    chart=Chart("bar", x="sku", measures=("on_hand", "inbound", "stranded", "units_30d"), limit=25),
    ratios=(
        Ratio("days_of_cover", "Days of cover (all SKUs)", "on_hand", "units_30d", scale=30.0, unit="days"),
    ),
    date_column=None,
    dimensions=("sku", "asin"),
)

RETURNS_RATE = Mart(
    name="returns_rate",
    title="Returns rate",
    description=(
        "Units returned (FBA customer returns, by return day) against units ordered (orders, by purchase "
        "day) per day, SKU and marketplace; returns rate = returned / ordered."
    ),
    sql=f"""
WITH returned AS (
  SELECT CAST(return_date AT TIME ZONE 'UTC' AS DATE) AS day, account_id, marketplace_id, sku,
         CAST(SUM(COALESCE(quantity, 0)) AS BIGINT) AS units_returned
  FROM fba_customer_returns
  GROUP BY 1, 2, 3, 4
),
ordered AS (
  SELECT CAST(purchase_date AT TIME ZONE 'UTC' AS DATE) AS day, account_id, marketplace_id, sku,
         CAST(SUM(COALESCE(quantity, 0)) AS BIGINT) AS units_ordered
  FROM {ORDERS_TABLE}
  WHERE {_SOLD}
  GROUP BY 1, 2, 3, 4
)
SELECT
  COALESCE(r.day, o.day) AS day,
  COALESCE(r.account_id, o.account_id) AS account_id,
  COALESCE(r.marketplace_id, o.marketplace_id) AS marketplace_id,
  COALESCE(r.sku, o.sku) AS sku,
  COALESCE(r.units_returned, 0) AS units_returned,
  COALESCE(o.units_ordered, 0) AS units_ordered
FROM returned r
FULL OUTER JOIN ordered o
  ON r.day = o.day AND r.account_id = o.account_id AND r.marketplace_id = o.marketplace_id AND r.sku = o.sku
""",
    required_tables=("fba_customer_returns", ORDERS_TABLE),
    measures=(
        Measure("units_returned", "Units returned"),
        Measure("units_ordered", "Units ordered"),
    ),
    chart=Chart("line", x="day", measures=("units_returned", "units_ordered")),
    ratios=(Ratio("returns_rate", "Returns rate", "units_returned", "units_ordered"),),
    dimensions=("sku",),
)

# Settlement fee lines: the fee amount types of the V2 flat file, plus any other line described as a fee.
SETTLEMENT_FEES = Mart(
    name="settlement_fees",
    title="Settlement fees by type",
    description=(
        "Fees charged in settlement reports per posted day, fee type (amount-type / amount-description) "
        "and currency; negative = charged to you."
    ),
    sql="""
WITH settlement_currency AS (
  -- V2 flat files carry the currency on the settlement's summary line only
  SELECT account_id, settlement_id, MAX(currency) AS currency
  FROM settlements
  WHERE currency IS NOT NULL AND currency <> ''
  GROUP BY 1, 2
)
SELECT
  CAST(s.posted_date AS DATE) AS day,
  s.account_id,
  s.marketplace_id,
  COALESCE(NULLIF(s.currency, ''), c.currency) AS currency,
  s.transaction_type,
  s.amount_type,
  s.amount_description AS fee_type,
  SUM(s.amount) AS amount,
  COUNT(*) AS lines
FROM settlements s
LEFT JOIN settlement_currency c ON c.account_id = s.account_id AND c.settlement_id = s.settlement_id
WHERE s.amount IS NOT NULL
  AND (s.amount_type IN ('ItemFees', 'ShipmentFees', 'OrderFees')
       OR LOWER(COALESCE(s.amount_description, '')) LIKE '%fee%')
GROUP BY 1, 2, 3, 4, 5, 6, 7
""",
    required_tables=("settlements",),
    measures=(Measure("amount", "Fees", unit="money"), Measure("lines", "Fee lines")),
    chart=Chart("bar", x="fee_type", measures=("amount",), series="currency", limit=30),
    dimensions=("currency", "transaction_type", "amount_type", "fee_type"),
)

VENDOR_SALES_INVENTORY = Mart(
    name="vendor_sales_inventory",
    title="Vendor sales vs inventory",
    description=(
        "Vendor retail analytics per day and ASIN: ordered and shipped units and revenue against sellable "
        "on-hand units and open purchase-order units."
    ),
    sql="""
WITH s AS (
  SELECT start_date AS day, account_id, marketplace_id, asin,
         ordered_revenue_currency_code AS currency,
         CAST(SUM(COALESCE(ordered_units, 0)) AS BIGINT) AS ordered_units,
         CAST(SUM(COALESCE(shipped_units, 0)) AS BIGINT) AS shipped_units,
         SUM(COALESCE(ordered_revenue_amount, 0)) AS ordered_revenue,
         SUM(COALESCE(shipped_revenue_amount, 0)) AS shipped_revenue,
         CAST(SUM(COALESCE(customer_returns, 0)) AS BIGINT) AS customer_returns
  FROM vendor_sales
  WHERE section = 'by_asin'
  GROUP BY 1, 2, 3, 4, 5
),
i AS (
  SELECT start_date AS day, account_id, marketplace_id, asin,
         CAST(SUM(COALESCE(sellable_on_hand_inventory_units, 0)) AS BIGINT) AS sellable_on_hand_units,
         CAST(SUM(COALESCE(open_purchase_order_units, 0)) AS BIGINT) AS open_po_units
  FROM vendor_inventory
  WHERE section = 'by_asin'
  GROUP BY 1, 2, 3, 4
)
SELECT
  COALESCE(s.day, i.day) AS day,
  COALESCE(s.account_id, i.account_id) AS account_id,
  COALESCE(s.marketplace_id, i.marketplace_id) AS marketplace_id,
  COALESCE(s.asin, i.asin) AS asin,
  s.currency,
  COALESCE(s.ordered_units, 0) AS ordered_units,
  COALESCE(s.shipped_units, 0) AS shipped_units,
  COALESCE(s.ordered_revenue, 0) AS ordered_revenue,
  COALESCE(s.shipped_revenue, 0) AS shipped_revenue,
  COALESCE(s.customer_returns, 0) AS customer_returns,
  COALESCE(i.sellable_on_hand_units, 0) AS sellable_on_hand_units,
  COALESCE(i.open_po_units, 0) AS open_po_units
FROM s
FULL OUTER JOIN i
  ON s.day = i.day AND s.account_id = i.account_id AND s.marketplace_id = i.marketplace_id AND s.asin = i.asin
""",
    required_tables=("vendor_sales", "vendor_inventory"),
    measures=(
        Measure("ordered_units", "Ordered units"),
        Measure("shipped_units", "Shipped units"),
        Measure("sellable_on_hand_units", "Sellable on hand (latest day)", agg="last"),
        Measure("open_po_units", "Open PO units (latest day)", agg="last"),
    ),
    chart=Chart("line", x="day", measures=("ordered_units", "shipped_units", "sellable_on_hand_units")),
    dimensions=("asin", "currency"),
)

MARTS: tuple[Mart, ...] = (
    DAILY_SALES,
    SALES_TRAFFIC_ASIN,
    ORDERS_VS_SALES_TRAFFIC,
    SESSIONS_CONVERSION,
    INVENTORY_HEALTH,
    RETURNS_RATE,
    SETTLEMENT_FEES,
    VENDOR_SALES_INVENTORY,
)


def mart(name: str) -> Mart:
    for m in MARTS:
        if m.name == name:
            return m
    raise KeyError(name)
