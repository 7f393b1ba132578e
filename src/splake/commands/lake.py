"""`splake lake check` and `splake lake rebuild [--table T]`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from splake.errors import SplakeError

lake_app = typer.Typer(name="lake", help="Check and repair the local lake.", no_args_is_help=True)
ConfigOpt = typer.Option(Path("splake.toml"), "--config", "-c", help="config file (see `splake init`)")


def _fail(exc: SplakeError) -> typer.Exit:
    typer.echo(f"error: {exc.render()}", err=True)
    return typer.Exit(code=2)


@lake_app.command("check")
def check_command(
    config: Path = ConfigOpt,
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
    keys: bool = typer.Option(
        True, "--keys/--no-keys", help="recompute every row's key from its columns (reads all data files)"
    ),
) -> None:
    """Verify catalog ↔ table metadata ↔ data files ↔ ledger ↔ raw zone, and that every stored row key is
    the key of its row; name each damaged table, what is wrong and the fix. Exit code 0 when all is well,
    1 when something is damaged."""
    from splake.config import load_config
    from splake.lake.catalog import open_catalog
    from splake.lake.check import check_lake
    from splake.runners.local import lake_root
    from splake.state.sqlite import SqliteStateStore

    try:
        settings = load_config(config)
        root = lake_root(settings)
        db = root / "state.db"
        state = SqliteStateStore(db) if db.exists() else None
    except SplakeError as exc:
        raise _fail(exc) from None
    try:
        result = check_lake(
            root, settings.lake.namespace, lambda: open_catalog(settings), state, verify_keys=keys
        )
    finally:
        if state is not None:
            state.close()
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=1))
        raise typer.Exit(code=0 if result.ok else 1)
    typer.echo(f"lake {result.root}")
    for problem in (result.catalog_error, result.state_error):
        if problem:
            typer.echo(f"  DAMAGED  {problem}")
    for t in result.tables:
        k = t.keys
        if t.ok:
            verified = ""
            if k is not None and k.skipped is None:
                verified = f", {k.rows} row keys verified in {k.seconds:.1f} s"
            typer.echo(f"  ok       {t.table} ({t.ingested_reports} landed reports{verified})")
            if k is not None and k.skipped:
                typer.echo(f"             - row keys not verified: {k.skipped}")
            if k is not None and k.unproven:
                typer.echo(
                    f"             - {k.unproven} repeat keys without their earlier copies and without a "
                    "colliding text (copies replaced later, most likely); if a 5bb07ed..148d46c build "
                    f"wrote this lake, `splake lake rebuild --table {t.table}` re-keys them either way"
                )
            continue
        typer.echo(f"  DAMAGED  {t.table}")
        for p in t.problems:
            typer.echo(f"             - {p}")
        typer.echo(f"             → {t.fix}")
    typer.echo("all tables ok" if result.ok else f"{len(result.damaged)} damaged")
    raise typer.Exit(code=0 if result.ok else 1)


@lake_app.command("rebuild")
def rebuild_command(
    config: Path = ConfigOpt,
    table: list[str] = typer.Option([], "--table", "-t", help="only this table (repeatable); default: all"),
) -> None:
    """Rebuild curated report tables from the raw zone (no SP-API calls; same row keys). Run it while
    no sync is running."""
    from splake.config import load_config
    from splake.lake.rebuild import rebuild

    try:
        settings = load_config(config)
        results = rebuild(settings, table or None)
    except SplakeError as exc:
        raise _fail(exc) from None
    for r in results:
        typer.echo(f"rebuilt {r.table}: {r.reports} reports, {r.rows} rows, {r.quarantined} quarantined")


def register(app: typer.Typer) -> None:
    app.add_typer(lake_app)
