"""Tokens API 2021-03-01: ``createRestrictedDataToken`` (RDTs the sandbox accepts on restricted paths)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.sandbox.responses import bad_request, sp_json
from splake.sandbox.routing import Caller, sp_route
from splake.sandbox.state import SandboxState
from splake.sandbox.tokens import RestrictedResource

MAX_RESOURCES = 50
DATA_ELEMENTS = frozenset({"buyerInfo", "shippingAddress", "buyerTaxInformation"})


def parse_resources(body: Any) -> tuple[RestrictedResource, ...] | str:
    """The request's restricted resources, or an error message (pure)."""
    if not isinstance(body, dict) or not isinstance(body.get("restrictedResources"), list):
        return "restrictedResources is required."
    items = body["restrictedResources"]
    if not items or len(items) > MAX_RESOURCES:
        return f"restrictedResources must contain between 1 and {MAX_RESOURCES} items."
    out = []
    for item in items:
        if not isinstance(item, dict) or item.get("method") not in {"GET", "PUT", "POST", "DELETE"}:
            return "Each restricted resource needs a method of GET, PUT, POST or DELETE."
        path = item.get("path")
        if not isinstance(path, str) or not path.startswith("/"):
            return "Each restricted resource needs a path starting with '/'."
        elements = item.get("dataElements") or []
        if not isinstance(elements, list) or not set(elements) <= DATA_ELEMENTS:
            return "Invalid dataElements: allowed values are " + ", ".join(sorted(DATA_ELEMENTS)) + "."
        out.append(RestrictedResource(item["method"], path, tuple(elements)))
    return tuple(out)


def routes(state: SandboxState) -> list[Route]:
    async def create_rdt(request: Request, caller: Caller) -> Response:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            return bad_request("Request body is not valid JSON.")
        parsed = parse_resources(body)
        if isinstance(parsed, str):
            return bad_request(parsed)
        ttl = float(state.config.token_ttl_seconds)
        issued = state.tokens.issue(
            "rdt", caller.client_id, caller.selling_partner_id, None, ttl, state.monotonic(), parsed
        )
        return sp_json({"restrictedDataToken": issued.token, "expiresIn": int(ttl)})

    return [
        sp_route(
            state, "POST", "/tokens/2021-03-01/restrictedDataToken", "createRestrictedDataToken", create_rdt
        )
    ]
