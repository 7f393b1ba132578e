"""LWA decisions: error → actionable AuthError, credential age warnings (clock passed in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from splake.auth.lwa import auth_error_for, credential_warnings, key_for_account, key_for_scope
from splake.auth.secrets import LocalSecretStore
from splake.config import Settings, parse_config


def settings(**lwa: object) -> Settings:
    return parse_config(
        {
            "lwa": {"client_id": "amzn1.application-oa2-client.x", **lwa},
            "accounts": [
                {"id": "na", "region": "NA", "selling_partner_id": "A1", "marketplaces": ["US"]},
                {
                    "id": "eu",
                    "region": "EU",
                    "selling_partner_id": "A2",
                    "marketplaces": ["DE"],
                    "refresh_token_ref": "custom/eu_token",
                },
            ],
        }
    )


def test_invalid_grant_hint_names_account_and_secret_ref() -> None:
    s = settings()
    err = auth_error_for(
        400,
        {"error": "invalid_grant", "error_description": "The request has an invalid grant parameter"},
        settings=s,
        account=s.account("eu"),
        scope=None,
    )
    assert "account eu" in str(err) and "invalid_grant" in str(err)
    assert err.hint and "revoked or expired" in err.hint
    assert "splake secrets set custom/eu_token" in err.hint


def test_invalid_client_and_unauthorized_client_point_to_rotation() -> None:
    s = settings(client_secret_ref="lwa/app_secret")
    for code in ("invalid_client", "unauthorized_client"):
        err = auth_error_for(401, {"error": code}, settings=s, account=s.account("na"), scope=None)
        assert err.hint and "rotated" in err.hint and "splake secrets set lwa/app_secret" in err.hint


def test_invalid_scope_and_unknown_errors() -> None:
    s = settings()
    err = auth_error_for(400, {"error": "invalid_scope"}, settings=s, account=None, scope="bad::scope")
    assert (
        "grantless scope bad::scope" in str(err)
        and err.hint
        and "sellingpartnerapi::notifications" in err.hint
    )
    err = auth_error_for(418, "not json", settings=s, account=None, scope="x")
    assert "HTTP 418" in str(err) and err.hint


def test_cache_keys_distinguish_grants() -> None:
    s = settings()
    assert key_for_account(s.account("na")) == ("refresh_token", "accounts/na/refresh_token")
    assert key_for_scope("sellingpartnerapi::notifications")[0] == "client_credentials"


def test_credential_warnings_by_age(tmp_path: Path) -> None:
    s = settings()
    now = datetime(2026, 11, 24, tzinfo=UTC)

    def put(name: str, days_old: int) -> None:
        LocalSecretStore(tmp_path, clock=lambda: now - timedelta(days=days_old)).put(name, "value-123")

    put("lwa/client_secret", 181)
    put("accounts/na/refresh_token", 365)  # exactly at the limit: fine
    put("custom/eu_token", 400)
    warnings = credential_warnings(s, LocalSecretStore(tmp_path), now)
    by_name = {w.name: w for w in warnings}
    assert set(by_name) == {"lwa/client_secret", "custom/eu_token"}
    assert by_name["lwa/client_secret"].age_days == 181 and by_name["lwa/client_secret"].max_age_days == 180
    assert "splake secrets set lwa/client_secret" in by_name["lwa/client_secret"].message
    assert (
        by_name["custom/eu_token"].max_age_days == 365 and "account eu" in by_name["custom/eu_token"].message
    )
    # a custom max age in config is honoured; missing secrets produce no age warning
    s2 = settings(secret_max_age_days=90)
    put("lwa/client_secret", 100)
    assert [w.name for w in credential_warnings(s2, LocalSecretStore(tmp_path), now)] == [
        "lwa/client_secret",
        "custom/eu_token",
    ]
    assert credential_warnings(s, LocalSecretStore(tmp_path / "empty"), now) == []
