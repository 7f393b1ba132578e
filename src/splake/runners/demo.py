"""``splake demo``: the sandbox in-process, four accounts synced into a local lake, counts and a query.

Uses a sandbox ``time_scale`` that makes Amazon's processing delays and rate limits fast; the client's
rate limiter stays honest (it learns the sandbox's scaled limits from ``x-amzn-RateLimit-Limit``).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from splake.config import LakeSettings, LwaSettings, Settings, dump_config
from splake.reports.progress import RichObserver, summary_table, warnings_of, wide_console
from splake.reports.sync import SyncSummary, sync
from splake.reports.types import REPORT_TYPES
from splake.runners.local import LocalContext, default_secrets_dir
from splake.spapi.download import DownloadInfo

if TYPE_CHECKING:
    from splake.sandbox.world import World

DEMO_ACCOUNTS = ("seller-na", "seller-eu", "seller-jp", "vendor-na")
DEMO_DAYS = 7

SAMPLE_QUERIES: tuple[tuple[str, str], ...] = (
    (
        "Orders and revenue by marketplace (last update report)",
        "select marketplace_id, count(distinct amazon_order_id) as orders, "
        "round(sum(item_price), 2) as item_revenue, any_value(currency) as currency "
        "from orders_by_last_update group by marketplace_id order by orders desc",
    ),
    (
        "Japanese listing titles, decoded from Shift_JIS/cp932",
        "select seller_sku, item_name, price from merchant_listings "
        "where marketplace_id = 'A1VC38T7YXB528' order by seller_sku limit 3",
    ),
)


# The default demo's representative subset (fast: it is the README quickstart); `--all-types` lands every
# declared type.
DEMO_TYPES = (
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
    "GET_MERCHANT_LISTINGS_ALL_DATA",
    "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA",
    "GET_AFN_INVENTORY_DATA",
    "GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA",
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
    "GET_SALES_AND_TRAFFIC_REPORT",
    "GET_VENDOR_SALES_REPORT",
    "GET_VENDOR_INVENTORY_REPORT",
)


def all_types_settings(settings: Settings, types: tuple[str, ...] | None = None) -> Settings:
    """The demo's report types (``DEMO_TYPES``, or ``types``) for every account of a fitting kind."""
    names = tuple(n for n in (types or DEMO_TYPES) if n in REPORT_TYPES)
    accounts = tuple(a.model_copy(update={"report_types": None}) for a in settings.accounts)
    sync_ = settings.sync.model_copy(update={"report_types": names})
    return settings.model_copy(update={"accounts": accounts, "sync": sync_})


def weekly_types() -> tuple[str, ...]:
    """Types whose windows are whole Sunday-to-Saturday weeks."""
    return tuple(n for n, s in REPORT_TYPES.items() if s.grid_offset and s.windowed)


def every_type_settings(
    settings: Settings, asins: dict[str, tuple[str, ...]], types: tuple[str, ...] | None = None
) -> Settings:
    """Every declared type (or ``types``) for every account, with the options some types require
    (``asins``: a few of each account's ASINs, for Search Query Performance)."""
    base = all_types_settings(settings, types or tuple(REPORT_TYPES))
    accounts = []
    for a in base.accounts:
        opts: dict[str, dict[str, str]] = {}
        for name, spec in REPORT_TYPES.items():
            if a.type in spec.account_kinds and any(o.name == "asin" and o.required for o in spec.options):
                opts[name] = {"asin": " ".join(asins.get(a.id, ())[:2])}
        accounts.append(a.model_copy(update={"report_options": opts}))
    return base.model_copy(update={"accounts": tuple(accounts)})


def demo_asins(world: World, account_id: str) -> tuple[str, ...]:
    from splake.sandbox.catalog import products_for

    return tuple(p.asin for p in products_for(world.seed, world.account(account_id), world.scale)[:2])


def last_full_week(now: datetime) -> date:
    """Start (a Sunday) of the latest whole week every weekly type can already request."""
    lag = max((REPORT_TYPES[n].end_lag for n in weekly_types()), default=timedelta(0))
    end = (now - lag).date()
    last_sunday = end - timedelta(days=(end.weekday() + 1) % 7)  # the Sunday starting end's week
    return last_sunday - timedelta(days=7)


