"""`splake accounts`: onboard (authorize + discover + write config) and check seller/vendor accounts."""

from __future__ import annotations

import asyncio
import json
import sys
import webbrowser
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import typer

from splake.errors import ConfigError, SplakeError

accounts_app = typer.Typer(name="accounts", help="Authorize, discover and check seller/vendor accounts.")

CONFIG_OPTION = typer.Option("splake.toml", "--config", "-c", help="Path to the splake config file.")
DIR_OPTION = typer.Option(None, "--dir", help="Secret store directory (default: <lake.path>/.secrets).")


def _fail(exc: SplakeError) -> typer.Exit:
    typer.echo(f"error: {exc.render()}", err=True)
    return typer.Exit(code=1)


def _interactive() -> bool:
    return sys.stdin.isatty()


def _ask(what: str, value: str | None, *, default: str | None = None, required: bool = True) -> str | None:
    if value:
        return value
    if _interactive():
        answer = typer.prompt(
            what, default=default or ("" if not required else None), show_default=bool(default)
        )
        return str(answer).strip() or None
    if required and default is None:
        raise typer.BadParameter(f"{what} is required (no terminal to ask on)")
    return default


def _read_secret(what: str) -> str:
    if not _interactive():
        value = sys.stdin.read().strip()
    else:
        value = str(typer.prompt(what, hide_input=True)).strip()
    if not value:
        raise typer.BadParameter(f"empty {what}")
    return value


def _open_browser(enabled: bool) -> Callable[[str], object]:
    def open_url(url: str) -> object:
        if enabled:
            webbrowser.open(url)
        return None

    return open_url


def _paste() -> str:
    if not _interactive():
        return sys.stdin.readline()
    return str(typer.prompt("paste the full address your browser landed on after Confirm"))


async def _authorize_and_onboard(
    config: Path,
    secret_dir: Path | None,
    account_id: str,
    account_type: Literal["seller", "vendor"],
    sign_in: str | None,
    marketplaces: list[str],
    region: str | None,
    selling_partner_id: str | None,
    vendor_group: str | None,
    self_authorize: bool,
    redirect_uri: str | None,
    listen: bool | None,
    browser: bool,
    wait_seconds: float,
    tls_cert: str | None,
    tls_key: str | None,
    reauthorize_only: bool = False,
) -> None:
    from splake.accounts import onboard
    from splake.auth.secrets import LocalSecretStore
    from splake.config import load_config
    from splake.runners.local import default_secrets_dir
    from splake.spapi.marketplaces import marketplace

    settings = load_config(config)
    secrets = LocalSecretStore(secret_dir or default_secrets_dir(settings))
    existing = next((a for a in settings.accounts if a.id == account_id), None)
    if existing is not None:
        account_type = existing.type
    sign_in = sign_in or (marketplaces[0] if marketplaces else None)
    sign_in = sign_in or (existing.marketplaces[0] if existing else None)
    if sign_in is None:
        sign_in = _ask("marketplace you sign in to (e.g. US, DE, JP)", None)
    assert sign_in is not None
    the_region = region or marketplace(sign_in).region
    if account_type == "vendor" and not vendor_group and existing is None:
        vendor_group = _ask(
            "vendor group (Vendor Central account group this covers; Enter to skip)", None, required=False
        )
    token: str | None = None
    if self_authorize:
        spid = selling_partner_id or (existing.selling_partner_id if existing else None)
        where = (
            "Vendor Central → Integration → API Integration"
            if account_type == "vendor"
            else "Seller Central → Settings → Account Info → Merchant Token"
        )
        spid = _ask(f"selling partner id ({where})", spid)
        assert spid is not None
        token = _read_secret(f"refresh token for {account_id} (from Authorize app in Developer Central)")
    else:
        redirect = redirect_uri or settings.lwa.redirect_uri
        if not redirect:
            raise ConfigError(
                "no OAuth redirect URI",
                hint="set `[lwa] redirect_uri` to the redirect URI registered for the app, or pass "
                "--redirect-uri (or use --self-authorize for a private app)",
            )
        use_listener = onboard.redirect_is_loopback(redirect) if listen is None else listen
        auth = onboard.WebsiteAuth(redirect, use_listener, wait_seconds, tls_cert, tls_key)
        callback = await asyncio.to_thread(
            onboard.authorize_website,
            settings,
            account_type,
            sign_in,
            auth,
            announce=lambda url: typer.echo(
                f"Open this URL to authorize (valid for this run only):\n  {url}"
            ),
            open_url=_open_browser(browser),
            paste=_paste,
        )
        spid = callback.selling_partner_id
        typer.echo(f"authorization received for selling partner {spid}; exchanging the code")
        token = await onboard.redeem(settings, secrets, callback, redirect)
    account = onboard.draft_account(
        account_id,
        account_type,
        the_region,
        spid,
        tuple(marketplace(m).id for m in (marketplaces or (existing.marketplaces if existing else ()))),
        existing,
    )
    if not self_authorize:
        onboard.store_token(secrets, account, token)  # the code is spent: keep what it bought
    overlay = onboard.OverlaySecretStore(secrets, {account.secret_ref: token})
    found = await onboard.verify_and_discover(settings, overlay, account)
    if self_authorize:
        onboard.store_token(secrets, account, token)
    typer.echo(f"stored the refresh token as {account.secret_ref} (encrypted)")
    if reauthorize_only:
        return
    configured = tuple(marketplace(m).code for m in existing.marketplaces) if existing else ()
    explicit = tuple(marketplace(m).code for m in marketplaces)
    if account_type == "vendor" and not explicit:
        explicit = configured or (marketplace(sign_in).code,)
    chosen, lines = onboard.choose_marketplaces(explicit, found, configured)
    for line in lines:
        typer.echo(line)
    action = onboard.write_entry(config, account, chosen, vendor_group, existing)
    typer.echo(
        f"{action} [[accounts]] {account_id} ({account_type}, {the_region}, {spid}) in {config}: "
        + ", ".join(chosen)
    )


