"""Restricted Data Tokens (Tokens API 2021-03-01) for operations that return PII.

An RDT is requested with ``createRestrictedDataToken`` for one restricted resource
``{method, path, dataElements}`` and is sent *instead of* the LWA access token in
``x-amz-access-token``. Tokens are cached per (selling partner, method, path, data elements) until
60 s before ``expiresIn`` runs out; concurrent callers share one request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from splake.auth.token_cache import CachedToken, TokenCache, expiry_from
from splake.config import AccountSettings
from splake.errors import ApiError
from splake.logs import register_secret

RdtKey = tuple[str, str, str, tuple[str, ...]]

# (account, operationId, json body) -> response body
CreateCall = Callable[[AccountSettings, str, dict[str, Any]], Awaitable[Any]]


def rdt_key(account: AccountSettings, method: str, path: str, data_elements: Sequence[str]) -> RdtKey:
    return (account.selling_partner_id, method.upper(), path, tuple(sorted(set(data_elements))))


def rdt_request_body(method: str, path: str, data_elements: Sequence[str]) -> dict[str, Any]:
    """The createRestrictedDataToken body for one specific resource (no query string in ``path``)."""
    resource: dict[str, Any] = {"method": method.upper(), "path": path.split("?", 1)[0]}
    if data_elements:
        resource["dataElements"] = sorted(set(data_elements))
    return {"restrictedResources": [resource]}


class RdtProvider:
    def __init__(self, create: CreateCall, clock: Callable[[], float]) -> None:
        self._create = create
        self._clock = clock
        self.cache = TokenCache(clock)

    async def token(
        self, account: AccountSettings, method: str, path: str, data_elements: Sequence[str]
    ) -> str:
        key = rdt_key(account, method, path, data_elements)

        async def fetch() -> CachedToken:
            started = self._clock()
            body = await self._create(
                account, "createRestrictedDataToken", rdt_request_body(method, path, data_elements)
            )
            token = body.get("restrictedDataToken") if isinstance(body, dict) else None
            if not isinstance(token, str) or not token:
                raise ApiError(
                    "createRestrictedDataToken answered without a restrictedDataToken",
                    status=200,
                    operation="createRestrictedDataToken",
                    hint="this is unexpected; check spapi.endpoint_override points at SP-API",
                )
            register_secret(token)
            expires_in = body.get("expiresIn", 3600)
            return CachedToken(token, expiry_from(started, float(expires_in)))

        return await self.cache.get(key, fetch)

    def invalidate(
        self, account: AccountSettings, method: str, path: str, data_elements: Sequence[str], token: str
    ) -> bool:
        return self.cache.invalidate(rdt_key(account, method, path, data_elements), token)
