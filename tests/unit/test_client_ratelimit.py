"""Adaptive token bucket: pure math with an injected clock, plus discrete-event simulations of a client
driving an independent server-side token bucket (no sleeping)."""

from __future__ import annotations

import asyncio
import heapq
import math
import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from splake.spapi.ratelimit import (
    AdaptiveBucket,
    AdaptiveTuning,
    LocalRateLimiter,
    NoRateLimiter,
    RateLimiter,
    default_plan,
    parse_rate_header,
)


def test_default_plan_comes_from_the_models() -> None:
    assert default_plan("getListingsItem") == (5.0, 10)
    assert default_plan("createReport") == (0.0167, 15)
    assert default_plan("noSuchOperation") == (1.0, 1)


def test_parse_rate_header() -> None:
    assert parse_rate_header("0.0167") == 0.0167
    assert parse_rate_header(" 5 ") == 5.0
    for bad in (None, "", "abc", "0", "-1", "nan", "inf"):
        assert parse_rate_header(bad) is None


def test_burst_minus_headroom_then_paced_at_rate_times_safety() -> None:
    b = AdaptiveBucket(5.0, 10, now=0.0)
    delays = [b.reserve(0.0) for _ in range(12)]
    assert delays[:9] == [0.0] * 9  # burst 10, one token kept as headroom
    pace = 5.0 * 0.95
    assert delays[9:] == pytest.approx([1 / pace, 2 / pace, 3 / pace])
    # tokens come back over time, never above burst - headroom
    assert b.available(100.0) == 9.0
    one = AdaptiveBucket(1.0, 1, now=0.0)  # burst 1: no headroom possible
    assert one.reserve(0.0) == 0.0


def test_slow_operations_spend_the_whole_burst() -> None:
    # createReport: 0.0167 r/s, burst 15. A held-back token would cost ~63 s; the server bucket starts full.
    # Until the server's rate header confirms the slow rate, one token stays in reserve.
    b = AdaptiveBucket(0.0167, 15, now=0.0)
    assert b.available(0.0) == 14
    assert b.reserve(0.0) == 0.0  # the probe
    b.observe(0.0, 0.0167)
    delays = [b.reserve(0.0) for _ in range(15)]
    assert delays[:14] == [0.0] * 14  # probe + 14 = the whole burst of 15
    assert delays[14] == pytest.approx(1 / (0.0167 * 0.95))
    # a header saying the operation is really fast brings the headroom back
    fast = AdaptiveBucket(0.0167, 15, now=0.0)
    fast.observe(0.0, 10.0)
    assert fast.available(100.0) == fast.burst - 1


def test_header_lower_than_model_lowers_rate_and_scales_burst() -> None:
    b = AdaptiveBucket(5.0, 10, now=0.0)
    b.reserve(0.0)  # the probe used one token; the server's (real) bucket of 5 now holds 4
    b.observe(0.0, 2.5)
    assert b.ceiling == 2.5 and b.rate == 2.5
    assert b.burst == 5
    assert b.available(0.0) == 3  # 4 minus the headroom token
    # later reservations are spaced at the new pace
    b2 = AdaptiveBucket(5.0, 10, now=0.0)
    b2.observe(0.0, 2.5)
    delays = [b2.reserve(0.0) for _ in range(7)]
    assert delays[:4] == [0.0] * 4
    assert delays[4] == pytest.approx(1 / (2.5 * 0.95))


def test_header_higher_than_model_raises_rate_but_not_burst() -> None:
    b = AdaptiveBucket(0.0167, 15, now=0.0)
    b.observe(0.0, 1.0)
    assert b.rate == 1.0 and b.burst == 15


def test_lower_header_with_queued_waiters_forgives_and_bumps_epoch() -> None:
    b = AdaptiveBucket(5.0, 10, now=0.0)
    for _ in range(20):
        b.reserve(0.0)
    epoch = b.epoch
    b.observe(0.0, 2.5)
    assert b.epoch == epoch + 1 and b.tokens == 0.0


def test_single_429_backs_off_once_without_cutting_the_rate_repeated_429s_cut_it() -> None:
    b = AdaptiveBucket(5.0, 10, now=0.0)
    e0 = b.epoch
    b.throttled(1.0)
    # a suspicion only: the probe waits half a refill interval (0.5 / 4.75 s < the 1 s backoff): an empty
    # server bucket (one token per 0.2 s) throttles it too ...
    assert b.suspect and b.epoch == e0 + 1
    assert b.reserve(1.0) == pytest.approx(0.5 / (5.0 * 0.95))
    assert b.rate == 5.0
    b.throttled(1.2)  # ... and is throttled too (second 429 within the window of 1 s): cut the rate
    assert b.rate == pytest.approx(3.5)
    assert not b.suspect and b.tokens == 0.0  # confirmed empty: the next slot is one interval away
    b.throttled(5.0)  # far apart: a new suspicion, no cut
    assert b.rate == pytest.approx(3.5) and b.suspect


