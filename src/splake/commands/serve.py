"""`splake serve` (local dashboard: pipeline health + business overview) and `splake report` (one
self-contained HTML file)."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, date, datetime
from pathlib import Path

import typer

from splake.errors import SplakeError

DEFAULT_CONFIG = "splake.toml"


def _fail(exc: SplakeError) -> None:
    typer.echo(f"error: {exc.render()}", err=True)
    raise typer.Exit(2)


def serve(
    config: Path = typer.Option(Path(DEFAULT_CONFIG), "--config", "-c", help="splake config file"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to bind; non-loopback requires --token"),
    port: int = typer.Option(8787, "--port", help="port to listen on"),
    token: str | None = typer.Option(
        None, "--token", help="require this token on every request (or env SPLAKE_SERVE_TOKEN)"
    ),
    generate_token: bool = typer.Option(
        False, "--generate-token", help="make up a random token and print it"
    ),
) -> None:
    """Serve the dashboard: pipeline health and business overview charts over your lake."""
    import uvicorn

    from splake.config import load_config
    from splake.insights.app import create_app
    from splake.insights.security import TOKEN_ENV, check_bind, is_loopback
    from splake.insights.wiring import open_insights
    from splake.logs import configure_logging

    token = token or os.environ.get(TOKEN_ENV) or None
    if generate_token and not token:
        token = secrets.token_urlsafe(24)
        typer.echo(f"token: {token}")
    try:
        check_bind(host, token)
        settings = load_config(config)
    except SplakeError as exc:
        _fail(exc)
        return
    configure_logging(settings.log_level)
    insights, close = open_insights(settings)
    allowed = ["127.0.0.1", "localhost", "::1", "[::1]"] if is_loopback(host) else None
    app = create_app(insights, token=token, allowed_hosts=allowed)
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"splake dashboard on http://{shown}:{port}/" + ("?token=…" if token else ""))
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        close()


def report(
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="where to write the HTML file"),
    config: Path = typer.Option(Path(DEFAULT_CONFIG), "--config", "-c", help="splake config file"),
    account: list[str] = typer.Option([], "--account", help="only this account (repeatable)"),
    marketplace: list[str] = typer.Option([], "--marketplace", help="only this marketplace id (repeatable)"),
    start: str | None = typer.Option(None, "--start", help="first day, YYYY-MM-DD"),
    end: str | None = typer.Option(None, "--end", help="last day (inclusive), YYYY-MM-DD"),
) -> None:
    """Write a self-contained HTML report (charts and data inlined; opens offline)."""
    from splake.config import load_config
    from splake.insights.report import write_report
    from splake.insights.runner import Filters
    from splake.insights.wiring import open_insights

    try:
        settings = load_config(config)
        filters = Filters(
            tuple(account),
            tuple(marketplace),
            date.fromisoformat(start) if start else None,
            date.fromisoformat(end) if end else None,
        )
        filters.validate()
    except SplakeError as exc:
        _fail(exc)
        return
    except ValueError as exc:
        typer.echo(f"error: bad date: {exc} (use YYYY-MM-DD)", err=True)
        raise typer.Exit(2) from None
    insights, close = open_insights(settings)
    try:
        path = write_report(insights, out, datetime.now(UTC), filters)
    finally:
        close()
    typer.echo(f"wrote {path} ({path.stat().st_size:,} bytes)")


marts_app = typer.Typer(
    help="Curated marts: list them, print their SQL, export their rows.", no_args_is_help=True
)


@marts_app.command("list")
def marts_list(
    config: Path = typer.Option(Path(DEFAULT_CONFIG), "--config", "-c", help="splake config file"),
) -> None:
    """Every mart, and whether the tables it reads exist in the lake yet."""
    from rich.console import Console
    from rich.table import Table

    from splake.config import load_config
    from splake.insights.wiring import open_insights

    try:
        settings = load_config(config)
    except SplakeError as exc:
        _fail(exc)
        return
    insights, close = open_insights(settings)
    try:
        statuses = insights.statuses()
    finally:
        close()
    t = Table()
    for col in ("mart", "title", "status"):
        t.add_column(col)
    for st in statuses:
        state = "available" if st["available"] else "waiting for " + ", ".join(st["missing_tables"])
        t.add_row(st["name"], st["title"], state)
    Console().print(t)


@marts_app.command("sql")
def marts_sql(
    name: str = typer.Argument(..., help="mart name (see `splake marts list`)"),
    dialect: str = typer.Option("trino", "--dialect", help="trino (Athena) or duckdb"),
    schema: str | None = typer.Option(None, "--schema", help="database/schema for CREATE VIEW"),
    view: bool = typer.Option(False, "--view", help="print CREATE OR REPLACE VIEW instead of the query"),
) -> None:
    """Print a mart's SQL (Trino for Athena, or transpiled to DuckDB)."""
    from splake.insights.dialect import to_duckdb, view_ddl
    from splake.insights.marts import MARTS

    found = [m for m in MARTS if m.name == name]
    if not found:
        typer.echo(f"error: no mart {name!r}; known: {', '.join(m.name for m in MARTS)}", err=True)
        raise typer.Exit(2)
    try:
        if view:
            typer.echo(view_ddl(name, found[0].sql, dialect=dialect, schema=schema))
        else:
            typer.echo(found[0].sql.strip() if dialect == "trino" else to_duckdb(found[0].sql))
    except SplakeError as exc:
        _fail(exc)


@marts_app.command("export")
def marts_export(
    name: str = typer.Argument(..., help="mart name (see `splake marts list`)"),
    config: Path = typer.Option(Path(DEFAULT_CONFIG), "--config", "-c", help="splake config file"),
    fmt: str = typer.Option("csv", "--format", "-f", help="csv, parquet or json (lines)"),
    out: str = typer.Option("-", "--out", "-o", help="file to write; - = stdout"),
    force: bool = typer.Option(False, "--force", help="overwrite an existing --out file"),
    account: list[str] = typer.Option([], "--account", help="only this account (repeatable)"),
    marketplace: list[str] = typer.Option([], "--marketplace", help="only this marketplace id (repeatable)"),
    start: str | None = typer.Option(None, "--start", help="first day, YYYY-MM-DD"),
    end: str | None = typer.Option(None, "--end", help="last day (inclusive), YYYY-MM-DD"),
) -> None:
    """Export a mart's rows (with the same filters as the dashboard)."""
    from splake.config import load_config
    from splake.insights.export import check_out, export_table
    from splake.insights.runner import Filters
    from splake.insights.wiring import open_insights

    try:
        check_out(out, force)
        settings = load_config(config)
        filters = Filters.parse(
            {"account": account, "marketplace": marketplace, "start": start or "", "end": end or ""}
        )
        insights, close = open_insights(settings)
        try:
            n = export_table(insights.rows(name, filters), fmt, None if out == "-" else out)
        finally:
            close()
    except SplakeError as exc:
        _fail(exc)
        return
    if out != "-":
        typer.echo(f"wrote {n} rows to {out}", err=True)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.command("serve")(serve)
    app.command("report")(report)
    app.add_typer(marts_app, name="marts")
