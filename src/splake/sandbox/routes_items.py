"""Catalog, listings, orders, finances, FBA inventory and notifications routes (owned by the items engineer).

Stub: returns no routes until the items engineer fills it in. Use ``splake.sandbox.routing.sp_route``.
"""

from __future__ import annotations

from starlette.routing import Route

from splake.sandbox.state import SandboxState


def routes(state: SandboxState) -> list[Route]:
    return []