def test_spurious_429_on_a_slow_operation_costs_one_backoff_not_the_burst() -> None:
    # createReport-like: one token a minute, burst 15, confirmed by the rate header
    b = AdaptiveBucket(1 / 60, 15, now=0.0)
    b.observe(0.0, 1 / 60)
    for _ in range(3):
        assert b.reserve(0.0) == 0.0
        b.mark_sent()
    b.throttled(0.2, ticket=3)  # the third request: a spurious 429 (12 tokens left, +1 for it)
    retry_wait = b.reserve(0.5)
    assert retry_wait == pytest.approx(0.7, abs=0.01)  # backs off once: 1 s after the 429
    ticket = b.mark_sent()
    b.observe(1.3, 1 / 60, ticket)  # sent after the 429 and it succeeded: the 429 was spurious
    assert not b.suspect
    # back to the 13 tokens we had (+ 1.3 s of refill) minus the retry; the next requests go at once
    assert b.tokens == pytest.approx(12.0 + 1.3 * 0.95 / 60)
    assert all(b.reserve(1.3) == 0.0 for _ in range(12))
    assert b.rate == pytest.approx(1 / 60) and b.decreases == 0


def test_a_429_soon_after_a_forgiven_one_drains_and_counts_both() -> None:
    """The probe of a genuine 429 can get lucky (the server refilled meanwhile): the 429 is forgiven. Another
    429 within the window shows our count is off: drain at once (no second probe), and cut the rate."""
    b = AdaptiveBucket(2.0, 15, now=0.0)
    b.observe(0.0, 2.0)
    b.throttled(1.0, ticket=0)
    b.reserve(1.3)
    b.observe(1.35, 2.0, b.mark_sent())  # forgiven: tokens restored
    assert not b.suspect and b.tokens > 10
    b.throttled(2.0, ticket=b.mark_sent())
    assert not b.suspect and b.tokens == 0.0
    assert b.decreases == 1 and b.rate == pytest.approx(1.4)


def test_429_for_a_request_sent_before_the_first_429_changes_nothing() -> None:
    b = AdaptiveBucket(1 / 60, 15, now=0.0)
    b.observe(0.0, 1 / 60)
    tickets = []
    for _ in range(4):
        b.reserve(0.0)
        tickets.append(b.mark_sent())
    b.throttled(0.1, tickets[2])
    tokens, epoch = b.tokens, b.epoch
    b.throttled(0.15, tickets[3])  # in flight before the first 429 came back: no new evidence
    assert b.tokens == pytest.approx(tokens + 0.05 * 0.95 / 60) and b.epoch == epoch and b.suspect
    b.observe(0.2, 1 / 60, tickets[1])  # an older request's success does not forgive the 429 either
    assert b.suspect
    b.reserve(1.1)
    b.throttled(1.2, b.mark_sent())  # the retry, sent after the 429, throttled too: confirmed
    assert not b.suspect and b.tokens == 0.0
    # one refill interval, at a rate cut by the two 429s within the window
    assert b.reserve(1.2) == pytest.approx(60 / (0.95 * 0.7))


def test_rate_recovers_slowly_after_quiet_period_and_never_exceeds_ceiling() -> None:
    b = AdaptiveBucket(5.0, 10, now=0.0)
    b.throttled(0.0)
    b.throttled(0.1)
    low = b.rate
    b.observe(1.0, None)  # within 2 windows of the last 429: no growth
    assert b.rate == low
    b.observe(3.0, None)
    b.observe(4.0, None)  # +2 %/s of the ceiling, counted from 2 windows after the last 429 (2.1 s)
    assert b.rate == pytest.approx(low + 0.02 * 5.0 * (4.0 - 2.1))
    for t in range(5, 400):
        b.observe(float(t), None)
    assert b.rate == 5.0


def test_rate_never_below_floor() -> None:
    b = AdaptiveBucket(5.0, 10, now=0.0)
    t = 0.0
    for _ in range(200):
        t += 0.01
        b.throttled(t)
    assert b.rate == pytest.approx(5.0 * b.tuning.min_rate_fraction)


