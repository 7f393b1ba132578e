"""Pure decisions of onboarding: consent URLs per Seller/Vendor Central site, callback validation,
marketplace discovery from getMarketplaceParticipations and the config diff."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from splake.accounts.discovery import diff, discover
from splake.accounts.oauth import central_site, consent_url, parse_callback
from splake.config import LwaSettings, Settings
from splake.errors import AuthError, ConfigError


def settings(**lwa: object) -> Settings:
    return Settings(lwa=LwaSettings(client_id="amzn1.application-oa2-client.x", **lwa))  # type: ignore[arg-type]


def test_consent_url_follows_amazons_authorization_uri() -> None:
    s = settings(application_id="amzn1.sp.solution.abc")
    url = consent_url(s, "seller", "DE", "st8", None)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://sellercentral-europe.amazon.com/apps/authorize/consent"
    )
    assert parse_qs(parts.query) == {
        "application_id": ["amzn1.sp.solution.abc"],
        "state": ["st8"],
        "version": ["beta"],
    }
    published = settings(application_id="a", draft=False, redirect_uri="https://x.example/cb")
    q = parse_qs(urlsplit(consent_url(published, "vendor", "JP", "s", "https://x.example/cb")).query)
    assert "version" not in q and q["redirect_uri"] == ["https://x.example/cb"]
    assert central_site("vendor", "JP") == "https://vendorcentral.amazon.co.jp"
    assert central_site("seller", "US") == "https://sellercentral.amazon.com"
    with pytest.raises(ConfigError):
        consent_url(settings(), "seller", "US", "s", None)  # no application_id


def test_callback_needs_our_state_a_code_and_a_seller() -> None:
    cb = parse_callback("?state=abc&selling_partner_id=A1X&spapi_oauth_code=ANd1", "abc")
    assert (cb.selling_partner_id, cb.code) == ("A1X", "ANd1")
    bad_ones = (
        "state=zzz&selling_partner_id=A&spapi_oauth_code=c",
        "selling_partner_id=A&spapi_oauth_code=c",
        "state=abc&selling_partner_id=A",
        "state=abc&error=access_denied",
    )
    for bad in bad_ones:
        with pytest.raises(AuthError):
            parse_callback(bad, "abc")


def _p(mid: str, participating: bool = True, suspended: bool = False) -> dict[str, object]:
    return {
        "marketplace": {"id": mid, "name": "n"},
        "participation": {"isParticipating": participating, "hasSuspendedListings": suspended},
        "storeName": "Shop",
    }


def test_discovery_keeps_participating_unsuspended_marketplaces_of_the_region() -> None:
    payload = [
        _p("ATVPDKIKX0DER"),  # US
        _p("A2EUQ1WTGCTBG2", suspended=True),  # CA: listings inactive
        _p("A1AM78C64UM0Y8", participating=False),  # MX
        _p("A2ZV50J4W1RKNI"),  # a non-Amazon channel id splake doesn't know
        _p("A1PA6795UKMFR9"),  # DE: another region
        _p("A2Q3Y263D00KWC"),  # BR
    ]
    found = discover(payload, "NA")
    assert found.marketplaces == ("US", "BR")
    assert dict(found.left_out) == {
        "CA": "suspended listings (listing status inactive)",
        "MX": "not participating",
        "A2ZV50J4W1RKNI": "unknown to splake (n)",
        "DE": "in region EU, not NA",
    }
    d = diff(["US", "CA"], found.marketplaces)
    assert not d.agrees and d.only_configured == ("CA",) and d.only_discovered == ("BR",)
    assert diff(["ATVPDKIKX0DER"], ["US"]).agrees


def test_an_authorization_for_another_seller_never_replaces_an_accounts_token() -> None:
    from splake.accounts.onboard import draft_account
    from splake.config import AccountSettings

    existing = AccountSettings(id="acme", region="NA", selling_partner_id="A1OLD", marketplaces=("US",))
    with pytest.raises(AuthError, match="A1OLD"):
        draft_account("acme", "seller", "NA", "A2OTHER", (), existing)
    same = draft_account("acme", "seller", "NA", "A1OLD", (), existing)
    assert same.secret_ref == existing.secret_ref


def test_config_edits_keep_the_users_comments_and_refuse_invalid_entries(tmp_path: object) -> None:
    from pathlib import Path

    from splake.accounts.config_edit import set_exclusions, upsert_account
    from splake.config import load_config, starter_config

    path = Path(str(tmp_path)) / "splake.toml"
    path.write_text(starter_config().replace("lookback_days = 3", "lookback_days = 3  # my own note"))
    entry = {
        "id": "acme-us",
        "type": "seller",
        "region": "NA",
        "selling_partner_id": "A1",
        "marketplaces": ["US"],
    }
    assert upsert_account(path, entry)[0] == "added"
    assert upsert_account(path, {**entry, "marketplaces": ["US", "CA"]})[0] == "updated"
    set_exclusions(path, "acme-us", ["GET_AFN_INVENTORY_DATA"])
    text = path.read_text()
    assert "# my own note" in text and "# One [[accounts]] entry per seller" in text
    acct = load_config(path).account("acme-us")
    assert acct.marketplaces == ("ATVPDKIKX0DER", "A2EUQ1WTGCTBG2")
    assert acct.exclude_report_types == ("GET_AFN_INVENTORY_DATA",)
    before = path.read_text()
    with pytest.raises(ConfigError):  # DE is not in NA: nothing is written
        upsert_account(path, {**entry, "id": "bad", "marketplaces": ["DE"]})
    assert path.read_text() == before
