"""`splake reports reland <report-id>`: land a report again from the raw zone (no SP-API call)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from splake.errors import SplakeError

ConfigOpt = typer.Option(Path("splake.toml"), "--config", "-c", help="config file (see `splake init`)")


def reland_command(
    report_id: str = typer.Argument(..., help="the report id (see `splake reports status`)"),
    config: Path = ConfigOpt,
    account: str | None = typer.Option(None, "--account", "-a", help="the account, when ids repeat"),
    force: bool = typer.Option(
        False, "--force", help="land the readable rows even when more than the hold share is quarantined"
    ),
) -> None:
    """Re-land a report (e.g. a HELD one, after fixing the config or upgrading) from the document kept in
    the raw zone. Exit code 1 when it is still held."""
    from splake.config import load_config
    from splake.reports.reland import reland
    from splake.runners.local import LocalContext

    try:
        settings = load_config(config)
        ctx = LocalContext.open(settings)
    except SplakeError as exc:
        typer.echo(f"error: {exc.render()}", err=True)
        raise typer.Exit(code=2) from None
    try:
        res = reland(ctx, report_id, account_id=account, force=force)
    except SplakeError as exc:
        typer.echo(f"error: {exc.render()}", err=True)
        raise typer.Exit(code=2) from None
    finally:
        asyncio.run(ctx.aclose())
    if res.entry.status == "HELD":
        typer.echo(f"report {report_id} is still HELD: {res.reason}", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"report {report_id} landed: {res.rows} rows, {res.quarantined} quarantined")


def register(app: typer.Typer) -> None:
    from splake.commands.sync import reports_app

    reports_app.command("reland")(reland_command)
