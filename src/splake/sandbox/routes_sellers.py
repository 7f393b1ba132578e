"""Sellers API v1: ``getMarketplaceParticipations``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.sandbox.responses import sp_error, sp_json
from splake.sandbox.routing import Caller, sp_route
from splake.sandbox.state import SandboxState
from splake.spapi.marketplaces import marketplace


def marketplace_participations(marketplace_ids: tuple[str, ...], store_name: str) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for mid in marketplace_ids:
        m = marketplace(mid)
        host = m.domain.removeprefix("www.")
        out.append(
            {
                "marketplace": {
                    "id": m.id,
                    "name": host[0].upper() + host[1:],
                    "countryCode": "GB" if m.code == "UK" else m.code,
                    "defaultCurrencyCode": m.currency,
                    "defaultLanguageCode": m.language,
                    "domainName": host,
                },
                "participation": {"isParticipating": True, "hasSuspendedListings": False},
                "storeName": store_name,
            }
        )
    return out


def routes(state: SandboxState) -> list[Route]:
    async def get_participations(request: Request, caller: Caller) -> Response:
        acct = caller.account
        if acct is None:
            return sp_error(403, "Unauthorized", "Access to requested resource is denied.", "")
        if acct.type == "vendor":
            # Vendors have no seller marketplace participations.
            return sp_error(403, "Unauthorized", "Access to requested resource is denied.", "")
        return sp_json({"payload": marketplace_participations(acct.marketplace_ids, acct.store_name)})

    return [
        sp_route(
            state,
            "GET",
            "/sellers/v1/marketplaceParticipations",
            "getMarketplaceParticipations",
            get_participations,
        )
    ]
