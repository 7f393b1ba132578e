"""SpApiClient + LWA against the real sandbox server on loopback."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from splake.auth.secrets import LocalSecretStore
from splake.config import Settings, parse_config
from splake.errors import ApiError, AuthError, ConfigError, RetryableError, ServerError, ThrottledError
from splake.sandbox import SandboxServer
from splake.sandbox.catalog import products_for
from splake.spapi.client import SpApiClient, user_agent
from splake.spapi.ratelimit import LocalRateLimiter, NoRateLimiter
from splake.spapi.retry import RetryPolicy

FAST_RETRY = RetryPolicy(max_retries=6, base_seconds=0.01, cap_seconds=0.05)


def sandbox_settings(sb: SandboxServer, **spapi: Any) -> Settings:
    w = sb.world
    return parse_config(
        {
            "lwa": {"client_id": w.client_id, "token_url": sb.url + "/auth/o2/token"},
            "spapi": {"endpoint_override": sb.url, **spapi},
            "accounts": [
                {
                    "id": a.account_id,
                    "type": a.type,
                    "region": a.region,
                    "selling_partner_id": a.selling_partner_id,
                    "marketplaces": list(a.marketplace_ids),
                }
                for a in w.accounts
            ],
        }
    )


def sandbox_secrets(sb: SandboxServer, path: Path) -> LocalSecretStore:
    store = LocalSecretStore(path)
    store.put("lwa/client_secret", sb.world.client_secret)
    for a in sb.world.accounts:
        store.put(f"accounts/{a.account_id}/refresh_token", a.refresh_token)
    return store


def skus(sb: SandboxServer, account_id: str = "seller-na", n: int = 5) -> list[str]:
    return [p.sku for p in products_for(sb.world.seed, sb.world.account(account_id), sb.world.scale)[:n]]


class Recorder:
    """httpx event hook: what actually went over the wire."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> None:
        self.requests.append(request)


def make_client(
    sb: SandboxServer, tmp_path: Path, *, recorder: Recorder | None = None, **kw: Any
) -> SpApiClient:
    settings = kw.pop("settings", None) or sandbox_settings(sb)
    http = httpx.AsyncClient(event_hooks={"request": [recorder]} if recorder else {}, trust_env=False)
    kw.setdefault("retry", FAST_RETRY)
    return SpApiClient(settings, sandbox_secrets(sb, tmp_path / "secrets"), http=http, **kw)


async def get_listing(client: SpApiClient, sb: SandboxServer, sku: str, account_id: str = "seller-na") -> Any:
    acct = client.settings.account(account_id)
    return await client.call(
        acct,
        "getListingsItem",
        path={"sellerId": acct.selling_partner_id, "sku": sku},
        params={"marketplaceIds": [acct.marketplaces[0]], "includedData": ["summaries", "issues"]},
    )


async def test_call_sends_amazon_headers_and_parses_response(sandbox: SandboxServer, tmp_path: Path) -> None:
    rec = Recorder()
    client = make_client(sandbox, tmp_path, recorder=rec)
    sku = skus(sandbox)[0]
    resp = await get_listing(client, sandbox, sku)
    await client.aclose()
    assert resp.status == 200
    assert resp.body["sku"] == sku
    assert resp.request_id and re.fullmatch(r"[0-9a-f-]{36}", resp.request_id)
    api = [r for r in rec.requests if "/listings/" in r.url.path]
    assert len(api) == 1
    req = api[0]
    assert req.headers["user-agent"] == user_agent() == "splake/0.1.0 (Language=Python)"
    assert re.fullmatch(r"\d{8}T\d{6}Z", req.headers["x-amz-date"])
    assert req.headers["x-amz-access-token"].startswith("Atza|")
    assert req.url.params["marketplaceIds"] == "ATVPDKIKX0DER"
    assert req.url.params["includedData"] == "summaries,issues"
    lwa = [r for r in rec.requests if r.url.path == "/auth/o2/token"]
    assert len(lwa) == 1
    assert lwa[0].headers["content-type"].startswith("application/x-www-form-urlencoded")


