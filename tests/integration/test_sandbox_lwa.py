"""LWA token endpoint of the sandbox and how SP-API routes judge tokens (real HTTP on loopback)."""

from __future__ import annotations

import time

import httpx

from splake.sandbox import SandboxServer
from tests.support.sandbox_fixtures import SpCaller, grantless_token, sandbox_token


def token_call(sb: SandboxServer, **form: str) -> httpx.Response:
    w = sb.world
    data = {"client_id": w.client_id, "client_secret": w.client_secret, **form}
    return httpx.post(sb.url + "/auth/o2/token", data={k: v for k, v in data.items() if v is not None})


def test_refresh_token_grant(sandbox: SandboxServer) -> None:
    acct = sandbox.world.account("seller-eu")
    r = token_call(sandbox, grant_type="refresh_token", refresh_token=acct.refresh_token)
    assert r.status_code == 200
    body = r.json()
    assert body["access_token"].startswith("Atza|") and body["token_type"] == "bearer"
    assert body["expires_in"] == 3600 and body["refresh_token"] == acct.refresh_token
    assert r.headers["cache-control"] == "no-store"
    assert sandbox.stats.token_grants["refresh_token"] == 1
    assert sandbox.stats.token_grants_by_subject[acct.selling_partner_id] == 1


def test_client_credentials_grant_and_scope(sandbox: SandboxServer) -> None:
    r = token_call(sandbox, grant_type="client_credentials", scope="sellingpartnerapi::notifications")
    assert r.status_code == 200 and r.json()["access_token"].startswith("Atza|")
    bad = token_call(sandbox, grant_type="client_credentials", scope="sellingpartnerapi::everything")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_scope"