@accounts_app.command("add")
def add_command(
    account_id: str = typer.Argument(
        ..., help="Your name for the account: lowercase letters, digits, - and _."
    ),
    config: Path = CONFIG_OPTION,
    account_type: str = typer.Option("seller", "--type", help="seller or vendor"),
    sign_in: str | None = typer.Option(
        None,
        "--marketplace",
        "-m",
        help="The marketplace whose Seller/Vendor Central site the partner signs in to (e.g. US, DE, JP); "
        "it sets the region. Default: asked.",
    ),
    only: list[str] = typer.Option(
        [],
        "--only",
        help="Marketplaces to sync (repeatable). Sellers: overrides the discovered ones (the difference is "
        "shown). Vendors: default the --marketplace one.",
    ),
    region: str | None = typer.Option(None, "--region", help="NA, EU or FE (default: the marketplace's)"),
    selling_partner_id: str | None = typer.Option(None, "--selling-partner-id", help="self-authorization"),
    vendor_group: str | None = typer.Option(None, "--vendor-group", help="vendors: the vendor group"),
    self_authorize: bool = typer.Option(
        False, "--self-authorize", help="Private app: paste the refresh token (stdin or hidden prompt)."
    ),
    redirect_uri: str | None = typer.Option(None, "--redirect-uri", help="default: [lwa] redirect_uri"),
    listen: bool | None = typer.Option(
        None,
        "--listen/--paste",
        help="one-shot loopback listener (default for loopback redirect URIs) or paste the landing address",
    ),
    browser: bool = typer.Option(True, "--browser/--no-browser", help="open the consent URL in a browser"),
    timeout: float = typer.Option(600.0, "--timeout", help="seconds to wait for the redirect"),
    tls_cert: str | None = typer.Option(
        None, "--tls-cert", help="certificate for an https loopback redirect"
    ),
    tls_key: str | None = typer.Option(None, "--tls-key", help="key for --tls-cert"),
    dir: Path | None = DIR_OPTION,
) -> None:
    """Authorize the app for a seller/vendor account and write its [[accounts]] entry.

    Website authorization workflow (public apps): opens Seller/Vendor Central's consent page, receives
    Amazon's redirect (state checked), exchanges the code for a refresh token, discovers the marketplaces
    (getMarketplaceParticipations) and writes the entry. --self-authorize: paste a refresh token instead."""
    if account_type not in ("seller", "vendor"):
        raise typer.BadParameter("--type must be seller or vendor")
    try:
        asyncio.run(
            _authorize_and_onboard(
                config,
                dir,
                account_id,
                account_type,  # type: ignore[arg-type]
                sign_in,
                only,
                region,
                selling_partner_id,
                vendor_group,
                self_authorize,
                redirect_uri,
                listen,
                browser,
                timeout,
                tls_cert,
                tls_key,
            )
        )
    except SplakeError as exc:
        raise _fail(exc) from None


