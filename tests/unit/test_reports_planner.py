"""Planner: pure window planning, cursors, work units."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from splake.config import parse_config
from splake.reports.planner import (
    Window,
    WorkUnit,
    advance_cursor,
    floor_time,
    plan_units,
    plan_windows,
)
from splake.reports.types import REPORT_TYPES, snake_case

ORDERS = REPORT_TYPES["GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"]
ST = REPORT_TYPES["GET_SALES_AND_TRAFFIC_REPORT"]
VENDOR = REPORT_TYPES["GET_VENDOR_SALES_REPORT"]
LISTINGS = REPORT_TYPES["GET_MERCHANT_LISTINGS_ALL_DATA"]
NOW = datetime(2026, 11, 24, 21, 37, 12, tzinfo=UTC)


def test_snake_case_headers() -> None:
    assert snake_case("amazon-order-id") == "amazon_order_id"
    assert snake_case("item-price") == "item_price"
    assert snake_case("Quantity Available") == "quantity_available"
    assert snake_case("Warehouse-Condition-code") == "warehouse_condition_code"
    assert (
        snake_case("salesByDate.orderedProductSales.amount") == "sales_by_date_ordered_product_sales_amount"
    )
    assert snake_case("aged90PlusDaysSellableInventoryUnits") == "aged90_plus_days_sellable_inventory_units"


def test_backfill_from_start_date_is_contiguous_and_on_the_grid() -> None:
    ws = plan_windows(ORDERS, None, NOW, date(2026, 9, 1), timedelta(days=3))
    assert ws[0].start == datetime(2026, 9, 1, tzinfo=UTC)
    assert ws[-1].end == datetime(2026, 11, 24, tzinfo=UTC)  # today's partial day is not requested
    for a, b in itertools.pairwise(ws):
        assert a.end == b.start
    for w in ws:
        assert w.start is not None
        assert w.end - w.start <= ORDERS.max_window
        # never crosses a multiple of max_window since the epoch
        assert floor_time(w.start, ORDERS.max_window) == floor_time(
            w.end - timedelta(microseconds=1), ORDERS.max_window
        )


def test_incremental_run_starts_at_cursor_minus_lookback() -> None:
    cursor = datetime(2026, 11, 20, tzinfo=UTC)
    ws = plan_windows(ORDERS, cursor, NOW, date(2026, 9, 1), timedelta(days=3))
    assert ws[0].start == datetime(2026, 11, 17, tzinfo=UTC)
    assert ws[-1].end == datetime(2026, 11, 24, tzinfo=UTC)


def test_type_lookback_wins_over_config_and_start_date_is_a_floor() -> None:
    cursor = datetime(2026, 11, 20, tzinfo=UTC)
    ws = plan_windows(VENDOR, cursor, NOW, None, timedelta(days=0))
    assert ws[0].start == datetime(2026, 11, 17, tzinfo=UTC)  # 72 h vendor latency
    ws = plan_windows(ORDERS, cursor, NOW, date(2026, 11, 19), timedelta(days=30))
    assert ws[0].start == datetime(2026, 11, 19, tzinfo=UTC)


def test_daily_report_gets_one_window_per_day() -> None:
    ws = plan_windows(ST, None, NOW, date(2026, 11, 20), timedelta(days=3))
    assert [w.start.day for w in ws if w.start] == [20, 21, 22, 23]
    assert all(w.end - w.start == timedelta(days=1) for w in ws if w.start)


def test_replanning_later_in_the_same_day_gives_the_same_windows() -> None:
    a = plan_windows(ORDERS, None, NOW, date(2026, 10, 1), timedelta(days=3))
    b = plan_windows(ORDERS, None, NOW + timedelta(hours=2), date(2026, 10, 1), timedelta(days=3))
    assert a == b


def test_snapshot_slots() -> None:
    ws = plan_windows(LISTINGS, None, NOW, None, timedelta(days=3))
    assert ws == [Window(None, floor_time(NOW, LISTINGS.refresh_interval))]
    assert plan_windows(LISTINGS, ws[0].end, NOW + timedelta(minutes=5), None, timedelta(0)) == []
    later = NOW + LISTINGS.refresh_interval
    assert plan_windows(LISTINGS, ws[0].end, later, None, timedelta(0)) == [
        Window(None, floor_time(later, LISTINGS.refresh_interval))
    ]


@settings(max_examples=150, deadline=None)
@given(
    cursor_days=st.one_of(st.none(), st.integers(min_value=0, max_value=200)),
    now_offset=st.integers(min_value=0, max_value=400 * 24 * 3600),
    lookback_days=st.integers(min_value=0, max_value=40),
    start_offset=st.one_of(st.none(), st.integers(min_value=0, max_value=300)),
    type_name=st.sampled_from([n for n, s in REPORT_TYPES.items() if s.windowed and s.requestable]),
)
def test_windows_properties(
    cursor_days: int | None, now_offset: int, lookback_days: int, start_offset: int | None, type_name: str
) -> None:
    spec = REPORT_TYPES[type_name]
    now = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=now_offset)
    cursor = None if cursor_days is None else now - timedelta(days=cursor_days)
    start = None if start_offset is None else (now - timedelta(days=start_offset)).date()
    ws = plan_windows(spec, cursor, now, start, timedelta(days=lookback_days))
    off = spec.grid_offset
    end_limit = floor_time(now - spec.end_lag - off, spec.granularity) + off
    for w in ws:
        assert w.start is not None and w.start < w.end <= end_limit
        assert w.end - w.start <= spec.max_window
        assert floor_time(w.start - off, spec.granularity) + off == w.start
    for a, b in itertools.pairwise(ws):
        assert a.end == b.start
    if ws and start is not None:
        assert ws[0].start >= datetime(start.year, start.month, start.day, tzinfo=UTC)
    if cursor is not None and ws:
        # everything from the cursor to the end limit is covered (the lookback re-pulls before it)
        assert ws[0].start <= max(cursor, ws[0].start)
        assert ws[-1].end == end_limit


def test_advance_cursor_only_extends_contiguous_coverage() -> None:
    d = lambda n: datetime(2026, 11, n, tzinfo=UTC)  # noqa: E731
    assert advance_cursor(None, d(1), Window(d(1), d(5))) == d(5)
    assert advance_cursor(None, d(1), Window(d(5), d(9))) is None  # a later window landed first
    assert advance_cursor(d(5), d(1), Window(d(5), d(9))) == d(9)
    assert advance_cursor(d(9), d(1), Window(d(3), d(6))) == d(9)  # lookback re-pull never moves it back
    assert advance_cursor(d(9), None, Window(None, d(12))) == d(12)  # snapshot slot


CONFIG = {
    "lwa": {"client_id": "x"},
    "sync": {"start_date": "2026-11-10", "lookback_days": 3},
    "accounts": [
        {"id": "eu", "region": "EU", "selling_partner_id": "A1", "marketplaces": ["DE", "FR"]},
        {
            "id": "v",
            "type": "vendor",
            "region": "NA",
            "selling_partner_id": "V1",
            "marketplaces": ["US"],
            "vendor_report_options": {"sellingProgram": "FRESH"},
        },
    ],
}


def test_plan_units_per_marketplace_settlement_discovered_vendor_options() -> None:
    settings_ = parse_config(CONFIG)
    units = plan_units(settings_, {}, NOW)
    kinds = {(u.account_id, u.report_type, u.kind) for u in units}
    assert ("eu", "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2", "discover") in kinds
    assert not any(u.account_id == "eu" and "VENDOR" in u.report_type for u in units)
    assert not any(u.account_id == "v" and u.report_type.startswith("GET_FLAT_FILE") for u in units)
    orders = [u for u in units if u.report_type == ORDERS.name]
    assert {u.marketplace_ids for u in orders} == {("A1PA6795UKMFR9",), ("A13V1IB3VIYZZH",)}
    vendor = next(u for u in units if u.account_id == "v" and u.report_type == VENDOR.name)
    assert dict(vendor.options) == {
        "reportPeriod": "DAY",
        "distributorView": "MANUFACTURING",
        "sellingProgram": "FRESH",
    }
    keys = [(u.account_id, u.key) for u in units]
    assert len(keys) == len(set(keys))


def test_work_unit_round_trips_through_json_dict() -> None:
    settings_ = parse_config(CONFIG)
    for u in plan_units(settings_, {}, NOW):
        assert WorkUnit.from_dict(u.to_dict()) == u


def test_recently_moved_cursor_is_not_repulled_again() -> None:
    cursor = datetime(2026, 11, 23, tzinfo=UTC)
    assert plan_windows(ORDERS, cursor, NOW, None, timedelta(days=3), repull=False) == [
        Window(cursor, datetime(2026, 11, 24, tzinfo=UTC))
    ]
    settings_ = parse_config(CONFIG)
    key = ("eu", "GET_SALES_AND_TRAFFIC_REPORT#A1PA6795UKMFR9")
    cur = {key: datetime(2026, 11, 24, tzinfo=UTC)}
    fresh = [u for u in plan_units(settings_, cur, NOW, recent=frozenset({key})) if u.stream == key[1]]
    stale = [u for u in plan_units(settings_, cur, NOW) if u.stream == key[1]]
    assert fresh == []
    assert [u.window.start.day for u in stale if u.window.start] == [21, 22, 23]
