"""URL policy (loopback-only plain http, no query strings in logs) and SP-API error mapping."""

from __future__ import annotations

import pytest

from splake.config import parse_config
from splake.errors import ConfigError
from splake.spapi.client import query_params, render_path
from splake.spapi.responses import api_error, looks_like_token_rejection, parse_errors
from splake.spapi.urls import base_url, check_url, is_loopback_host, safe_url
from splake.spapi.usage_plans import operation


@pytest.mark.parametrize("host", ["127.0.0.1", "127.5.6.7", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["10.0.0.1", "example.com", "localhost.example.com", "0.0.0.0", "128.0.0.1"])
def test_not_loopback(host: str) -> None:
    assert not is_loopback_host(host)


def test_check_url_policy() -> None:
    assert check_url("https://sellingpartnerapi-eu.amazon.com", what="x")
    assert check_url("http://127.0.0.1:8765", what="x")
    assert check_url("http://[::1]:80/p", what="x")
    for bad in ("http://example.com", "http://10.1.2.3:80", "ftp://127.0.0.1", "https://", "notaurl"):
        with pytest.raises(ConfigError):
            check_url(bad, what="x")
    with pytest.raises(ConfigError) as exc:
        check_url("http://evil.example/doc?X-Amz-Signature=SECRET", what="document URL")
    assert "SECRET" not in str(exc.value)


def test_safe_url_strips_query() -> None:
    assert (
        safe_url("https://b.s3.amazonaws.com/k/doc.gz?X-Amz-Signature=abc&X-Amz-Credential=x#f")
        == "https://b.s3.amazonaws.com/k/doc.gz"
    )
    assert safe_url("http://127.0.0.1:8080/d?x=1") == "http://127.0.0.1:8080/d"


def test_base_url_region_or_override() -> None:
    data = {
        "lwa": {"client_id": "c"},
        "accounts": [
            {"id": "eu", "region": "EU", "selling_partner_id": "A", "marketplaces": ["DE"]},
            {"id": "jp", "region": "FE", "selling_partner_id": "B", "marketplaces": ["JP"]},
        ],
    }
    s = parse_config(data)
    assert base_url(s, s.account("eu")) == "https://sellingpartnerapi-eu.amazon.com"
    assert base_url(s, s.account("jp")) == "https://sellingpartnerapi-fe.amazon.com"
    assert base_url(s, None) == "https://sellingpartnerapi-eu.amazon.com"
    s2 = parse_config({**data, "spapi": {"endpoint_override": "http://127.0.0.1:9000/"}})
    assert base_url(s2, s2.account("jp")) == "http://127.0.0.1:9000"


def test_render_path_and_query_conventions() -> None:
    op = operation("getListingsItem")
    assert render_path(op, {"sellerId": "A1", "sku": "a/b c"}) == "/listings/2021-08-01/items/A1/a%2Fb%20c"
    with pytest.raises(Exception, match="sku"):
        render_path(op, {"sellerId": "A1"})
    assert query_params({"marketplaceIds": ["A", "B"], "x": None, "f": True, "n": 3}) == {
        "marketplaceIds": "A,B",
        "f": "true",
        "n": "3",
    }


def test_parse_errors_and_api_error_hint() -> None:
    body = {"errors": [{"code": "InvalidInput", "message": "Bad marketplace", "details": "X1"}]}
    assert parse_errors(body)[0].code == "InvalidInput"
    assert parse_errors("junk") == [] and parse_errors({"errors": "x"}) == []
    err = api_error(400, "createReport", body, "req-1", "acme")
    assert err.status == 400 and err.request_id == "req-1"
    assert "InvalidInput: Bad marketplace (X1)" in str(err) and "request req-1" in str(err)
    assert err.hint and "parameters" in err.hint
    err403 = api_error(
        403, "getOrders", {"errors": [{"code": "Unauthorized", "message": "denied"}]}, None, "acme"
    )
    assert err403.hint and "role" in err403.hint and "account acme" in err403.hint


def test_token_rejection_detection() -> None:
    expired = {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.",
                           "details": "The access token you provided has expired."}]}  # fmt: skip
    assert looks_like_token_rejection(403, expired)
    assert looks_like_token_rejection(401, None)
    assert not looks_like_token_rejection(404, expired)
    assert not looks_like_token_rejection(403, {"errors": [{"code": "Forbidden", "message": "role missing"}]})
    # a missing role: Amazon sends the code and message without details; a fresh token cannot help
    role = {
        "errors": [
            {"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}
        ]
    }
    assert not looks_like_token_rejection(403, role)
