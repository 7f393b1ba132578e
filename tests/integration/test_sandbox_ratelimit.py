"""Token buckets per (client, seller, operation) from the official usage plans, as Amazon enforces them."""

from __future__ import annotations

import time

from splake.sandbox import SandboxServer
from splake.spapi.usage_plans import operation
from tests.support.sandbox_fixtures import SpCaller

PATH = "/sellers/v1/marketplaceParticipations"


def test_burst_then_429_without_rate_header(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sb: SandboxServer = sandbox_factory(time_scale=1.0)
    sp = SpCaller(sb, "seller-na")
    burst = operation("getMarketplaceParticipations").burst
    codes = [sp.get(PATH) for _ in range(burst + 3)]
    assert [r.status_code for r in codes[:burst]] == [200] * burst
    assert [r.status_code for r in codes[burst:]] == [429, 429, 429]
    for r in codes[:burst]:
        assert float(r.headers["x-amzn-RateLimit-Limit"]) == operation("getMarketplaceParticipations").rate
        assert r.headers["x-amzn-RequestId"]
    throttled = codes[-1]
    assert "x-amzn-RateLimit-Limit" not in throttled.headers
    assert throttled.json() == {
        "errors": [
            {
                "code": "QuotaExceeded",
                "message": "You exceeded your quota for the requested resource.",
                "details": "",
            }
        ]
    }
    seller = sb.world.account("seller-na").selling_partner_id
    assert sb.stats.requests_for("getMarketplaceParticipations", seller) == burst + 3
    assert sb.stats.throttled_for("getMarketplaceParticipations", seller) == 3


def test_buckets_are_per_seller(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sb: SandboxServer = sandbox_factory(time_scale=1.0)
    na, eu = SpCaller(sb, "seller-na"), SpCaller(sb, "seller-eu")
    burst = operation("getMarketplaceParticipations").burst
    for _ in range(burst):
        assert na.get(PATH).status_code == 200
    assert na.get(PATH).status_code == 429
    assert eu.get(PATH).status_code == 200


def test_refill_and_header_follow_time_scale(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    # getReport: 2 r/s, burst 15 (real time). However slow the machine, passes are bounded by
    # burst + rate x elapsed, and a pause refills.
    sb: SandboxServer = sandbox_factory(time_scale=1.0)
    sp = SpCaller(sb, "seller-na")
    path = "/reports/2021-06-30/reports/1"
    t0 = time.monotonic()
    results = [sp.get(path).status_code for _ in range(25)]
    elapsed = time.monotonic() - t0
    passed = results.count(404)
    assert results[:15] == [404] * 15
    assert 15 <= passed <= 15 + 2 * elapsed + 1 and 429 in results
    time.sleep(0.6)
    assert sp.get(path).status_code == 404
    fast: SandboxServer = sandbox_factory(time_scale=0.1)  # refill periods x 0.1: 20 r/s enforced
    r = SpCaller(fast, "seller-na").get(path)
    assert r.status_code == 404 and float(r.headers["x-amzn-RateLimit-Limit"]) == 20.0


def test_rate_limit_factor_halves_the_limit_and_header_can_be_off(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sb: SandboxServer = sandbox_factory(time_scale=1.0, rate_limit_factor=0.5, emit_rate_header=False)
    sp = SpCaller(sb, "seller-na")
    burst = operation("getMarketplaceParticipations").burst  # 15 modelled → 8 enforced
    codes = [sp.get(PATH) for _ in range(burst)]
    assert [r.status_code for r in codes].count(200) == 8
    assert all("x-amzn-RateLimit-Limit" not in r.headers for r in codes)


def test_time_scale_zero_disables_limits(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sb: SandboxServer = sandbox_factory(time_scale=0.0)
    sp = SpCaller(sb, "seller-na")
    assert all(sp.get(PATH).status_code == 200 for _ in range(40))
    assert sb.stats.throttled_for("getMarketplaceParticipations") == 0