def test_lwa_errors_are_amazon_shaped(sandbox: SandboxServer) -> None:
    r = token_call(sandbox, grant_type="refresh_token", refresh_token="Atzr|IwEBnot-a-real-token")
    assert r.status_code == 400
    assert r.json() == {
        "error_description": "The request has an invalid grant parameter : refresh_token",
        "error": "invalid_grant",
    }
    r = token_call(
        sandbox, grant_type="refresh_token", refresh_token="x", client_secret="amzn1.oa2-cs.v1.wrong"
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert r.json()["error_description"] == "Client authentication failed"
    r = token_call(sandbox, grant_type="password")
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    assert sum(sandbox.stats.token_grants.values()) == 0


def test_json_body_is_accepted_like_the_java_sdk(sandbox: SandboxServer) -> None:
    w, acct = sandbox.world, sandbox.world.account("seller-na")
    r = httpx.post(
        sandbox.url + "/auth/o2/token",
        json={
            "grant_type": "refresh_token",
            "refresh_token": acct.refresh_token,
            "client_id": w.client_id,
            "client_secret": w.client_secret,
        },
    )
    assert r.status_code == 200


def test_expired_token_gets_403_unauthorized(sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sb = sandbox_factory(token_ttl_seconds=0.5)
    sp = SpCaller(sb, "seller-na")
    assert sp.get("/sellers/v1/marketplaceParticipations").status_code == 200
    time.sleep(0.7)
    r = sp.get("/sellers/v1/marketplaceParticipations")
    assert r.status_code == 403
    assert r.json() == {
        "errors": [
            {
                "code": "Unauthorized",
                "message": "Access to requested resource is denied.",
                "details": "The access token you provided has expired.",
            }
        ]
    }
    assert "x-amzn-RateLimit-Limit" not in r.headers


def test_expire_tokens_knob_invalidates_issued_tokens(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox, "seller-na")
    assert sp.get("/sellers/v1/marketplaceParticipations").status_code == 200
    sandbox.configure(expire_tokens=True)
    assert sp.get("/sellers/v1/marketplaceParticipations").status_code == 403
    fresh = SpCaller(sandbox, "seller-na")
    assert fresh.get("/sellers/v1/marketplaceParticipations").status_code == 200
    assert sandbox.stats.token_grants["refresh_token"] == 2


def test_missing_and_unknown_tokens(sandbox: SandboxServer) -> None:
    r = httpx.get(sandbox.url + "/sellers/v1/marketplaceParticipations")
    assert r.status_code == 403 and r.json()["errors"][0]["code"] == "Unauthorized"
    r = httpx.get(
        sandbox.url + "/sellers/v1/marketplaceParticipations", headers={"x-amz-access-token": "Atza|forged"}
    )
    assert r.status_code == 403
    assert (
        r.json()["errors"][0]["details"] == "The access token you provided is revoked, malformed or invalid."
    )


def test_grantless_token_does_not_work_for_seller_operations(sandbox: SandboxServer) -> None:
    sp = SpCaller(sandbox, "seller-na", token=grantless_token(sandbox))
    assert sp.get("/sellers/v1/marketplaceParticipations").status_code == 403


def test_restricted_data_token_gates_pii_paths(sandbox: SandboxServer) -> None:
    from starlette.requests import Request
    from starlette.responses import Response

    from splake.sandbox.routing import Caller, authorize

    sp = SpCaller(sandbox, "seller-na")
    r = sp.post(
        "/tokens/2021-03-01/restrictedDataToken",
        {"restrictedResources": [{"method": "GET", "path": "/orders/v0/orders/{orderId}/address"}]},
    )
    assert r.status_code == 200
    rdt = r.json()["restrictedDataToken"]
    assert rdt.startswith("Atz.sprdt|") and r.json()["expiresIn"] == 3600

    def judge(token: str, path: str) -> Caller | Response:
        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "headers": [(b"x-amz-access-token", token.encode())],
        }
        return authorize(sandbox.state, Request(scope), "getOrderAddress", restricted=True)

    assert isinstance(judge(rdt, "/orders/v0/orders/111-2222222-3333333/address"), Caller)
    for token, path in (
        (rdt, "/orders/v0/orders/111-2222222-3333333/buyerInfo"),  # RDT for another path
        (sp.token, "/orders/v0/orders/111-2222222-3333333/address"),  # plain LWA token on a PII path
    ):
        verdict = judge(token, path)
        assert isinstance(verdict, Response) and verdict.status_code == 403
    bad = sp.post("/tokens/2021-03-01/restrictedDataToken", {"restrictedResources": []})
    assert bad.status_code == 400


def test_sandbox_token_helper_counts_one_grant(sandbox: SandboxServer) -> None:
    sandbox_token(sandbox, "vendor-na")
    assert sandbox.stats.token_grants_by_subject[sandbox.world.account("vendor-na").selling_partner_id] == 1


def test_lwa_outage_knob(sandbox: SandboxServer) -> None:
    acct = sandbox.world.account("seller-na")
    sandbox.configure(lwa_error_rate=1.0)
    r = token_call(sandbox, grant_type="refresh_token", refresh_token=acct.refresh_token)
    assert r.status_code == 500 and r.json()["error"] == "server_error"
    assert sandbox.stats.faults["lwa_error_500"] == 1 and sum(sandbox.stats.token_grants.values()) == 0
    sandbox.configure(lwa_error_rate=0.0)
    assert (
        token_call(sandbox, grant_type="refresh_token", refresh_token=acct.refresh_token).status_code == 200
    )


def test_revoked_authorization_gets_invalid_grant(sandbox: SandboxServer) -> None:
    eu, na = sandbox.world.account("seller-eu"), sandbox.world.account("seller-na")
    issued = SpCaller(sandbox, "seller-eu")
    sandbox.configure(revoked_accounts=["seller-eu"])
    r = token_call(sandbox, grant_type="refresh_token", refresh_token=eu.refresh_token)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert token_call(sandbox, grant_type="refresh_token", refresh_token=na.refresh_token).status_code == 200
    assert issued.get("/sellers/v1/marketplaceParticipations").status_code == 200  # until it expires
    sandbox.configure(revoked_accounts=[])
    assert token_call(sandbox, grant_type="refresh_token", refresh_token=eu.refresh_token).status_code == 200
