"""Feed the registry from the lake: SKUs and ASINs of the curated listings report table."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

import pyarrow as pa

from splake.items.registry import Registry, items_from_listing_rows

DEFAULT_LISTINGS_TABLE = "merchant_listings"


class SqlEngine(Protocol):
    def sql(self, query: str, params: list[Any] | dict[str, Any] | None = None) -> pa.Table: ...

    def tables(self) -> list[str]: ...


def listings_report_table() -> str:
    """The curated table of GET_MERCHANT_LISTINGS_ALL_DATA (declared by the reports module)."""
    try:
        from splake.reports.types import REPORT_TYPES

        return str(REPORT_TYPES["GET_MERCHANT_LISTINGS_ALL_DATA"].table)
    except (ImportError, KeyError, AttributeError):
        return DEFAULT_LISTINGS_TABLE


def feed_from_listings_report(
    registry: Registry, engine: SqlEngine, account_ids: Iterable[str], now: datetime
) -> int:
    """Track every SKU (and ASIN) of these accounts' listings report rows; returns entries changed."""
    table = listings_report_table()
    if table not in engine.tables():
        return 0
    cols = set(engine.sql(f'select * from "{table}" limit 0').schema.names)
    sku_col = "seller_sku" if "seller_sku" in cols else "sku"
    asin_col = "asin1" if "asin1" in cols else ("asin" if "asin" in cols else "NULL")
    changed = 0
    for account_id in account_ids:
        rows = engine.sql(
            f'select marketplace_id, {sku_col} as seller_sku, {asin_col} as asin1 from "{table}" '
            "where account_id = ?",
            [account_id],
        ).to_pylist()
        changed += registry.add(items_from_listing_rows(account_id, rows), now)
    return changed
