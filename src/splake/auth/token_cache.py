"""An in-process cache of short-lived tokens (LWA access tokens, Restricted Data Tokens).

- A token is reused until ``margin`` seconds (default 60, as Amazon's own SDKs) before it expires.
- Concurrent callers that find no usable token share ONE fetch: a per-key :class:`asyncio.Lock` is held
  while fetching, and waiters re-check the cache when they get the lock.
- ``invalidate(key, value)`` drops a token the server rejected, but only if it is still the cached one
  (a concurrent caller may already have replaced it with a fresh token).

The clock is injected (seconds, monotonic) so expiry logic is testable without sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

DEFAULT_MARGIN_SECONDS = 60.0


@dataclass(frozen=True)
class CachedToken:
    value: str
    expires_at: float  # clock() seconds


def is_usable(token: CachedToken | None, now: float, margin: float = DEFAULT_MARGIN_SECONDS) -> bool:
    """True if ``token`` can still be sent at ``now`` (more than ``margin`` seconds left)."""
    return token is not None and now < token.expires_at - margin


def expiry_from(now: float, expires_in: float, margin: float = DEFAULT_MARGIN_SECONDS) -> float:
    """Absolute expiry for a token the server says lives ``expires_in`` seconds from ``now``.

    Tokens shorter-lived than twice the safety margin would be unusable at once; they are treated as
    usable for half their lifetime instead (``is_usable`` subtracts ``margin`` again)."""
    lifetime = max(0.0, float(expires_in))
    if lifetime < 2 * margin:
        return now + margin + lifetime / 2
    return now + lifetime


class TokenCache:
    def __init__(self, clock: Callable[[], float], margin: float = DEFAULT_MARGIN_SECONDS) -> None:
        self._clock = clock
        self._margin = margin
        self._tokens: dict[Hashable, CachedToken] = {}
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self.fetches = 0  # how many times a fetch function was actually called

    def peek(self, key: Hashable) -> CachedToken | None:
        token = self._tokens.get(key)
        return token if is_usable(token, self._clock(), self._margin) else None

    async def get(self, key: Hashable, fetch: Callable[[], Awaitable[CachedToken]]) -> str:
        token = self.peek(key)
        if token is not None:
            return token.value
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            token = self.peek(key)  # someone else may have refreshed while we waited
            if token is not None:
                return token.value
            self.fetches += 1
            token = await fetch()
            self._tokens[key] = token
            return token.value

    def invalidate(self, key: Hashable, value: str | None = None) -> bool:
        """Forget the cached token for ``key`` (only if it is still ``value``, when given)."""
        token = self._tokens.get(key)
        if token is None or (value is not None and token.value != value):
            return False
        del self._tokens[key]
        return True

    def clear(self) -> None:
        self._tokens.clear()
