"""LWA access tokens are shared between Lambdas through Secrets Manager until they expire."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from splake.runners.aws.runtime import open_context
from splake.runners.aws.token_cache import SharedTokenCache, cache_name
from tests.integration.items_helpers import sandbox_settings
from tests.support.aws_fixtures import MotoServer, deploy_on_moto, own_lake


def _call(runtime: Any, settings: Any) -> tuple[int, int]:
    async def go() -> tuple[int, int]:
        ctx = open_context(runtime)
        try:
            resp = await ctx.client.call(ctx.settings.accounts[0], "getMarketplaceParticipations")
            cache = ctx.client.lwa.cache  # type: ignore[attr-defined]
            assert isinstance(cache, SharedTokenCache)
            return resp.status, cache.shared_hits
        finally:
            await ctx.aclose()

    return asyncio.run(go())


def test_second_lambda_reuses_the_token_until_it_expires(
    moto_server: MotoServer, sandbox: Any, tmp_path: Path
) -> None:
    settings = sandbox_settings(sandbox, tmp_path / "lake", ("seller-na",), lake=own_lake(tmp_path / "lake"))
    runtime, _, _ = deploy_on_moto(moto_server, settings, sandbox)
    grants = sandbox.stats.token_grants

    assert _call(runtime, settings) == (200, 0)  # first "Lambda": exchanges the refresh token
    assert grants["refresh_token"] == 1
    assert _call(runtime, settings) == (200, 1)  # second one: token from Secrets Manager, no LWA call
    assert grants["refresh_token"] == 1

    secrets = runtime.secrets()
    name = cache_name(("refresh_token", settings.accounts[0].secret_ref))
    cached = json.loads(secrets.get(name))
    assert cached["expires_at"] > time.time() + 600
    # an entry about to expire is not used: a fresh token is fetched and shared
    secrets.put(name, json.dumps({"access_token": cached["access_token"], "expires_at": time.time() + 5}))
    assert _call(runtime, settings) == (200, 0)
    assert grants["refresh_token"] == 2
    assert json.loads(secrets.get(name))["expires_at"] > time.time() + 600
    # the raw secret carries the token only inside Secrets Manager (KMS); the refresh token is not there
    assert settings.accounts[0].secret_ref not in secrets.get(name)
