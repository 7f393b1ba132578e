"""The sandbox's SP-API operations beyond Reports, one module per API.

:func:`routes` builds the state the APIs share (the listings/catalog world, the order book, paging-token
expiry) and returns every API's routes. Every SP-API route goes through
:func:`splake.sandbox.routing.sp_route`, so auth, the official usage plans, faults and rate headers apply
as for every other operation.
"""

from __future__ import annotations

from starlette.routing import Route

from splake.sandbox.apis import (
    catalog,
    data_kiosk,
    fba_inventory,
    finances,
    finances_2024,
    listings,
    notifications,
    orders_2026,
    orders_v0,
    report_schedules,
    unserved,
    vendor_df_orders,
    vendor_orders,
)
from splake.sandbox.apis.common import PagingTokens
from splake.sandbox.apis.listings_world import ItemsWorld
from splake.sandbox.apis.orders_v0 import OrderBook
from splake.sandbox.state import SandboxState


def routes(state: SandboxState) -> list[Route]:
    items = ItemsWorld(state.world)
    book = OrderBook(state)
    tokens = PagingTokens(state)
    return [
        *orders_v0.routes(state, book),
        *orders_2026.routes(state, book),
        *finances.routes(state, book, tokens),
        *finances_2024.routes(state, book, tokens),
        *fba_inventory.routes(state, tokens),
        *catalog.routes(state, items),
        *listings.routes(state, items),
        *notifications.routes(state),
        *report_schedules.routes(state),
        *data_kiosk.routes(state),
        *vendor_orders.routes(state),
        *vendor_df_orders.routes(state),
    ]


__all__ = ["data_kiosk", "report_schedules", "routes", "unserved"]