async def test_404_raises_api_error_with_amazon_message_request_id_and_hint(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    async with make_client(sandbox, tmp_path) as client:
        with pytest.raises(ApiError) as exc:
            await get_listing(client, sandbox, "NO-SUCH-SKU-1")
    err = exc.value
    assert err.status == 404 and err.operation == "getListingsItem"
    assert err.request_id and err.request_id in str(err)
    assert "NotFound" in str(err) and "NO-SUCH-SKU-1" in str(err)
    assert err.hint and "not found" in err.hint


async def test_token_reused_then_refreshed_once_for_50_concurrent_calls_after_expiry(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    now = [1000.0]
    client = make_client(sandbox, tmp_path, clock=lambda: now[0])
    sku = skus(sandbox, n=1)[0]
    await get_listing(client, sandbox, sku)
    await asyncio.gather(*(get_listing(client, sandbox, sku) for _ in range(10)))
    assert sandbox.stats.token_grants["refresh_token"] == 1  # cached
    now[0] += 3600 - 59  # inside the 60 s safety margin: our cache considers it expired
    results = await asyncio.gather(*(get_listing(client, sandbox, sku) for _ in range(50)))
    await client.aclose()
    assert all(r.status == 200 for r in results)
    assert sandbox.stats.token_grants["refresh_token"] == 2  # exactly one refresh for 50 callers


async def test_server_side_expiry_403_invalidates_and_refreshes_once_for_50_callers(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    client = make_client(sandbox, tmp_path, limiter=NoRateLimiter())
    sku = skus(sandbox, n=1)[0]
    await get_listing(client, sandbox, sku)
    sandbox.configure(expire_tokens=True)  # every issued token is now "expired" (403 Unauthorized)
    results = await asyncio.gather(*(get_listing(client, sandbox, sku) for _ in range(50)))
    await client.aclose()
    assert all(r.status == 200 for r in results)
    assert sandbox.stats.token_grants["refresh_token"] == 2
    assert sandbox.stats.requests_for("getListingsItem", "unauthenticated") == 50


async def test_invalid_grant_raises_actionable_auth_error(sandbox: SandboxServer, tmp_path: Path) -> None:
    client = make_client(sandbox, tmp_path)
    LocalSecretStore(tmp_path / "secrets").put("accounts/seller-na/refresh_token", "Atzr|revoked-token-xyz")
    with pytest.raises(AuthError) as exc:
        await get_listing(client, sandbox, "X")
    await client.aclose()
    err = exc.value
    assert "invalid_grant" in str(err) and "seller-na" in str(err)
    assert err.hint and "revoked or expired" in err.hint
    assert "splake secrets set accounts/seller-na/refresh_token" in err.hint
    assert "Atzr|revoked-token-xyz" not in str(err)


async def test_invalid_client_hint_mentions_rotation(sandbox: SandboxServer, tmp_path: Path) -> None:
    client = make_client(sandbox, tmp_path)
    LocalSecretStore(tmp_path / "secrets").put("lwa/client_secret", "amzn1.oa2-cs.v1.rotatedaway")
    with pytest.raises(AuthError) as exc:
        await get_listing(client, sandbox, "X")
    await client.aclose()
    assert "invalid_client" in str(exc.value)
    assert exc.value.hint and "rotated" in exc.value.hint
    assert "splake secrets set lwa/client_secret" in exc.value.hint


async def test_missing_refresh_token_names_the_secret(sandbox: SandboxServer, tmp_path: Path) -> None:
    client = make_client(sandbox, tmp_path)
    LocalSecretStore(tmp_path / "secrets").delete("accounts/seller-na/refresh_token")
    with pytest.raises(AuthError, match="no refresh token stored for account seller-na"):
        await get_listing(client, sandbox, "X")
    await client.aclose()
    assert sandbox.stats.token_grants["refresh_token"] == 0


async def test_grantless_call_uses_client_credentials(sandbox: SandboxServer, tmp_path: Path) -> None:
    async with make_client(sandbox, tmp_path) as client:
        resp = await client.call_grantless("getDestinations")
        await client.call_grantless("getDestinations")
    assert resp.status == 200 and "payload" in resp.body
    assert sandbox.stats.token_grants["client_credentials"] == 1
    assert sandbox.stats.requests_for("getDestinations", "grantless") == 2


async def test_spurious_429s_are_retried_and_fed_to_the_limiter(
    sandbox_factory: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    sb = sandbox_factory(spurious_429_rate=0.3)
    limiter = LocalRateLimiter()
    client = make_client(sb, tmp_path, limiter=limiter)
    batch = skus(sb, n=20)
    results = await asyncio.gather(*(get_listing(client, sb, s) for s in batch))
    await client.aclose()
    assert [r.body["sku"] for r in results] == batch
    throttled = sb.stats.throttled_for("getListingsItem")
    assert throttled > 0
    assert sb.stats.requests_for("getListingsItem") == 20 + throttled
    acct = sb.world.account("seller-na").selling_partner_id
    assert limiter.snapshot()[f"{acct}|getListingsItem"]["throttles"] == throttled


async def test_persistent_429_raises_throttled_error_after_max_retries(
    sandbox_factory: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    sb = sandbox_factory(spurious_429_rate=1.0)
    client = make_client(sb, tmp_path, retry=RetryPolicy(max_retries=2, base_seconds=0.01, cap_seconds=0.02))
    with pytest.raises(ThrottledError) as exc:
        await get_listing(client, sb, skus(sb, n=1)[0])
    await client.aclose()
    assert sb.stats.requests_for("getListingsItem") == 3
    assert exc.value.hint and "next run" in exc.value.hint


async def test_5xx_fault_knob_retried_until_success(
    sandbox_factory: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    sb = sandbox_factory(error_rate=0.4)
    client = make_client(sb, tmp_path, limiter=NoRateLimiter())
    batch = skus(sb, n=30)
    results = await asyncio.gather(*(get_listing(client, sb, s) for s in batch))
    await client.aclose()
    assert [r.body["sku"] for r in results] == batch
    faults = sb.stats.faults["error_500"] + sb.stats.faults["error_503"]
    assert faults > 0
    assert sb.stats.requests_for("getListingsItem") == 30 + faults


async def test_persistent_5xx_raises_server_error(
    sandbox_factory: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    sb = sandbox_factory(error_rate=1.0)
    client = make_client(sb, tmp_path, retry=RetryPolicy(max_retries=3, base_seconds=0.01, cap_seconds=0.02))
    with pytest.raises(ServerError) as exc:
        await get_listing(client, sb, skus(sb, n=1)[0])
    await client.aclose()
    assert sb.stats.requests_for("getListingsItem") == 4
    assert "after 4 attempts" in str(exc.value)
    assert "request " in str(exc.value)  # the last request id is named


async def test_connection_refused_is_retried_then_server_error(tmp_path: Path) -> None:
    with SandboxServer() as sb:
        settings = sandbox_settings(sb)
        secrets = sandbox_secrets(sb, tmp_path / "s")
    # the server is gone: connecting fails
    client = SpApiClient(
        settings, secrets, retry=RetryPolicy(max_retries=2, base_seconds=0.01, cap_seconds=0.02)
    )
    with pytest.raises(RetryableError) as exc:
        await client.call_grantless("getDestinations")
    await client.aclose()
    assert "ConnectError" in str(exc.value) and "after 3 attempts" in str(exc.value)


async def test_rdt_is_created_once_cached_and_sent_instead_of_lwa_token(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    rec = Recorder()
    client = make_client(sandbox, tmp_path, recorder=rec)
    sku = skus(sandbox, n=1)[0]
    acct = client.settings.account("seller-na")
    for _ in range(3):
        resp = await client.call(
            acct,
            "getListingsItem",
            path={"sellerId": acct.selling_partner_id, "sku": sku},
            params={"marketplaceIds": acct.marketplaces[0]},
            rdt_elements=[],
        )
        assert resp.status == 200
    await client.aclose()
    assert sandbox.stats.requests_for("createRestrictedDataToken") == 1
    rdt_requests = [r for r in rec.requests if r.url.path.startswith("/tokens/")]
    assert len(rdt_requests) == 1
    body = json.loads(rdt_requests[0].content)
    assert body == {
        "restrictedResources": [
            {"method": "GET", "path": f"/listings/2021-08-01/items/{acct.selling_partner_id}/{sku}"}
        ]
    }
    assert rdt_requests[0].headers["x-amz-access-token"].startswith("Atza|")  # minted with the LWA token
    listing_tokens = {r.headers["x-amz-access-token"] for r in rec.requests if "/listings/" in r.url.path}
    assert len(listing_tokens) == 1 and next(iter(listing_tokens)).startswith("Atz.sprdt|")


async def test_rdt_with_data_elements_is_keyed_separately(sandbox: SandboxServer, tmp_path: Path) -> None:
    async with make_client(sandbox, tmp_path) as client:
        acct = client.settings.account("seller-na")
        t1 = await client.rdt.token(acct, "GET", "/orders/v0/orders/1", ["buyerInfo"])
        t2 = await client.rdt.token(acct, "GET", "/orders/v0/orders/1", ["shippingAddress", "buyerInfo"])
        t3 = await client.rdt.token(acct, "GET", "/orders/v0/orders/1", ["buyerInfo"])
    assert t1 == t3 != t2
    assert sandbox.stats.requests_for("createRestrictedDataToken") == 2


def test_plain_http_to_a_remote_host_is_refused(sandbox: SandboxServer, tmp_path: Path) -> None:
    base = sandbox_settings(sandbox)
    spapi = base.spapi.model_copy(update={"endpoint_override": "http://example.com"})
    settings = base.model_copy(update={"spapi": spapi})
    with pytest.raises(ConfigError, match="https"):
        SpApiClient(settings, sandbox_secrets(sandbox, tmp_path / "s"))


async def test_old_client_secret_logs_an_age_warning_once(sandbox: SandboxServer, tmp_path: Path) -> None:
    import logging
    from datetime import UTC, datetime, timedelta

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    lwa_logger = logging.getLogger("splake.auth.lwa")
    handler = Keep(level=logging.WARNING)
    lwa_logger.addHandler(handler)
    try:
        client = make_client(sandbox, tmp_path)
        old = datetime.now(UTC) - timedelta(days=200)
        LocalSecretStore(tmp_path / "secrets", clock=lambda: old).put(
            "lwa/client_secret", sandbox.world.client_secret
        )
        await get_listing(client, sandbox, skus(sandbox, n=1)[0])
        eu_sku = skus(sandbox, "seller-eu", n=1)[0]
        await get_listing(client, sandbox, eu_sku, account_id="seller-eu")
        await client.aclose()
    finally:
        lwa_logger.removeHandler(handler)
    warnings = [r for r in records if r.getMessage() == "credential_age_warning"]
    assert len(warnings) == 1
    fields = warnings[0].fields  # type: ignore[attr-defined]
    assert fields["secret"] == "lwa/client_secret" and fields["age_days"] == 200


async def test_expired_rdt_is_reminted_once(sandbox: SandboxServer, tmp_path: Path) -> None:
    client = make_client(sandbox, tmp_path)
    acct = client.settings.account("seller-na")
    sku = skus(sandbox, n=1)[0]

    async def restricted_call() -> int:
        resp = await client.call(
            acct,
            "getListingsItem",
            path={"sellerId": acct.selling_partner_id, "sku": sku},
            params={"marketplaceIds": acct.marketplaces[0]},
            rdt_elements=[],
        )
        return resp.status

    assert await restricted_call() == 200
    sandbox.configure(expire_tokens=True)  # both the RDT and the LWA token it was minted with expire
    assert set(await asyncio.gather(*(restricted_call() for _ in range(10)))) == {200}
    await client.aclose()
    assert (
        sandbox.stats.requests_for("createRestrictedDataToken") == 3
    )  # first, rejected (expired LWA), fresh
    assert sandbox.stats.token_grants["refresh_token"] == 2


async def test_short_lived_tokens_refresh_once_per_expiry_with_the_real_clock(
    sandbox_factory: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    sb = sandbox_factory(token_ttl_seconds=2)
    client = make_client(sb, tmp_path)
    sku = skus(sb, n=1)[0]
    await asyncio.gather(*(get_listing(client, sb, sku) for _ in range(20)))
    assert sb.stats.token_grants["refresh_token"] == 1
    await asyncio.sleep(1.2)  # past half the 2 s lifetime: refresh before the server rejects it
    await asyncio.gather(*(get_listing(client, sb, sku) for _ in range(20)))
    await client.aclose()
    assert sb.stats.token_grants["refresh_token"] == 2
    assert sb.stats.requests_for("getListingsItem", "unauthenticated") == 0  # never sent an expired token
