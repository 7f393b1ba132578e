"""Token cache: expiry with an injected clock, single-flight refresh, guarded invalidation."""

from __future__ import annotations

import asyncio

from splake.auth.token_cache import CachedToken, TokenCache, expiry_from, is_usable


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_is_usable_margin() -> None:
    tok = CachedToken("t", expires_at=1000.0)
    assert is_usable(tok, 939.9)
    assert not is_usable(tok, 940.0)  # exactly 60 s before expiry: refresh
    assert not is_usable(tok, 1001.0)
    assert not is_usable(None, 0.0)
    assert is_usable(tok, 989.0, margin=10)


async def test_reuse_until_60s_before_expiry_then_refetch() -> None:
    clock = Clock()
    cache = TokenCache(clock)
    n = 0

    async def fetch() -> CachedToken:
        nonlocal n
        n += 1
        return CachedToken(f"tok{n}", clock() + 3600)

    assert await cache.get("k", fetch) == "tok1"
    clock.t += 3539
    assert await cache.get("k", fetch) == "tok1"
    clock.t += 1  # now 60 s before expiry
    assert await cache.get("k", fetch) == "tok2"
    assert n == 2 and cache.fetches == 2


async def test_concurrent_callers_share_one_fetch() -> None:
    clock = Clock()
    cache = TokenCache(clock)
    calls = 0

    async def fetch() -> CachedToken:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return CachedToken(f"tok{calls}", clock() + 3600)

    values = await asyncio.gather(*(cache.get("k", fetch) for _ in range(50)))
    assert set(values) == {"tok1"} and calls == 1
    # different keys do not share
    await asyncio.gather(cache.get("a", fetch), cache.get("b", fetch))
    assert calls == 3


async def test_failed_fetch_is_not_cached_and_next_caller_retries() -> None:
    clock = Clock()
    cache = TokenCache(clock)
    outcomes = [RuntimeError("boom"), CachedToken("ok", 5000.0)]

    async def fetch() -> CachedToken:
        item = outcomes.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    try:
        await cache.get("k", fetch)
    except RuntimeError:
        pass
    else:
        raise AssertionError("expected the fetch error to propagate")
    assert await cache.get("k", fetch) == "ok"


async def test_invalidate_only_drops_the_rejected_token() -> None:
    clock = Clock()
    cache = TokenCache(clock)

    async def fetch_new() -> CachedToken:
        return CachedToken("new", clock() + 3600)

    await cache.get("k", fetch_new)
    assert not cache.invalidate("k", "old")  # someone already replaced the rejected token
    assert cache.peek("k") is not None
    assert cache.invalidate("k", "new")
    assert cache.peek("k") is None
    assert not cache.invalidate("k")


def test_short_lived_tokens_are_usable_for_half_their_life() -> None:
    long = CachedToken("t", expiry_from(0.0, 3600))
    assert is_usable(long, 3539.0) and not is_usable(long, 3540.0)
    short = CachedToken("t", expiry_from(0.0, 10))  # a 10 s token: 60 s margin would never let it be used
    assert is_usable(short, 4.9) and not is_usable(short, 5.0)
    assert not is_usable(CachedToken("t", expiry_from(0.0, 0)), 0.0)
