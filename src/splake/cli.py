"""splake command line. Commands live in ``splake.commands.*``; this module only assembles them."""

from __future__ import annotations

import os
from typing import Any

import typer

from splake.commands import (
    accounts,
    deploy,
    items,
    lake,
    notifications,
    reland,
    sandbox,
    secrets,
    serve,
    sync,
)
from splake.commands.plain import run_plainly


class _App(typer.Typer):
    """The root app: an error that reaches the top prints as what/where/how-to-fix, no traceback
    (``--debug`` or ``SPLAKE_DEBUG=1`` shows it)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # the lake can hold buyer PII (`pii = true`) and tokens: what splake creates is private to the
        # user by default (directories 0700, files 0600)
        os.umask(0o077)
        return run_plainly(super().__call__, *args, **kwargs)


app = _App(
    name="splake",
    help="Land Amazon Selling Partner API data into your own data lake, correct and current.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """splake: SP-API → your data lake."""


for _module in (sync, reland, sandbox, secrets, accounts, items, notifications, serve, deploy, lake):
    _module.register(app)


@app.command()
def version() -> None:
    """Print the splake version."""
    from splake import __version__

    typer.echo(__version__)


def main() -> None:  # pragma: no cover - console entry point
    app()
