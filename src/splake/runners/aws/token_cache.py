"""LWA access tokens shared by every Lambda: cached in Secrets Manager (KMS-encrypted) until they expire.

Without it each Lambda invocation would exchange the refresh token again (one LWA call per step per
account). :class:`SharedTokenCache` is a :class:`splake.auth.token_cache.TokenCache` that, on a local miss,
first looks in the secret store (``cache/lwa/<grant>/<ref>``) and only then calls LWA, writing the new token
back with its absolute expiry. Tokens are never logged.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Hashable

from splake.auth.token_cache import DEFAULT_MARGIN_SECONDS, CachedToken, TokenCache
from splake.errors import SecretNotFoundError
from splake.ports import SecretStore

PREFIX = "cache/lwa/"


def cache_name(key: Hashable) -> str:
    """Secret name for a token cache key like ("refresh_token", "accounts/x/refresh_token")."""
    parts = key if isinstance(key, tuple) else (key,)
    text = "/".join(str(p) for p in parts)
    return PREFIX + "".join(c if c.isalnum() or c in "/_+=.@-" else "_" for c in text)


def decode(raw: str) -> tuple[str, float] | None:
    """(access token, expiry as epoch seconds) from a cached entry, or None when unreadable."""
    try:
        data = json.loads(raw)
        return str(data["access_token"]), float(data["expires_at"])
    except (ValueError, KeyError, TypeError):
        return None


class SharedTokenCache(TokenCache):
    def __init__(
        self,
        store: SecretStore,
        clock: Callable[[], float],
        *,
        wall: Callable[[], float] = time.time,
        margin: float = DEFAULT_MARGIN_SECONDS,
    ) -> None:
        super().__init__(clock, margin)
        self._store = store
        self._wall = wall
        self._shared_margin = margin
        self.shared_hits = 0

    def _read(self, name: str) -> tuple[str, float] | None:
        try:
            return decode(self._store.get(name))
        except SecretNotFoundError:
            return None

    async def get(self, key: Hashable, fetch: Callable[[], Awaitable[CachedToken]]) -> str:
        name = cache_name(key)

        async def shared_fetch() -> CachedToken:
            found = await asyncio.to_thread(self._read, name)
            if found is not None:
                value, expires_epoch = found
                left = expires_epoch - self._wall()
                if left > self._shared_margin:
                    self.shared_hits += 1
                    return CachedToken(value, self._clock() + left)
            token = await fetch()
            expires_epoch = self._wall() + (token.expires_at - self._clock())
            body = json.dumps({"access_token": token.value, "expires_at": expires_epoch})
            await asyncio.to_thread(self._store.put, name, body)
            return token

        return await super().get(key, shared_fetch)

    def invalidate(self, key: Hashable, value: str | None = None) -> bool:
        dropped = super().invalidate(key, value)
        found = self._read(cache_name(key))
        if found is not None and (value is None or found[0] == value):
            self._store.delete(cache_name(key))  # the API rejected it: nobody should reuse it
        return dropped
