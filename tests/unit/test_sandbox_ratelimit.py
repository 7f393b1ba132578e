"""Token-bucket arithmetic of the sandbox limiter (pure: the clock is passed in)."""

from __future__ import annotations

from splake.sandbox.ratelimit import RateLimiter, effective_limit, format_rate
from splake.spapi.usage_plans import operation

KEY = ("client", "A1SELLER", "getReport")


def test_effective_limit_scales_rate_and_burst() -> None:
    op = operation("getReport")  # 2 r/s, burst 15
    real = effective_limit("getReport", 1.0, 1.0)
    assert real is not None and (real.rate, real.burst) == (op.rate, op.burst)
    half = effective_limit("getReport", 0.5, 1.0)
    assert half is not None and half.rate == op.rate / 2 and half.burst == 8
    fast = effective_limit("getReport", 1.0, 0.01)
    assert fast is not None and fast.rate == op.rate * 100 and fast.burst == op.burst
    assert effective_limit("getReport", 1.0, 0.0) is None


def test_bucket_burst_then_refill() -> None:
    lim = effective_limit("getReport", 1.0, 1.0)
    rl = RateLimiter()
    assert all(rl.try_acquire(KEY, lim, 100.0) for _ in range(15))
    assert not rl.try_acquire(KEY, lim, 100.0)
    assert not rl.try_acquire(KEY, lim, 100.4)  # 0.8 tokens refilled
    assert rl.try_acquire(KEY, lim, 100.6)  # 1.2 tokens
    assert not rl.try_acquire(KEY, lim, 100.6)
    assert all(rl.try_acquire(KEY, lim, 1000.0) for _ in range(15))  # refill caps at burst
    assert not rl.try_acquire(KEY, lim, 1000.0)


def test_keys_are_independent_and_no_limit_always_passes() -> None:
    lim = effective_limit("createReport", 1.0, 1.0)
    rl = RateLimiter()
    other = ("client", "A2OTHER", "createReport")
    mine = ("client", "A1SELLER", "createReport")
    for _ in range(15):
        assert rl.try_acquire(mine, lim, 0.0)
    assert not rl.try_acquire(mine, lim, 0.0)
    assert rl.try_acquire(other, lim, 0.0)
    assert all(rl.try_acquire(mine, None, 0.0) for _ in range(100))


def test_header_format() -> None:
    assert format_rate(0.0167) == "0.0167"
    assert format_rate(2.0) == "2"
    assert format_rate(0.5) == "0.5"
