"""`splake reports drift`: per report type, the columns Amazon's documents have that are not declared and
the declared columns they lack, since when and where (recorded when documents land)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from splake.errors import SplakeError

ConfigOpt = typer.Option(Path("splake.toml"), "--config", "-c", help="config file (see `splake init`)")


def drift_command(
    config: Path = ConfigOpt,
    report_type: list[str] = typer.Option([], "--report-type", "-t", help="only these report types"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per difference"),
) -> None:
    """Layout drift: undeclared columns (kept as strings) and declared-but-absent ones (landed as null)."""
    from splake.config import load_config
    from splake.reports.drift import drift_report
    from splake.reports.progress import wide_console
    from splake.runners.local import lake_root
    from splake.state.sqlite import SqliteStateStore

    try:
        settings = load_config(config)
    except SplakeError as exc:
        typer.echo(f"error: {exc.render()}", err=True)
        raise typer.Exit(code=2) from None
    db = lake_root(settings) / "state.db"
    if not db.exists():
        typer.echo(f"no state yet at {db}; run `splake sync` first")
        return
    store = SqliteStateStore(db)
    try:
        items = drift_report(store, report_type or None)
    finally:
        store.close()
    if as_json:
        for d in items:
            typer.echo(json.dumps(d.to_json(), ensure_ascii=False))
        return
    if not items:
        typer.echo("no layout drift: every landed document matches its declared columns")
        return
    from rich.table import Table

    table = Table(title="Layout drift (columns vs declarations)")
    for col in ("report type", "difference", "column", "marketplaces", "since", "last seen", "documents"):
        table.add_column(col, justify="right" if col == "documents" else "left")
    for d in items:
        table.add_row(
            d.report_type,
            "declared, absent (null)" if d.kind == "absent" else "seen, undeclared (string)",
            d.column,
            ", ".join(d.marketplaces),
            d.first_seen.strftime("%Y-%m-%d %H:%M"),
            d.last_seen.strftime("%Y-%m-%d %H:%M"),
            str(d.documents),
        )
    wide_console().print(table)
