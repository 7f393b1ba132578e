"""`splake secrets`: store and list secrets (LWA client secret, refresh tokens) in the secret store.

Values are never taken from the command line (they would end up in shell history and ``ps``): they are
read from stdin when it is not a terminal (``pass show x | splake secrets set NAME``) or from a hidden
prompt.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import typer

from splake.errors import SplakeError

secrets_app = typer.Typer(name="secrets", help="Store and list secrets (values are encrypted at rest).")

CONFIG_OPTION = typer.Option("splake.toml", "--config", "-c", help="Path to the splake config file.")
DIR_OPTION = typer.Option(None, "--dir", help="Secret store directory (default: <lake.path>/.secrets).")


def _fail(exc: SplakeError) -> typer.Exit:
    typer.echo(f"error: {exc.render()}", err=True)
    return typer.Exit(code=1)


def _read_value(name: str) -> str:
    if not sys.stdin.isatty():
        value = sys.stdin.read()
        value = value[:-1] if value.endswith("\n") else value
        value = value[:-1] if value.endswith("\r") else value
    else:
        value = typer.prompt(f"value for {name}", hide_input=True, confirmation_prompt=True)
    return value


@secrets_app.command("set")
def set_secret(
    name: str = typer.Argument(
        ..., help="Secret name, e.g. lwa/client_secret or accounts/<id>/refresh_token."
    ),
    config: Path = CONFIG_OPTION,
    dir: Path | None = DIR_OPTION,
) -> None:
    """Store a secret. The value is read from stdin (if piped) or a hidden prompt, never from arguments."""
    from splake.auth.secrets import open_local_secret_store, validate_secret_name
    from splake.config import load_config

    try:
        validate_secret_name(name)
        store = open_local_secret_store(load_config(config), dir)
        value = _read_value(name)
        if not value.strip():
            typer.echo(f"error: empty value; nothing stored for {name}", err=True)
            raise typer.Exit(code=1)
        existed = store.info(name) is not None
        store.put(name, value)
    except SplakeError as exc:
        raise _fail(exc) from None
    typer.echo(f"{'updated' if existed else 'stored'} {name} in {store.dir}")


@secrets_app.command("list")
def list_secrets(config: Path = CONFIG_OPTION, dir: Path | None = DIR_OPTION) -> None:
    """List stored secrets with their age, the ones the config needs but are missing, and age warnings."""
    from splake.auth.lwa import credential_warnings
    from splake.auth.secrets import open_local_secret_store
    from splake.config import load_config

    try:
        settings = load_config(config)
        store = open_local_secret_store(settings, dir)
        infos = {i.name: i for i in store.list()}
        now = datetime.now(UTC)
        warnings = credential_warnings(settings, store, now)
    except SplakeError as exc:
        raise _fail(exc) from None
    needed = [settings.lwa.client_secret_ref, *(a.secret_ref for a in settings.accounts)]
    names = sorted(set(infos) | set(needed))
    typer.echo(f"secret store: {store.dir}")
    width = max((len(n) for n in names), default=4)
    for name in names:
        info = infos.get(name)
        if info is None:
            typer.echo(f"  {name:<{width}}  MISSING  → splake secrets set {name}")
            continue
        age = (now - info.updated_at).days
        typer.echo(f"  {name:<{width}}  updated {info.updated_at:%Y-%m-%d} ({age} days ago)")
    if infos:
        typer.echo(f"key: {store.key_path} (outside the lake: copies and backups of it cannot decrypt)")
    for w in warnings:
        typer.echo(f"warning: {w.message}", err=True)
    from splake.auth.secrets import exposed_paths

    for text in exposed_paths(store):
        typer.echo(f"warning: {text}", err=True)
    if any(n not in infos for n in needed):
        raise typer.Exit(code=1)


@secrets_app.command("rotate")
def rotate_secret(
    name: str = typer.Argument(
        ...,
        help="lwa/client_secret (or your [lwa] client_secret_ref), or an "
        "account's refresh token name (accounts/<id>/refresh_token).",
    ),
    config: Path = CONFIG_OPTION,
    force: bool = typer.Option(False, "--force", help="re-authorize even if the refresh token still works"),
    self_authorize: bool = typer.Option(
        False, "--self-authorize", help="refresh token: paste a new one instead of the website workflow"
    ),
    redirect_uri: str | None = typer.Option(None, "--redirect-uri", help="default: [lwa] redirect_uri"),
    browser: bool = typer.Option(True, "--browser/--no-browser", help="open the consent URL in a browser"),
    timeout: float = typer.Option(600.0, "--timeout", help="seconds to wait for the redirect"),
    dir: Path | None = DIR_OPTION,
) -> None:
    """Rotate a credential without a window where none works.

    The LWA client secret: the new value (stdin / hidden prompt) replaces the stored one only after an LWA
    exchange with it succeeded; otherwise the old one is kept. A refresh token: if LWA answers
    invalid_grant (revoked or expired) or --force, the account is re-authorized (website workflow, or
    --self-authorize) and the new token stored; the selling partner must be the configured one."""
    import asyncio

    from splake.accounts.rotate import verify_client_secret
    from splake.auth.secrets import LocalSecretStore
    from splake.config import load_config
    from splake.runners.local import default_secrets_dir

    try:
        settings = load_config(config)
        store = LocalSecretStore(dir or default_secrets_dir(settings))
        if name == settings.lwa.client_secret_ref:
            value = _read_value(name).strip()
            if not value:
                typer.echo("error: empty value; the old secret is kept", err=True)
                raise typer.Exit(code=1)
            result = asyncio.run(verify_client_secret(settings, store, value))
            store.put(name, value)
            typer.echo(
                f"rotated {name}: LWA accepted the new secret ({result.verified_with}); old one replaced"
            )
            return
        account = next((a for a in settings.accounts if a.secret_ref == name), None)
        if account is None:
            typer.echo(
                f"error: {name} is neither the LWA client secret nor an account's refresh token in {config}",
                err=True,
            )
            raise typer.Exit(code=2)
        from splake.accounts.reauth import refresh_token_state
        from splake.commands.accounts import reauthorize

        state = asyncio.run(refresh_token_state(settings, store, account))
        if state == "ok" and not force:
            typer.echo(f"{name} still works (LWA refresh succeeded); nothing to do (--force re-authorizes)")
            return
        typer.echo(f"{name}: {state}; re-authorizing account {account.id}")
        reauthorize(config, dir, account.id, self_authorize, redirect_uri, browser, timeout)
    except SplakeError as exc:
        raise _fail(exc) from None


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.add_typer(secrets_app, name="secrets")