# --- discrete-event simulation against an independent server bucket ----------------------------------


def simulate(
    n: int,
    modelled: tuple[float, int],
    server: tuple[float, int],
    header: bool,
    *,
    rtt: float = 0.01,
    spurious: float = 0.0,
    seed: int = 1,
) -> tuple[int, float, AdaptiveBucket]:
    """n concurrent requests through AdaptiveBucket (same acquire loop as LocalRateLimiter, with the
    first request as a probe). Returns (429 count, time of the last success, bucket)."""
    rng = random.Random(seed)
    bucket = AdaptiveBucket(modelled[0], modelled[1], now=0.0)
    s_rate, s_burst = server
    s_tokens, s_t = float(s_burst), 0.0
    events: list[tuple[float, int, str, int]] = []
    seq = 0

    def push(t: float, kind: str, epoch: int = 0) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (t, seq, kind, epoch))

    def acquire(t: float) -> None:
        epoch = bucket.epoch
        delay = bucket.reserve(t)
        if delay <= 0:
            push(t, "send")
        else:
            push(t + delay, "wake", epoch)

    acquire(0.0)  # the probe
    waiting = n - 1
    throttles, done, last = 0, 0, 0.0
    while events:
        t, _, kind, epoch = heapq.heappop(events)
        if kind == "wake":
            if bucket.epoch == epoch:
                push(t, "send")
            else:
                acquire(t)
        elif kind == "send":
            s_tokens = min(float(s_burst), s_tokens + (t - s_t) * s_rate)
            s_t = t
            ok = s_tokens >= 1.0 and rng.random() >= spurious
            if s_tokens >= 1.0 and ok:
                s_tokens -= 1.0
            push(t + rtt, "ok" if ok else "429")
        elif kind == "ok":
            bucket.observe(t, s_rate if header else None)
            done += 1
            last = t
        elif kind == "429":
            throttles += 1
            bucket.throttled(t)
            acquire(t)  # retry (the limiter paces it)
        if kind in ("ok", "429") and waiting:
            for _ in range(waiting):  # the probe answered: everyone else starts
                acquire(t)
            waiting = 0
    assert done == n
    return throttles, last, bucket


def test_sim_model_matches_server_zero_429_near_theoretical_time() -> None:
    throttles, elapsed, _ = simulate(300, (5.0, 10), (5.0, 10), header=True)
    theoretical = (300 - 10) / 5.0
    assert throttles == 0
    assert elapsed <= theoretical * 1.1


def test_sim_real_limit_half_with_header_under_2_percent_429() -> None:
    throttles, elapsed, bucket = simulate(300, (5.0, 10), (2.5, 5), header=True)
    assert throttles / (300 + throttles) < 0.02
    assert bucket.ceiling == 2.5
    assert elapsed <= (300 - 5) / 2.5 * 1.1


def test_sim_real_limit_half_without_header_adapts() -> None:
    throttles, elapsed, bucket = simulate(300, (5.0, 10), (2.5, 5), header=False)
    theoretical = (300 - 5) / 2.5
    # a naive client at the modelled rate would get ~1 429 per success at steady state
    assert throttles / (300 + throttles) < 0.2
    assert bucket.decreases >= 1
    assert elapsed <= theoretical * 1.6


def test_sim_spurious_429s_do_not_collapse_throughput() -> None:
    throttles, elapsed, _ = simulate(300, (5.0, 10), (5.0, 10), header=True, spurious=0.03, seed=3)
    assert throttles > 0
    assert elapsed <= (300 - 10) / 5.0 * 1.5


# --- the async layer ------------------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        await asyncio.sleep(0)


async def test_local_limiter_probe_then_burst() -> None:
    ft = FakeTime()
    lim = LocalRateLimiter(clock=ft.clock, sleep=ft.sleep, plan=lambda op: (5.0, 10))
    assert isinstance(lim, RateLimiter) and isinstance(NoRateLimiter(), RateLimiter)
    await lim.acquire("S1", "getListingsItem")  # the probe goes at once
    started: list[int] = []

    async def one(i: int) -> None:
        await lim.acquire("S1", "getListingsItem")
        started.append(i)

    tasks = [asyncio.create_task(one(i)) for i in range(5)]
    await asyncio.sleep(0.01)
    assert started == []  # everyone waits for the probe's answer
    lim.observe("S1", "getListingsItem", "5.0")
    await asyncio.gather(*tasks)
    assert sorted(started) == list(range(5))
    assert ft.sleeps == []  # still inside the burst
    # buckets are per (seller, operation)
    await lim.acquire("S2", "getListingsItem")
    assert lim.snapshot()["S1|getListingsItem"]["header_seen"] is True
    assert lim.snapshot()["S2|getListingsItem"]["header_seen"] is False


