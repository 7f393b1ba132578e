"""Fixtures: sandbox.

- ``sandbox``: a fresh :class:`SandboxServer` (seed 7) with ``time_scale=0.001`` — rate limits refill
  1000x faster and reports finish in ``processing_seconds * 0.001`` s.
- ``sandbox_factory(**config)``: start one with a custom :class:`SandboxConfig`; stopped at teardown.
- ``sandbox_token(sb, account_id)``: an LWA access token for an account (helper, not a fixture).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from splake.sandbox import SandboxConfig, SandboxServer

FAST = {"seed": 7, "time_scale": 0.001}


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., SandboxServer]]:
    started: list[SandboxServer] = []

    def make(**config: Any) -> SandboxServer:
        sb = SandboxServer(SandboxConfig(**{**FAST, **config}))
        sb.start()
        started.append(sb)
        return sb

    yield make
    for sb in started:
        sb.stop()


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., SandboxServer]) -> SandboxServer:
    return sandbox_factory()


def sandbox_token(sb: SandboxServer, account_id: str = "seller-na") -> str:
    """Exchange the account's refresh token for an access token (a real LWA call to the sandbox)."""
    w = sb.world
    r = httpx.post(
        sb.url + "/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": w.account(account_id).refresh_token,
            "client_id": w.client_id,
            "client_secret": w.client_secret,
        },
    )
    r.raise_for_status()
    token: str = r.json()["access_token"]
    return token


def grantless_token(sb: SandboxServer, scope: str = "sellingpartnerapi::notifications") -> str:
    w = sb.world
    r = httpx.post(
        sb.url + "/auth/o2/token",
        data={
            "grant_type": "client_credentials",
            "scope": scope,
            "client_id": w.client_id,
            "client_secret": w.client_secret,
        },
    )
    r.raise_for_status()
    token: str = r.json()["access_token"]
    return token
