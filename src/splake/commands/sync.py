"""`splake sync`, `splake reports status`, `splake query`, `splake init`, `splake demo`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer

from splake.errors import SplakeError
from splake.reports.memory import configure_arrow_memory, tune_gc

configure_arrow_memory()  # before anything loads pyarrow: bounded RSS when ingesting GB documents

ConfigOpt = typer.Option(Path("splake.toml"), "--config", "-c", help="config file (see `splake init`)")

reports_app = typer.Typer(name="reports", help="The report ledger.", no_args_is_help=True)


def _fail(exc: SplakeError) -> typer.Exit:
    typer.echo(f"error: {exc.render()}", err=True)
    return typer.Exit(code=2)


def sync_command(
    config: Path = ConfigOpt,
    account: list[str] = typer.Option([], "--account", "-a", help="only these account ids (repeatable)"),
    report_type: list[str] = typer.Option(
        [], "--report-type", "-t", help="only these report types (repeatable)"
    ),
    max_wait: float = typer.Option(
        3600.0,
        "--max-wait",
        help="seconds to wait for reports still processing; unfinished ones are resumed by the next sync",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bars"),
    log_file: Path | None = typer.Option(
        None,
        "--log-file",
        help="append structured (JSON lines) logs of every request, retry and commit to this file, at the "
        "configured log_level; the console shows only warnings, errors and counts",
    ),
) -> None:
    """Sync every configured account x marketplace x report type into the lake.

    Exit codes: 0 complete; 1 something failed permanently (a FATAL report, a rejected request) or a
    curated table is damaged (`splake lake check`); 2 bad config or usage; 3 work is still pending
    (`--max-wait` reached or a step deferred): the next sync resumes it."""
    from splake.config import load_config
    from splake.runners.local import check_selection, sync_main

    try:
        settings = load_config(config)
        check_selection(settings, account, report_type)
    except SplakeError as exc:
        raise _fail(exc) from None
    tune_gc()  # (after start-up: see splake.reports.memory)
    code = asyncio.run(
        sync_main(
            settings,
            accounts=account,
            report_types=report_type,
            max_wait=max_wait,
            quiet=quiet,
            log_file=log_file,
        )
    )
    raise typer.Exit(code=code)


@reports_app.command("list")
def list_command(
    kind: str | None = typer.Option(None, "--kind", help="only seller or vendor types"),
    fmt: str = typer.Option("table", "--format", help="table or tsv"),
) -> None:
    """The report type catalog: type, table, seller/vendor, window, options (* = required), the SP-API
    roles that grant it and its latency (how long after the fact data is requested)."""
    from rich.table import Table

    from splake.reports.catalog.listing import rows
    from splake.reports.progress import wide_console

    found = rows(kind)
    if fmt == "tsv":
        typer.echo("type\ttable\taccounts\tformat\twindow\toptions\troles\tlatency")
        for r in found:
            typer.echo(
                "\t".join((r.name, r.table, r.accounts, r.format, r.mode, r.options, r.roles, r.latency))
            )
        return
    t = Table(title=f"{len(found)} report types")
    for col in ("type", "table", "accounts", "format", "window", "options", "roles", "latency"):
        t.add_column(col, overflow="fold")
    for r in found:
        t.add_row(r.name, r.table, r.accounts, r.format, r.mode, r.options, r.roles, r.latency)
    wide_console().print(t)


@reports_app.command("status")
def status_command(
    config: Path = ConfigOpt,
    account: str | None = typer.Option(None, "--account", "-a"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per ledger entry"),
) -> None:
    """Show the report ledger: what was requested, landed, is in flight or failed (and why)."""

    from splake.config import load_config
    from splake.lake.check import interrupted_rebuilds
    from splake.reports import ledger
    from splake.reports.drift import drift_report
    from splake.reports.progress import status_table, wide_console
    from splake.runners.local import lake_root
    from splake.state.sqlite import SqliteStateStore

    try:
        settings = load_config(config)
    except SplakeError as exc:
        raise _fail(exc) from None
    db = lake_root(settings) / "state.db"
    if not db.exists():
        typer.echo(f"no ledger yet at {db}; run `splake sync` first")
        return
    store = SqliteStateStore(db)
    try:
        entries = ledger.entries(store, account)
        drifted = drift_report(store)
        rebuilding = interrupted_rebuilds(store)
    finally:
        store.close()
    damaged = _damaged_tables(settings)
    for table in rebuilding:
        damaged.setdefault(table, "a `splake lake rebuild` of it was interrupted")
    if as_json:
        for e in entries:
            typer.echo(json.dumps(e.to_item(), ensure_ascii=False))
        for table, why in damaged.items():
            typer.echo(json.dumps({"kind": "damaged_table", "table": table, "reason": why}))
        return
    wide_console().print(status_table(entries))
    if drifted:
        typer.echo(
            f"layout drift in {len({d.report_type for d in drifted})} report types: "
            f"{sum(d.kind == 'undeclared' for d in drifted)} undeclared and "
            f"{sum(d.kind == 'absent' for d in drifted)} absent columns (see `splake reports drift`)"
        )
    for table, why in damaged.items():
        from splake.lake.damage import repair_hint

        typer.echo(f"DAMAGED table {table}: {why}\n  → {repair_hint(table.removesuffix('__quarantine'))}")


def _damaged_tables(settings: object) -> dict[str, str]:
    from splake.config import Settings
    from splake.lake.catalog import open_catalog
    from splake.lake.damage import damaged_tables

    assert isinstance(settings, Settings)
    try:
        return damaged_tables(open_catalog(settings), settings.lake.namespace)
    except Exception as exc:  # an unreadable catalog is itself damage worth showing
        return {"(catalog)": f"catalog.db cannot be read: {exc}"}


def query_command(
    sql: str = typer.Argument(
        ..., help='SQL over the curated tables, e.g. "select count(*) from orders_by_order_date"'
    ),
    config: Path = ConfigOpt,
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv, json (lines) or parquet"),
    limit: int = typer.Option(200, "--limit", help="max rows printed as a table"),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="write the result to this file (csv/json/parquet)"
    ),
    force: bool = typer.Option(False, "--force", help="overwrite an existing --out file"),
) -> None:
    """Run DuckDB SQL over the lake (every curated table is a view by its name)."""
    from splake.config import load_config
    from splake.insights.export import check_out
    from splake.lake.catalog import open_catalog
    from splake.lake.query import QueryEngine

    try:
        check_out(out, force)
        settings = load_config(config)
        engine = QueryEngine(open_catalog(settings), settings.lake.namespace)
        try:
            result = engine.sql(sql)
        finally:
            engine.close()
    except SplakeError as exc:
        raise _fail(exc) from None
    except Exception as exc:  # duckdb errors: show them as they are
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    if out is not None or fmt == "parquet":
        from splake.insights.export import export_table

        try:
            n = export_table(result, "csv" if fmt == "table" else fmt, out)
        except SplakeError as exc:
            raise _fail(exc) from None
        if out is not None:
            typer.echo(f"wrote {n} rows to {out}", err=True)
        return
    print_arrow(result, fmt, limit)


def print_arrow(result: object, fmt: str, limit: int) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from rich.console import Console
    from rich.table import Table

    assert isinstance(result, pa.Table)
    if fmt == "json":
        for row in result.to_pylist():
            typer.echo(json.dumps(row, default=str, ensure_ascii=False))
        return
    if fmt == "csv":
        import io

        buf = io.BytesIO()
        pacsv.write_csv(result, buf)
        typer.echo(buf.getvalue().decode("utf-8"), nl=False)
        return
    t = Table()
    for name in result.column_names:
        t.add_column(name)
    for row in result.slice(0, limit).to_pylist():
        t.add_row(*("" if v is None else str(v) for v in row.values()))
    if result.num_rows > limit:
        t.caption = f"{limit} of {result.num_rows} rows"
    Console().print(t)


def init_command(
    path: Path = typer.Option(Path("splake.toml"), "--path", "-p", help="where to write the config"),
    print_only: bool = typer.Option(False, "--print", help="print the starter config instead of writing it"),
    force: bool = typer.Option(False, "--force", help="overwrite an existing file"),
) -> None:
    """Write a commented starter config."""
    from splake.config import starter_config

    text = starter_config()
    if print_only:
        typer.echo(text, nl=False)
        return
    if path.exists() and not force:
        typer.echo(f"error: {path} already exists (use --force to overwrite, or --print)", err=True)
        raise typer.Exit(code=2)
    path.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {path}; edit it, then store secrets with `splake secrets set lwa/client_secret`")


def demo_command(
    dir: Path = typer.Option(Path("./splake-demo"), "--dir", help="where the demo lake is written"),
    seed: int = typer.Option(7, "--seed", help="sandbox world seed"),
    time_scale: float = typer.Option(
        0.01, "--time-scale", help="sandbox speed (0.01 = 100x faster than Amazon)"
    ),
    all_types: bool = typer.Option(
        False, "--all-types", help="land every declared report type (default: a representative subset)"
    ),
) -> None:
    """Start the SP-API sandbox in-process, sync four accounts (seller NA/EU/JP + vendor) into a demo lake,
    and print row counts and a sample query."""
    from splake.runners.demo import run_demo

    tune_gc()  # (after start-up: see splake.reports.memory)
    try:
        code = run_demo(dir, seed=seed, time_scale=time_scale, all_types=all_types)
    except SplakeError as exc:
        raise _fail(exc) from None
    raise typer.Exit(code=code)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.command("sync")(sync_command)
    app.command("query")(query_command)
    app.command("init")(init_command)
    app.command("demo")(demo_command)
    from splake.commands.drift import drift_command

    reports_app.command("drift")(drift_command)
    app.add_typer(reports_app)