def demo_start(now: datetime) -> datetime:
    return (now - timedelta(days=DEMO_DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)


def row_counts_table(counts: dict[str, int]) -> Table:
    t = Table(title="curated tables")
    t.add_column("table")
    t.add_column("report type")
    t.add_column("rows", justify="right")
    by_table = {s.table: s.name for s in REPORT_TYPES.values()}
    for name, n in sorted(counts.items()):
        t.add_row(name, by_table.get(name, ""), f"{n:,}")
    return t


def run_demo(
    lake_dir: str | Path,
    *,
    seed: int = 7,
    time_scale: float = 0.01,
    accounts: tuple[str, ...] = DEMO_ACCOUNTS,
    console: Console | None = None,
    all_types: bool = False,
) -> int:
    """Run the demo (``all_types``: every declared report type, not only ``DEMO_TYPES``); returns the
    sync's exit code."""
    from splake.auth.secrets import LocalSecretStore
    from splake.sandbox import SandboxConfig, SandboxServer
    from splake.sandbox.demo import demo_settings, seed_demo_secrets

    out = console or wide_console()
    root = Path(lake_dir).expanduser().resolve()
    started = time.monotonic()
    with SandboxServer(SandboxConfig(seed=seed, time_scale=time_scale)) as sb:
        out.print(f"[bold]splake demo[/]: sandbox at {sb.url} (time_scale={time_scale}), lake in {root}")
        base = demo_settings(
            sb.url, root, accounts, world=sb.world, start_date=demo_start(datetime.now(UTC)).date()
        )
        if all_types:
            asins = {a: demo_asins(sb.world, a) for a in accounts}
            settings = every_type_settings(base, asins)
        else:
            settings = all_types_settings(base)
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(settings)), sb.world, settings)
        weekly = weekly_types() if all_types else ()
        extra_code = 0
        summary = asyncio.run(_sync(settings, out, skip=weekly))
        if weekly:  # whole Sunday-to-Saturday weeks: a second pass from the last complete week
            start = last_full_week(datetime.now(UTC))
            wsettings = settings.model_copy(
                update={"sync": settings.sync.model_copy(update={"start_date": start})}
            )
            second = asyncio.run(_sync(wsettings, out, only=weekly))
            out.print(summary_table(second))
            extra_code = second.exit_code
    _write_config(settings, root)
    cfg = root / "splake.toml"
    out.print(summary_table(summary))
    for w in warnings_of(summary):
        out.print(f"[yellow]warning[/] {w}")
    ctx = LocalContext.open(settings, client=_NoClient())
    try:
        out.print(row_counts_table(ctx.lake.table_stats()))
        engine = ctx.query_engine()
        try:
            for title, sql in SAMPLE_QUERIES:
                out.print(f'\n[bold]{title}[/]\n[dim]splake query --config {cfg} "{sql}"[/]')
                try:
                    result = engine.sql(sql)
                except Exception as exc:  # a table may be missing when its reports failed
                    out.print(f"[red]query failed:[/] {exc}")
                    continue
                t = Table()
                for name in result.column_names:
                    t.add_column(name)
                for row in result.to_pylist():
                    t.add_row(*("" if v is None else str(v) for v in row.values()))
                out.print(t)
        finally:
            engine.close()
    finally:
        ctx.state.close()  # type: ignore[attr-defined]
    out.print(
        f"\ndone in {time.monotonic() - started:.0f} s. Explore with: "
        f'splake query --config {cfg} "select * from orders_by_last_update limit 5"  ·  '
        f"splake reports status --config {cfg}"
    )
    return max(summary.exit_code, extra_code)


async def _sync(
    settings: Settings, console: Console, *, skip: tuple[str, ...] = (), only: tuple[str, ...] = ()
) -> SyncSummary:
    types = only or tuple(n for n in settings.sync.report_types if n not in skip) or None
    ctx = LocalContext.open(settings)
    try:
        with RichObserver(console) as obs:
            return await sync(settings, ctx, report_types=types, observer=obs, max_wait_seconds=600)
    finally:
        await ctx.aclose()


class _NoClient:
    """The read-only part of the demo needs no SP-API client."""

    async def call(self, *a: object, **k: object) -> object:
        raise RuntimeError("no SP-API client in read-only context")

    async def download(self, url: str, dest: str | Path) -> DownloadInfo:
        raise RuntimeError("no SP-API client in read-only context")

    async def aclose(self) -> None:
        return None


def _write_config(settings: Settings, root: Path) -> None:
    """A config file for the demo lake so `splake query/reports status --config` work on it afterwards
    (the sandbox URL is gone once the demo exits; `splake demo` starts a new one)."""
    read_only = Settings(
        lake=LakeSettings(path=root.as_posix(), namespace=settings.lake.namespace),
        lwa=LwaSettings(client_id=settings.lwa.client_id),
        accounts=settings.accounts,
    )
    header = "# written by `splake demo` (read-only use: query / reports status)\n"
    (root / "splake.toml").write_text(header + dump_config(read_only), encoding="utf-8")