async def test_local_limiter_probe_timeout_does_not_block_forever() -> None:
    lim = LocalRateLimiter(plan=lambda op: (100.0, 10), probe_timeout=0.05)
    await lim.acquire("S", "op")
    await asyncio.wait_for(lim.acquire("S", "op"), 2.0)


async def test_local_limiter_waiters_re_reserve_after_429() -> None:
    ft = FakeTime()
    lim = LocalRateLimiter(clock=ft.clock, sleep=ft.sleep, plan=lambda op: (1.0, 1))
    await lim.acquire("S", "op")
    lim.observe("S", "op", None)
    before = len(ft.sleeps)
    await lim.acquire("S", "op")  # waits ~1/0.95 s (in slices of at most 1 s: a reset is noticed)
    assert sum(ft.sleeps[before:]) == pytest.approx(1 / 0.95)
    lim.throttled("S", "op")
    before = len(ft.sleeps)
    await lim.acquire("S", "op")  # backs off once: half a refill interval (shorter than the 1 s backoff)
    assert sum(ft.sleeps[before:]) == pytest.approx(0.5 / 0.95)
    lim.throttled("S", "op")  # the request sent after the backoff is throttled too: drained, rate cut
    before = len(ft.sleeps)
    await lim.acquire("S", "op")
    assert sum(ft.sleeps[before:]) == pytest.approx(1 / (0.95 * 0.7))


async def test_local_limiter_spurious_429_releases_queued_waiters_early() -> None:
    """One spurious 429 on a slow operation (real clock, scaled: one token per 2 s, burst 6): the waiters
    queued behind the backoff go as soon as the retry succeeds, not one refill interval apart."""
    tuning = AdaptiveTuning(throttle_backoff_seconds=0.2)
    lim = LocalRateLimiter(plan=lambda op: (0.5, 6), tuning=tuning, recheck_seconds=0.02)
    await lim.acquire("S", "op")
    lim.observe("S", "op", "0.5")  # confirmed slow (2 s > headroom_max_seconds): whole burst usable
    lim.throttled("S", "op")  # the next request got a spurious 429 (modelled as this one)
    t0 = time.monotonic()
    started: list[float] = []

    async def one() -> None:
        await lim.acquire("S", "op")
        started.append(time.monotonic() - t0)

    async def retry() -> None:
        await lim.acquire("S", "op")
        started.append(time.monotonic() - t0)
        lim.observe("S", "op", "0.5")  # same task: its ticket says "sent after the 429"

    await asyncio.gather(retry(), *(one() for _ in range(4)))
    assert len(started) == 5
    # without forgiving the 429, the 4 waiters would start ~2.1 s apart (the last after ~8.6 s)
    assert max(started) < 1.5


async def test_probe_retrying_does_not_wait_for_itself() -> None:
    lim = LocalRateLimiter(plan=lambda op: (100.0, 10), probe_timeout=30.0)
    await lim.acquire("S", "op")  # the probe; its request fails without a response (no observe)
    started = time.monotonic()
    await lim.acquire("S", "op")  # the same task retries: it must not wait 30 s for its own answer
    assert time.monotonic() - started < 1.0


@settings(max_examples=40, deadline=None)
@given(
    rate=st.floats(min_value=0.2, max_value=20.0),
    burst=st.integers(min_value=1, max_value=30),
    factor=st.sampled_from([0.25, 0.5, 0.75, 1.0]),
    n=st.integers(min_value=2, max_value=120),
)
def test_property_with_a_truthful_header_no_429_and_near_optimal_time(
    rate: float, burst: int, factor: float, n: int
) -> None:
    server_rate, server_burst = rate * factor, max(1, math.ceil(burst * factor))
    throttles, elapsed, _ = simulate(n, (rate, burst), (server_rate, server_burst), header=True, rtt=0.001)
    assert throttles == 0
    optimal = max(0.0, (n - server_burst) / server_rate)
    # allowances: safety factor 0.95, one headroom token, the scaled burst rounded down (the real one
    # may be rounded up), and the probe's round trip
    assert elapsed <= optimal / 0.95 + 3.0 / server_rate + 0.01
