"""`splake notifications …`: set up SP-API notifications and consume them from the queue."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer

from splake.config import load_config

notifications_app = typer.Typer(
    help="SP-API notifications: setup and the queue consumer.", no_args_is_help=True
)

ConfigOpt = typer.Option(Path("splake.toml"), "--config", "-c", help="config file")


@notifications_app.command("setup")
def setup(
    create_queue: str | None = typer.Option(
        None, help="create this SQS queue (+ DLQ, redrive, SP-API policy) first"
    ),
    config: Path = ConfigOpt,
) -> None:
    """Create the SQS + EventBridge destinations (grantless) and subscribe every seller account."""
    from splake.notifications.setup import setup_notifications
    from splake.notifications.sqs import ensure_queue
    from splake.runners.local import LocalContext

    settings = load_config(config)
    n = settings.notifications
    if create_queue:
        info = ensure_queue(create_queue, region=n.aws_region, endpoint_url=n.aws_endpoint_url)
        typer.echo(f"queue_url = {info.url!r}\nqueue_arn = {info.arn!r}\ndlq_url = {info.dlq_url!r}")
        settings = settings.model_copy(
            update={"notifications": n.model_copy(update={"queue_url": info.url, "queue_arn": info.arn})}
        )
    ctx = LocalContext.open(settings)

    async def run() -> None:
        try:
            res = await setup_notifications(ctx.client, settings)  # type: ignore[arg-type]
            typer.echo(
                json.dumps(
                    {
                        "destinations": res.destinations,
                        "subscriptions": res.subscriptions,
                        "created": res.created,
                    }
                )
            )
        finally:
            await ctx.aclose()

    asyncio.run(run())


@notifications_app.command("consume")
def consume_cmd(
    max_messages: int = typer.Option(100, "--max", help="stop after this many messages"),
    wait: float = typer.Option(20.0, help="long-poll seconds per receive"),
    config: Path = ConfigOpt,
) -> None:
    """Read the queue (long polling), apply notifications, delete them once durable."""
    from splake.notifications.consumer import consume
    from splake.notifications.sqs import open_queue
    from splake.runners.local import LocalContext

    settings = load_config(config)
    ctx = LocalContext.open(settings)

    async def run() -> dict[str, object]:
        try:
            return (await consume(ctx, open_queue(settings), max_messages, wait_seconds=wait)).as_dict()
        finally:
            await ctx.aclose()

    typer.echo(json.dumps(asyncio.run(run())))


@notifications_app.command("sync")
def sync_cmd(
    account: list[str] = typer.Option([], "--account", "-a", help="default: every account"),
    wait: float = typer.Option(
        600.0, help="seconds to wait for notifications before falling back to polling"
    ),
    config: Path = ConfigOpt,
) -> None:
    """Report sync, notification-first: sellers finish by REPORT_PROCESSING_FINISHED, others by polling."""
    from splake.notifications.local import sync_with_notifications
    from splake.notifications.sqs import open_queue
    from splake.runners.local import LocalContext

    settings = load_config(config)
    ctx = LocalContext.open(settings)

    async def run() -> dict[str, object]:
        try:
            res = await sync_with_notifications(
                settings, ctx, open_queue(settings), accounts=account or None, wait_seconds=wait
            )
            return {
                "requested": res.requested,
                "completed_by_notification": res.completed_by_notification,
                "rows": res.summary.rows,
                "exit_code": res.summary.exit_code,
            }
        finally:
            await ctx.aclose()

    out = asyncio.run(run())
    typer.echo(json.dumps(out))
    raise typer.Exit(int(str(out["exit_code"])))


def register(app: typer.Typer) -> None:
    """Add this group's commands to the root app."""
    app.add_typer(notifications_app, name="notifications")
