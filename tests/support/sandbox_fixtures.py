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


class SpCaller:
    """A plain HTTP caller for tests: an LWA token for one account plus get/post/delete helpers."""

    def __init__(self, sb: SandboxServer, account_id: str = "seller-na", token: str | None = None) -> None:
        self.sb = sb
        self.account = sb.world.account(account_id)
        self.token = token or sandbox_token(sb, account_id)
        self.http = httpx.Client(base_url=sb.url, timeout=30)

    def headers(self) -> dict[str, str]:
        return {"x-amz-access-token": self.token}

    def get(self, path: str, params: Any = None) -> httpx.Response:
        return self.http.get(path, params=params, headers=self.headers())

    def post(self, path: str, json: Any = None) -> httpx.Response:
        return self.http.post(path, json=json, headers=self.headers())

    def delete(self, path: str) -> httpx.Response:
        return self.http.delete(path, headers=self.headers())

    def create_report(self, report_type: str, **spec: Any) -> str:
        body = {"reportType": report_type, "marketplaceIds": list(self.account.marketplace_ids), **spec}
        r = self.post("/reports/2021-06-30/reports", body)
        assert r.status_code == 202, r.text
        report_id: str = r.json()["reportId"]
        return report_id

    def wait_report(self, report_id: str, timeout: float = 20.0) -> dict[str, Any]:
        import time

        deadline = time.monotonic() + timeout
        while True:
            r = self.get(f"/reports/2021-06-30/reports/{report_id}")
            assert r.status_code == 200, r.text
            report: dict[str, Any] = r.json()
            if report["processingStatus"] in {"DONE", "FATAL", "CANCELLED"}:
                return report
            assert time.monotonic() < deadline, f"report {report_id} still {report['processingStatus']}"
            time.sleep(0.02)

    def download(self, document_id: str, **params: Any) -> tuple[dict[str, Any], httpx.Response]:
        r = self.get(f"/reports/2021-06-30/documents/{document_id}", params=params or None)
        assert r.status_code == 200, r.text
        doc: dict[str, Any] = r.json()
        return doc, httpx.get(doc["url"], timeout=30)

    def close(self) -> None:
        self.http.close()
