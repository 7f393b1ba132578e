"""Fault suite, client level: sequences of faults inside ONE SP-API call, driven against the real sandbox.

An httpx response hook flips the sandbox's knobs between the attempts of a single ``client.call`` (the
sandbox is real; nothing of splake is replaced), so each sequence is deterministic.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from splake.errors import ApiError
from splake.sandbox import SandboxServer
from splake.spapi.client import SpApiClient
from tests.integration.test_client_sandbox import FAST_RETRY, sandbox_secrets, sandbox_settings

OP_PATH = "/sellers/v1/marketplaceParticipations"


def _client(
    sb: SandboxServer, tmp_path: Path, hook: Callable[[httpx.Response], Awaitable[None]]
) -> SpApiClient:
    http = httpx.AsyncClient(event_hooks={"response": [hook]}, trust_env=False)
    return SpApiClient(
        sandbox_settings(sb), sandbox_secrets(sb, tmp_path / "secrets"), http=http, retry=FAST_RETRY
    )


async def test_token_expiring_twice_within_one_call_is_survived(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    """expired token → refresh → 500 → token expired again → refresh → 200 (a long call outlives two
    tokens). Found by the fault suite: the second expiry used to fail the whole sync stream."""
    seen: list[int] = []

    async def hook(resp: httpx.Response) -> None:
        if resp.request.url.path != OP_PATH:
            return
        seen.append(resp.status_code)
        if len(seen) == 2 and resp.status_code == 403:
            sandbox.configure(error_rate=1.0)  # the retry with the fresh token hits a 5xx
        elif len(seen) == 3 and resp.status_code >= 500:
            sandbox.configure(error_rate=0.0, expire_tokens=True)  # and then the fresh token expires too

    client = _client(sandbox, tmp_path, hook)
    try:
        account = client.settings.account("seller-na")
        assert (await client.call(account, "getMarketplaceParticipations")).status == 200
        sandbox.configure(expire_tokens=True)
        resp = await client.call(account, "getMarketplaceParticipations")
    finally:
        await client.aclose()
    assert resp.status == 200 and resp.body["payload"]
    assert seen == [200, 403, 500, 403, 200] or seen == [200, 403, 503, 403, 200]
    assert sandbox.stats.token_grants["refresh_token"] == 3


async def test_a_token_rejected_twice_in_a_row_is_not_retried_forever(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    """Every fresh token rejected at once: a bounded number of refreshes, then a clear error."""
    seen: list[int] = []
    hostile = False

    async def hook(resp: httpx.Response) -> None:
        if resp.request.url.path == OP_PATH:
            seen.append(resp.status_code)
        elif hostile and resp.request.url.path == "/auth/o2/token":
            sandbox.configure(expire_tokens=True)  # every token is dead on arrival

    client = _client(sandbox, tmp_path, hook)
    try:
        account = client.settings.account("seller-na")
        await client.call(account, "getMarketplaceParticipations")
        sandbox.configure(expire_tokens=True)
        hostile = True
        with pytest.raises(ApiError) as err:
            await client.call(account, "getMarketplaceParticipations")
    finally:
        await client.aclose()
    assert err.value.status == 403
    assert seen == [
        200,
        403,
        403,
        403,
    ]  # two fresh tokens tried (TOKEN_REFRESHES_PER_CALL), then a clear error
    assert sandbox.stats.token_grants["refresh_token"] == 3


async def test_token_expiring_twice_back_to_back_is_survived(sandbox: SandboxServer, tmp_path: Path) -> None:
    """expired → refresh → that token expired too before it was used (a call paced for long by the rate
    limiter) → refresh → 200."""
    seen: list[int] = []

    async def hook(resp: httpx.Response) -> None:
        if resp.request.url.path != OP_PATH:
            return
        seen.append(resp.status_code)

    client = _client(sandbox, tmp_path, hook)
    try:
        account = client.settings.account("seller-na")
        assert (await client.call(account, "getMarketplaceParticipations")).status == 200
        sandbox.configure(expire_tokens=True)
        expire_next_grant = True

        async def expire_after_grant(resp: httpx.Response) -> None:
            nonlocal expire_next_grant
            if resp.request.url.path == "/auth/o2/token" and expire_next_grant:
                expire_next_grant = False
                sandbox.configure(expire_tokens=True)  # the fresh token dies before it is used

        client._http.event_hooks["response"].append(expire_after_grant)
        resp = await client.call(account, "getMarketplaceParticipations")
    finally:
        await client.aclose()
    assert resp.status == 200
    assert seen[:1] == [200] and seen[-1] == 200 and seen.count(403) == 2
