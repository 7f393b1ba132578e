"""Website authorization against the sandbox, the parts that must refuse: draft app without
version=beta (MD1000), unregistered redirect URI (MD5101), a code spent once, expired, or redeemed for
another redirect URI (invalid_grant); splake's listener refusing a foreign ``state``; rotating the LWA
client secret (the old one stays until LWA accepts the new one) and re-authorizing a revoked account."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from typer.testing import CliRunner

from splake.accounts.listener import RedirectListener
from splake.accounts.oauth import parse_callback
from splake.auth.secrets import LocalSecretStore
from splake.cli import app
from splake.config import dump_config
from splake.errors import AuthError
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def consent(
    sb: SandboxServer, http: httpx.Client, state: str, redirect: str | None, **extra: str
) -> httpx.Response:
    params = {"application_id": sb.world.application_id, "state": state, "version": "beta", **extra}
    if redirect:
        params["redirect_uri"] = redirect
    return http.get(sb.url + "/apps/authorize/consent", params=params)


def confirm(sb: SandboxServer, http: httpx.Client, state: str, redirect: str, account: str) -> dict[str, str]:
    form = {"application_id": sb.world.application_id, "state": state, "version": "beta",
            "redirect_uri": redirect, "account": account, "action": "confirm"}  # fmt: skip
    resp = http.post(sb.url + "/apps/authorize/confirm", data=form)
    assert resp.status_code == 302 and resp.headers["referrer-policy"] == "no-referrer"
    loc = urlsplit(resp.headers["location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == redirect
    return {k: v[0] for k, v in parse_qs(loc.query).items()}


def exchange(sb: SandboxServer, http: httpx.Client, code: str, redirect: str) -> httpx.Response:
    return http.post(sb.url + "/auth/o2/token", data={"grant_type": "authorization_code", "code": code,
                     "redirect_uri": redirect, "client_id": sb.world.client_id,
                     "client_secret": sb.world.client_secret})  # fmt: skip


def test_consent_page_and_code_exchange_refuse_what_amazon_refuses() -> None:
    r1, r2 = "http://127.0.0.1:8790/callback", "http://127.0.0.1:8791/other"
    cfg = SandboxConfig(seed=7, time_scale=0.0, oauth_redirect_uris=(r1, r2))
    with SandboxServer(cfg) as sb, httpx.Client(trust_env=False) as http:
        draft = http.get(sb.url + "/apps/authorize/consent",
                         params={"application_id": sb.world.application_id, "state": "s"})  # fmt: skip
        assert draft.status_code == 400 and "MD1000" in draft.text
        assert "MD5101" in consent(sb, http, "s", "http://127.0.0.1:9/evil").text
        page = consent(sb, http, "s1", None)
        assert page.status_code == 200 and "Confirm" in page.text

        got = confirm(sb, http, "s1", r2, "seller-eu")
        assert got["state"] == "s1"
        assert got["selling_partner_id"] == sb.world.account("seller-eu").selling_partner_id
        wrong = exchange(sb, http, got["spapi_oauth_code"], r1)  # another redirect URI than used
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
        spent = exchange(sb, http, got["spapi_oauth_code"], r2)  # single use: the failed try spent it
        assert spent.status_code == 400 and spent.json()["error"] == "invalid_grant"

        fresh = confirm(sb, http, "s2", r1, "seller-eu")
        ok = exchange(sb, http, fresh["spapi_oauth_code"], r1)
        assert ok.status_code == 200 and ok.headers["cache-control"] == "no-store"
        token = ok.json()["refresh_token"]
        assert token.startswith("Atzr|") and token != sb.world.account("seller-eu").refresh_token
        again = exchange(sb, http, fresh["spapi_oauth_code"], r1)
        assert again.json()["error"] == "invalid_grant"
        refreshed = http.post(sb.url + "/auth/o2/token", data={"grant_type": "refresh_token",
                              "refresh_token": token, "client_id": sb.world.client_id,
                              "client_secret": sb.world.client_secret})  # fmt: skip
        assert refreshed.status_code == 200 and refreshed.json()["access_token"].startswith("Atza|")

        sb.configure(auth_code_ttl_seconds=0.0)  # codes die at once (Amazon: 5 minutes)
        late = confirm(sb, http, "s3", r1, "seller-na")
        expired = exchange(sb, http, late["spapi_oauth_code"], r1)
        assert expired.status_code == 400 and "expired" in expired.json()["error_description"]


def test_listener_refuses_a_foreign_state_and_hands_over_the_real_redirect() -> None:
    redirect = f"http://127.0.0.1:{free_port()}/cb"
    with RedirectListener(redirect, "the-state") as listener, httpx.Client(trust_env=False) as http:
        forged = http.get(
            redirect, params={"state": "other", "selling_partner_id": "A1", "spapi_oauth_code": "c"}
        )
        assert forged.status_code == 400
        assert http.get(redirect.replace("/cb", "/x")).status_code == 404
        real = http.get(
            redirect, params={"state": "the-state", "selling_partner_id": "A1", "spapi_oauth_code": "c"}
        )
        assert real.status_code == 200 and real.headers["referrer-policy"] == "no-referrer"
        cb = listener.wait(5)
    assert (cb.selling_partner_id, cb.code) == ("A1", "c")
    with pytest.raises(AuthError):
        parse_callback("https://x/cb?state=nope&selling_partner_id=A&spapi_oauth_code=c", "the-state")
    with pytest.raises(AuthError):
        RedirectListener(f"http://127.0.0.1:{free_port()}/cb", "s").start().wait(0.2)


def _setup(sb: SandboxServer, tmp: Path) -> tuple[Path, LocalSecretStore]:
    settings = demo_settings(sb.url, tmp / "lake", ["seller-na"], world=sb.world)
    config = tmp / "splake.toml"
    config.write_text(dump_config(settings))
    store = LocalSecretStore(tmp / "lake" / ".secrets")
    seed_demo_secrets(store, sb.world, settings)
    return config, store


def test_rotate_client_secret_keeps_the_old_one_until_lwa_accepts_the_new(tmp_path: Path) -> None:
    with SandboxServer(SandboxConfig(seed=7, time_scale=0.0)) as sb:
        config, store = _setup(sb, tmp_path)
        old = store.get("lwa/client_secret")
        runner = CliRunner()
        bad = runner.invoke(
            app, ["secrets", "rotate", "lwa/client_secret", "-c", str(config)], input="typo\n"
        )
        assert bad.exit_code == 1 and "old one is kept" in bad.output
        assert store.get("lwa/client_secret") == old
        sb.world.client_secret = "amzn1.oa2-cs.v1.rotated"  # rotated in Solution Provider Portal
        good = runner.invoke(app, ["secrets", "rotate", "lwa/client_secret", "-c", str(config)],
                             input="amzn1.oa2-cs.v1.rotated\n")  # fmt: skip
        assert good.exit_code == 0, good.output
        assert LocalSecretStore(store.dir).get("lwa/client_secret") == "amzn1.oa2-cs.v1.rotated"


def test_rotate_refresh_token_reauthorizes_a_revoked_account(tmp_path: Path) -> None:
    with SandboxServer(SandboxConfig(seed=7, time_scale=0.0)) as sb:
        config, store = _setup(sb, tmp_path)
        runner = CliRunner()
        name = "accounts/seller-na/refresh_token"
        still = runner.invoke(app, ["secrets", "rotate", name, "-c", str(config)])
        assert still.exit_code == 0 and "still works" in still.output
        sb.configure(revoked_accounts=("seller-na",))  # the seller removed the app
        # the seller authorizes again; a private app's owner copies the new token (self-authorization)
        new = sb.state.oauth.issue_refresh_token("seller-na", after_revocation=True)
        res = runner.invoke(
            app, ["secrets", "rotate", name, "--self-authorize", "-c", str(config)], input=new + "\n"
        )
        assert res.exit_code == 0, res.output
        assert "invalid_grant" in res.output
        assert LocalSecretStore(store.dir).get(name) == new


def test_paste_mode_takes_the_landing_address_and_checks_its_state() -> None:
    """Amazon only redirects to registered https URIs: without a listener the user pastes the address
    the browser landed on (the page itself may not even load)."""
    from splake.accounts.onboard import WebsiteAuth, authorize_website, redeem
    from splake.config import LwaSettings, Settings

    redirect = "https://onboarding.example.com/amazon/callback"
    with SandboxServer(SandboxConfig(seed=7, time_scale=0.0, oauth_redirect_uris=(redirect,))) as sb:
        lwa = LwaSettings(
            client_id=sb.world.client_id,
            token_url=sb.url + "/auth/o2/token",
            application_id=sb.world.application_id,
            authorize_url_override=sb.url,
        )
        settings = Settings(lwa=lwa)
        landed: list[str] = []

        def browser(url: str) -> None:  # signs in as seller-jp, Confirm; does not follow Amazon's redirect
            with httpx.Client(trust_env=False) as http:
                q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
                resp = http.post(sb.url + "/apps/authorize/confirm",
                                 data={**q, "account": "seller-jp", "action": "confirm"})  # fmt: skip
                landed.append(resp.headers["location"])

        shown: list[str] = []
        auth = WebsiteAuth(redirect, listen=False)
        cb = authorize_website(settings, "seller", "JP", auth, announce=shown.append, open_url=browser,
                               paste=lambda: landed[0])  # fmt: skip
        assert shown[0].startswith(sb.url + "/apps/authorize/consent?") and "redirect_uri=" in shown[0]
        assert cb.selling_partner_id == sb.world.account("seller-jp").selling_partner_id

        class Secrets:
            def get(self, name: str) -> str:
                return sb.world.client_secret

        token = asyncio.run(redeem(settings, Secrets(), cb, redirect))  # type: ignore[arg-type]
        assert token.startswith("Atzr|")
        with pytest.raises(AuthError):  # an address from another authorization run is refused
            authorize_website(settings, "seller", "JP", auth, announce=shown.append, open_url=browser,
                              paste=lambda: landed[0])  # fmt: skip
