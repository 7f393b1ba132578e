"""`splake items …`: track ASINs/SKUs and sync Catalog Items + Listings Items into the lake."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import typer

from splake.config import load_config

items_app = typer.Typer(help="Catalog and listings items: the registry and its sync.", no_args_is_help=True)

ConfigOpt = typer.Option(Path("splake.toml"), "--config", "-c", help="config file")


@items_app.command("add")
def add(
    asin: list[str] = typer.Option([], "--asin", help="ASIN to track (repeatable)"),
    sku: list[str] = typer.Option([], "--sku", help="seller SKU to track (repeatable)"),
    file: Path | None = typer.Option(
        None, "--file", help="file of ASINs/SKUs (one per line, or CSV with asin/sku)"
    ),
    account: str = typer.Option(..., "--account", "-a", help="account id from the config"),
    marketplace: list[str] = typer.Option([], "--marketplace", "-m", help="default: all of the account's"),
    config: Path = ConfigOpt,
) -> None:
    """Track ASINs and SKUs (idempotent)."""
    from splake.items.registry import Kind, Registry, normalize_asin, parse_item_file, user_items
    from splake.runners.local import LocalContext

    settings = load_config(config)
    acct = settings.account(account)
    pairs: list[tuple[Kind, str]] = [("asin", normalize_asin(a)) for a in asin] + [("sku", s) for s in sku]
    if file is not None:
        pairs += parse_item_file(file.read_text(encoding="utf-8"))
    ctx = LocalContext.open(settings)
    changed = Registry(ctx.state).add(user_items(acct, pairs, marketplace), datetime.now(UTC))
    typer.echo(
        f"tracking {len(pairs)} identifier(s) for {account}; {changed} registry entr(y/ies) added or updated"
    )


@items_app.command("remove")
def remove(
    asin: list[str] = typer.Option([], "--asin", help="ASIN to stop tracking (repeatable)"),
    sku: list[str] = typer.Option([], "--sku", help="SKU to stop tracking (repeatable)"),
    account: str = typer.Option(..., "--account", "-a", help="account id from the config"),
    marketplace: list[str] = typer.Option([], "--marketplace", "-m", help="default: all of the account's"),
    config: Path = ConfigOpt,
) -> None:
    """Stop tracking ASINs/SKUs (data already in the lake stays)."""
    from splake.items.registry import Kind, Registry, normalize_asin, user_items
    from splake.runners.local import LocalContext

    settings = load_config(config)
    pairs: list[tuple[Kind, str]] = [("asin", normalize_asin(a)) for a in asin] + [("sku", s) for s in sku]
    registry = Registry(LocalContext.open(settings).state)
    for item in user_items(settings.account(account), pairs, marketplace):
        registry.remove(item)
    typer.echo(f"stopped tracking {len(pairs)} identifier(s) for {account}")


@items_app.command("list")
def list_items(account: str = typer.Option(..., "--account", "-a"), config: Path = ConfigOpt) -> None:
    """Print the tracked items of an account as JSON lines."""
    from splake.items.registry import Registry
    from splake.runners.local import LocalContext

    ctx = LocalContext.open(load_config(config))
    for item in Registry(ctx.state).items(account):
        typer.echo(
            json.dumps(
                {
                    "marketplace_id": item.marketplace_id,
                    "kind": item.kind,
                    "value": item.value,
                    "asin": item.asin,
                    "sources": list(item.sources),
                }
            )
        )


@items_app.command("sync")
def sync(
    account: list[str] = typer.Option([], "--account", "-a", help="default: every account"),
    from_report: bool = typer.Option(True, help="first track every SKU of the curated listings report"),
    catalog: bool = typer.Option(True, help="catalog + listings items of the tracked ASINs/SKUs"),
    orders: bool = typer.Option(
        False, help="also orders (Orders 2026-01-01 searchOrders; v0 where unavailable), by a cursor"
    ),
    finances: bool = typer.Option(False, help="also Finances v0 listFinancialEvents (lookback days)"),
    transactions: bool = typer.Option(
        False, help="also Finances 2024-06-19 listTransactions (cursor) + listFinancialEventGroups"
    ),
    inventory: bool = typer.Option(False, help="also FBA getInventorySummaries"),
    vendor_orders: bool = typer.Option(
        False,
        help="also vendor purchase orders + status, and Direct Fulfillment orders where authorized",
    ),
    data_kiosk: bool = typer.Option(
        False, help="also Data Kiosk: declared sales & traffic / economics and [data_kiosk].queries"
    ),
    config: Path = ConfigOpt,
) -> None:
    """Fetch catalog + listings data for tracked items (and optionally orders, finances, FBA inventory)."""
    from splake.items.commerce import sync_commerce
    from splake.items.feed import feed_from_listings_report
    from splake.items.registry import Registry
    from splake.items.sync import sync_items
    from splake.runners.local import LocalContext

    settings = load_config(config)
    ctx = LocalContext.open(settings)
    ids = account or [a.id for a in settings.accounts]
    if from_report and catalog:
        feed_from_listings_report(Registry(ctx.state), ctx.query_engine(), ids, datetime.now(UTC))
    kinds = tuple(
        k
        for k, on in (
            ("orders", orders),
            ("finances", finances),
            ("transactions", transactions),
            ("inventory", inventory),
            ("data_kiosk", data_kiosk),
            ("vendor_orders", vendor_orders),
        )
        if on
    )

    async def run() -> dict[str, object]:
        out: dict[str, object] = {}
        try:
            if catalog:
                out["items"] = (await sync_items(ctx, account_ids=ids)).as_dict()
            if kinds:
                out["commerce"] = await sync_commerce(ctx, kinds, account_ids=tuple(ids))
            return out
        finally:
            await ctx.aclose()

    typer.echo(json.dumps(asyncio.run(run())))


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.add_typer(items_app, name="items")