async def _check(config: Path, secret_dir: Path | None, account_ids: list[str]) -> list[object]:
    from splake.accounts.check import check_account
    from splake.auth.secrets import LocalSecretStore
    from splake.config import load_config
    from splake.runners.local import default_secrets_dir
    from splake.spapi.client import SpApiClient

    settings = load_config(config)
    accounts = [settings.account(a) for a in account_ids] if account_ids else list(settings.accounts)
    secrets = LocalSecretStore(secret_dir or default_secrets_dir(settings))
    async with SpApiClient(settings, secrets) as client:
        now = datetime.now(UTC)
        results = await asyncio.gather(
            *(check_account(client, client.lwa.access_token, settings, a, now) for a in accounts)
        )
    return list(results)


@accounts_app.command("check")
def check_command(
    account_ids: list[str] = typer.Argument(None, help="Account ids (default: all)."),
    config: Path = CONFIG_OPTION,
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
    exclude_denied: bool = typer.Option(
        False, "--exclude-denied", help="write the refused report types to the account's exclude_report_types"
    ),
    dir: Path | None = DIR_OPTION,
) -> None:
    """Per account: LWA refresh, marketplaces, roles (one cheap call per API family) and the configured
    report types Amazon refuses for lack of a role. Exit code 1 when anything would fail."""
    from splake.accounts.check import AccountCheck, render
    from splake.accounts.config_edit import set_exclusions

    try:
        checks = [
            c
            for c in asyncio.run(_check(config, dir, list(account_ids or [])))
            if isinstance(c, AccountCheck)
        ]
        written: list[str] = []
        if exclude_denied:
            for c in checks:
                if c.would_fail:
                    from splake.config import load_config

                    acct = load_config(config).account(c.account_id)
                    set_exclusions(config, c.account_id, [*acct.exclude_report_types, *c.would_fail])
                    written.append(c.account_id)
    except SplakeError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps({"accounts": [c.to_json() for c in checks]}, indent=2))
    else:
        for line in render(checks):
            typer.echo(line)
        for a in written:
            typer.echo(f"wrote exclude_report_types for {a} in {config}")

    def problem(c: AccountCheck) -> bool:
        errors = c.lwa != "ok" or any(p.status == "error" for p in c.probes)
        return errors or (bool(c.would_fail) and c.account_id not in written)

    if any(problem(c) for c in checks):
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.add_typer(accounts_app, name="accounts")


def reauthorize(
    config: Path,
    secret_dir: Path | None,
    account_id: str,
    self_authorize: bool,
    redirect_uri: str | None,
    browser: bool,
    timeout: float,
) -> None:
    """Re-authorize a configured account and store its new refresh token (config left as it is)."""
    asyncio.run(
        _authorize_and_onboard(
            config=config,
            secret_dir=secret_dir,
            account_id=account_id,
            account_type="seller",  # the configured type wins
            sign_in=None,
            marketplaces=[],
            region=None,
            selling_partner_id=None,
            vendor_group=None,
            self_authorize=self_authorize,
            redirect_uri=redirect_uri,
            listen=None,
            browser=browser,
            wait_seconds=timeout,
            tls_cert=None,
            tls_key=None,
            reauthorize_only=True,
        )
    )
