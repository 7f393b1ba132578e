"""Lambda handlers: thin. Parse the event, call the pipeline step, map errors to the stable names of
:mod:`splake.runners.aws.errors` (for Step Functions ``Retry``/``Catch``).

Entry points (``Handler`` in the stack): ``splake.runners.aws.handlers.<step>`` for every step in
:data:`STEPS`, plus :func:`notifications` (SQS event source). The per-unit state passed between the sync
steps is a plain dict: ``{"unit", "account_id", "key", "report_id", "status", "notify", "wait_seconds",
"notify_timeout_seconds", "options"}``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from splake.config import Settings
from splake.errors import BadDataError, FatalError, RetryableError
from splake.logs import configure_logging, get_logger, log_event
from splake.reports import cursors, ledger, pipeline
from splake.reports.ledger import LedgerEntry
from splake.reports.planner import Window, WorkUnit
from splake.runners.aws import fanout
from splake.runners.aws.consumer import (  # the notifications entry point and its pieces live there
    WAITERS,
    EventBatchQueue,
    handle_notifications,
    notifications,
    release_waiter,
)
from splake.runners.aws.errors import as_step_error, error_name
from splake.runners.aws.runtime import Runtime, open_context
from splake.runners.context import Context

log = get_logger(__name__)

__all__ = [
    "ALL_STEPS",
    "WAITERS",
    "EventBatchQueue",
    "handle_notifications",
    "notifications",
    "release_waiter",
    "run_step",
]

WAITING = frozenset({"NEW", "IN_QUEUE", "IN_PROGRESS"})
ITEMS_CURSORS = "items_chunks"  # StateStore namespace: (account|marketplace, chunk) -> last landed run

Step = Callable[[Context, dict[str, Any], Runtime], Awaitable[dict[str, Any]]]


# --- pure helpers ---------------------------------------------------------------------------------------


def wait_seconds(entry: LedgerEntry, now: datetime, settings: Settings) -> int:
    """Seconds the state machine waits before the next poll (Wait ``SecondsPath`` wants an integer)."""
    if entry.next_check_at is not None:
        delay = (entry.next_check_at - now).total_seconds()
    else:
        delay = settings.sync.poll_initial_seconds
    return max(0, min(math.ceil(delay), math.ceil(settings.sync.poll_max_seconds)))


def notifies(settings: Settings, account_id: str) -> bool:
    """Sellers with notifications enabled get REPORT_PROCESSING_FINISHED; vendors are polled."""
    return settings.notifications.enabled and settings.account(account_id).type == "seller"


def unit_state(
    entry: LedgerEntry,
    now: datetime,
    settings: Settings,
    runtime: Runtime,
    *,
    action: str,
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        **extra,
        "unit": entry.unit.to_dict(),
        "account_id": entry.account_id,
        "key": entry.key,
        "report_id": entry.report_id,
        "status": entry.status,
        "action": action,
        "notify": notifies(settings, entry.account_id),
        "wait_seconds": wait_seconds(entry, now, settings),
        "notify_timeout_seconds": runtime.notify_timeout_seconds,
        "polls": entry.polls,
        "rows": entry.rows,
        "fatal_new": False,
    }


def _load_entry(ctx: Context, event: Mapping[str, Any]) -> LedgerEntry:
    entry = ledger.load(ctx.state, str(event["account_id"]), str(event["key"]))
    if entry is None:
        raise BadDataError(
            f"no ledger entry {event['key']} for account {event['account_id']}",
            where="splake.runners.aws.handlers",
            hint="the state table was reset while an execution ran; start a new execution",
        )
    return entry


# --- steps ----------------------------------------------------------------------------------------------


def _planned(
    ctx: Context, runtime: Runtime, event: Mapping[str, Any], kind: str, units: list[Any]
) -> dict[str, Any]:
    """Write the units for the Distributed Map's ItemReader; return the (small) pointer."""
    now = ctx.clock()
    execution = event.get("execution_id")
    pointer = fanout.write_plan(ctx.objects, runtime.bucket, kind, execution, now, units)
    log_event(log, "aws_planned", kind=kind, units=len(units), bytes=pointer["bytes"])
    options: dict[str, Any] = {"started_at": now.isoformat()}
    pin = runtime.settings_store().pin()
    if pin is not None:  # the units' steps load this settings version: no Parameter Store call per unit
        options["settings"] = pin
    return {"skip": False, "units": len(units), "plan": pointer, "options": options}


def _overlap(runtime: Runtime, event: Mapping[str, Any]) -> dict[str, Any] | None:
    """The running-execution guard: skip this run while an older execution of the machine still runs."""
    execution = event.get("execution_id")
    if not execution:
        return None
    sfn = runtime.client("stepfunctions")
    older = fanout.overlapping(
        fanout.running_executions(sfn, fanout.state_machine_arn(str(execution))), str(execution)
    )
    if older is None:
        return None
    log_event(log, "aws_run_skipped", reason="overlapping", running=older)
    return {"skip": True, "units": 0, "running": older}


def _input(event: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = event.get("input")
    return inner if isinstance(inner, Mapping) else event


async def step_plan(ctx: Context, event: dict[str, Any], runtime: Runtime) -> dict[str, Any]:
    skip = await asyncio.to_thread(_overlap, runtime, event)
    if skip is not None:
        return skip
    now = ctx.clock()
    args = _input(event)
    accounts = tuple(args.get("accounts") or ()) or None
    types = tuple(args.get("report_types") or ()) or None
    units = pipeline.plan(ctx, now, accounts=accounts, report_types=types)
    keys = {(u.account_id, u.key) for u in units}
    for e in pipeline.unfinished_entries(ctx, accounts):
        if (
            e.unit.kind == "request"
            and (e.account_id, e.key) not in keys
            and (not types or e.unit.report_type in types)
        ):
            units.append(e.unit)
            keys.add((e.account_id, e.key))
    log_event(log, "aws_sync_planned", units=len(units))
    return _planned(ctx, runtime, event, "sync", [u.to_dict() for u in units])


async def step_request(ctx: Context, event: dict[str, Any], runtime: Runtime) -> dict[str, Any]:
    unit = WorkUnit.from_dict(event["unit"])
    now = ctx.clock()
    extra = {"options": event.get("options") or {}}
    if unit.kind == "discover":
        todo = await pipeline.discover(ctx, unit, now)
        rows = 0
        held: list[str] = []
        for entry in todo:
            res = await pipeline.ingest(ctx, entry)
            rows += res.rows
            if res.entry.status == "HELD":
                held.append(f"report {res.entry.report_id} HELD: {res.reason}")
        cursors.advance(
            ctx.state, unit.account_id, unit.stream, unit.window.start,
            Window(unit.window.start or unit.window.end, unit.window.end),
        )  # fmt: skip
        return {
            **extra,
            "unit": unit.to_dict(),
            "status": "LANDED",
            "reports": len(todo),
            "rows": rows,
            "fatal_new": bool(held),
            **({"error": {"Error": "DocumentHeld", "Cause": "; ".join(held)[:2000]}} if held else {}),
        }
    out = await pipeline.request(ctx, unit, now)
    return unit_state(out.entry, now, ctx.settings, runtime, action=out.action, extra=extra)


async def step_check(ctx: Context, event: dict[str, Any], runtime: Runtime) -> dict[str, Any]:
    entry = _load_entry(ctx, event)
    before = entry.status
    now = ctx.clock()
    entry = await pipeline.check(ctx, entry, now)
    state = unit_state(entry, ctx.clock(), ctx.settings, runtime, action="checked", extra=_carry(event))
    state["fatal_new"] = entry.status == "FATAL" and before != "FATAL"
    # checks of this unit in this execution (the state machine defers the unit after Timing.max_polls)
    state["run_polls"] = int(event.get("run_polls") or 0) + 1
    return state


async def step_ingest(ctx: Context, event: dict[str, Any], runtime: Runtime) -> dict[str, Any]:
    entry = _load_entry(ctx, event)
    try:
        res = await pipeline.ingest(ctx, entry)
    except FatalError as exc:
        pipeline.record_ingest_failure(ctx, entry, exc.message)
        raise
    held = res.entry.status == "HELD"  # too many rows unreadable: nothing landed; counts as a failure
    return {
        **_carry(event),
        "status": res.entry.status,
        "rows": res.rows,
        "quarantined": res.quarantined,
        "raw_key": res.raw_key,
        "skipped": res.skipped,
        "fatal_new": held,
        **({"error": {"Error": "DocumentHeld", "Cause": res.reason}} if held else {}),
    }


def _carry(event: Mapping[str, Any]) -> dict[str, Any]:
    keep = (
        "unit",
        "account_id",
        "key",
        "report_id",
        "options",
        "notify",
        "notify_timeout_seconds",
        "action",
        "run_polls",
    )
    return {k: event[k] for k in keep if k in event}


def step_await_report(event: dict[str, Any], runtime: Runtime) -> dict[str, Any]:
    """Register the Step Functions task token for the report; the notifications consumer completes it.
    If the report already finished (the notification came first), complete it right away."""
    token = str(event["task_token"])
    unit = event["unit"]
    report_id = str(unit["report_id"])
    state = runtime.state()
    waiter = {"task_token": token, "account_id": unit["account_id"], "key": unit["key"]}
    state.put(WAITERS, report_id, "-", waiter)
    entry = ledger.load(state, str(unit["account_id"]), str(unit["key"]))
    if entry is not None and entry.status not in WAITING:
        release_waiter(state, runtime, report_id, entry.status)
    return {"registered": report_id}


def step_summarize(event: dict[str, Any], runtime: Runtime) -> dict[str, Any]:
    """Count the units' outcomes from the fan-out's ResultWriter files (or an inline result list)."""
    s3 = runtime.client("s3")

    def get_json(bucket: str, key: str) -> Any:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    counts: dict[str, int] = {}
    failed: list[dict[str, Any]] = []
    rows = units = 0
    for r in fanout.unit_results(event.get("results"), get_json):
        units += 1
        status = str(r.get("status") or r.get("outcome"))
        if r.get("outcome") == "deferred":
            status = "DEFERRED"
        counts[status] = counts.get(status, 0) + 1
        rows += int(r.get("rows") or 0)
        if r.get("outcome") == "failed" or r.get("fatal_new"):
            err = r.get("error") or {}
            failed.append(
                {"unit": r.get("unit"), "error": err.get("Error"), "cause": str(err.get("Cause"))[:500]}
            )
    planned = event.get("planned")
    summary = {
        "units": units,
        "planned": planned if planned is not None else units,
        "by_status": counts,
        "rows": rows,
        "failed": len(failed),
        "failures": failed[:20],
    }
    log_event(log, "aws_sync_summary", units=units, by_status=counts, rows=rows, failed=len(failed))
    return summary


async def step_items_plan(ctx: Context, event: dict[str, Any], runtime: Runtime) -> dict[str, Any]:
    """One unit per chunk of each (account, marketplace) with tracked items (catalog/listings refresh):
    a big catalog lands piece by piece, each chunk well within one invocation."""
    from splake.items.chunks import DEFAULT_CHUNK, chunk_count
    from splake.items.registry import Registry
    from splake.items.sync import plan_work

    skip = await asyncio.to_thread(_overlap, runtime, event)
    if skip is not None:
        return skip
    wanted = set(_input(event).get("accounts") or ())
    accounts = [a for a in ctx.settings.accounts if not wanted or a.id in wanted]
    work = await asyncio.to_thread(plan_work, Registry(ctx.state), accounts)
    size = int(_input(event).get("chunk_size") or DEFAULT_CHUNK)
    units = [
        {"account_id": w.account.id, "marketplace_id": w.marketplace_id, "chunk": k, "chunk_size": size}
        for w in work
        for k in range(chunk_count(w, size))
    ]
    return _planned(ctx, runtime, event, "items", units)


async def step_items_refresh(ctx: Context, event: dict[str, Any], runtime: Runtime) -> dict[str, Any]:
    """Fetch and land catalog + listings for one chunk of one (account, marketplace). A chunk already
    landed by this execution (its cursor names this run: Step Functions retried after the landing) is not
    fetched again."""
    from splake.items.sync import sync_items

    unit = event["unit"]
    run = str((event.get("options") or {}).get("started_at") or "")
    chunk = (int(unit.get("chunk", 0)), int(unit.get("chunk_size") or 10**9))
    cursor_pk, cursor_sk = f"{unit['account_id']}|{unit['marketplace_id']}", f"{chunk[0]:06d}"
    done = ctx.state.get(ITEMS_CURSORS, cursor_pk, cursor_sk)
    if run and done is not None and done.get("run") == run:
        rows = int(done.get("rows") or 0)
        return {"unit": unit, "status": "REFRESHED", "rows": rows, "fatal_new": False, "resumed": True}
    summary = await sync_items(
        ctx, account_ids=[unit["account_id"]], marketplace_ids=[unit["marketplace_id"]], chunk=chunk
    )
    if summary.failures and not (summary.catalog_items or summary.listings_found):
        # every call failed: not retried by the state machine when none of them can succeed on a retry
        # (e.g. the seller revoked the app: LWA invalid_grant), retried otherwise
        error = FatalError if len(summary.fatal) == len(summary.failures) else RetryableError
        raise error(
            f"every catalog/listings call failed for {unit['account_id']}/{unit['marketplace_id']}",
            where="items_refresh",
            hint=summary.failures[0],
        )
    rows = summary.catalog_items + summary.listings_found
    ctx.state.put(
        ITEMS_CURSORS,
        cursor_pk,
        cursor_sk,
        {
            "run": run,
            "rows": rows,
            "refreshed_at": ctx.clock().isoformat(),
            "failures": len(summary.failures),
        },
    )
    return {"unit": unit, "status": "REFRESHED", "rows": rows, "fatal_new": False, **summary.as_dict()}


async def step_maintain(ctx: Context, event: dict[str, Any], runtime: Runtime) -> dict[str, Any]:
    """The lake's maintenance (a daily schedule): finish grouped commits killed Lambdas left, compact each
    curated table's small files (under the table's commit lease), then expire snapshots older than
    ``expire_days`` (default 7; the last ``retain_last``, default 5, are kept) and delete the files only
    they referenced."""
    now = ctx.clock()
    days = int(event.get("expire_days", 7))
    retain = int(event.get("retain_last", 5))
    compacted: dict[str, int] = {}
    names = await asyncio.to_thread(ctx.lake.table_names)
    # grouped-commit records left by killed Lambdas of tables that landed nothing since (one query each)
    await ctx.committer().recover(names)
    for name in names:
        async with ctx.lock(f"table:{name}"):
            compacted[name] = await asyncio.to_thread(ctx.lake.compact, name)
    deleted = await asyncio.to_thread(
        functools.partial(ctx.lake.expire_snapshots, now - timedelta(days=days), retain_last=retain)
    )
    log_event(log, "aws_lake_maintained", tables=len(compacted), files_compacted=sum(compacted.values()))
    return {
        "tables": len(compacted),
        "files_compacted": sum(compacted.values()),
        "files_deleted": sum(deleted.values()),
    }


# Steps that run the pipeline (a full context: SP-API client, lake, state) …
STEPS: dict[str, Step] = {
    "plan": step_plan,
    "request": step_request,
    "check": step_check,
    "ingest": step_ingest,
    "items_plan": step_items_plan,
    "items_refresh": step_items_refresh,
    "maintain": step_maintain,
}
# Steps whose function role has no lake (Glue/S3 warehouse) access: their context never opens the catalog.
NO_LAKE_STEPS = frozenset({"plan", "check", "items_plan"})
# … and bookkeeping steps that need only the state table (no settings, client or catalog to open).
LIGHT_STEPS: dict[str, Callable[[dict[str, Any], Runtime], dict[str, Any]]] = {
    "await_report": step_await_report,
    "summarize": step_summarize,
}
ALL_STEPS = (*STEPS, *LIGHT_STEPS)


# --- the Lambda runtime glue ------------------------------------------------------------------------------


def run_step(
    name: str,
    event: dict[str, Any],
    env: Mapping[str, str] | None = None,
    *,
    rate_plan: Callable[[str], tuple[float, int]] | None = None,
) -> dict[str, Any]:
    """Run one step with a fresh context; raise only stable step errors. ``rate_plan``: the usage plan
    the shared rate limiter starts from (default: the official models)."""
    try:
        runtime = Runtime.from_env(env, rate_plan=rate_plan)
        if name in LIGHT_STEPS:
            return LIGHT_STEPS[name](event, runtime)
        step = STEPS[name]

        options = event.get("options")
        pin = options.get("settings") if isinstance(options, Mapping) else None
        settings = runtime.settings(pin) if isinstance(pin, Mapping) else None

        async def go() -> dict[str, Any]:
            ctx = open_context(runtime, settings, lake_for=name if name in NO_LAKE_STEPS else None)
            try:
                return await step(ctx, event, runtime)
            finally:
                await ctx.aclose()

        return asyncio.run(go())
    except Exception as exc:
        log_event(log, "step_failed", step=name, error=error_name(exc), message=str(exc)[:1000])
        raise as_step_error(exc) from exc


def _entry(name: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        configure_logging()
        return run_step(name, event)

    handler.__name__ = name
    return handler


plan = _entry("plan")
request = _entry("request")
await_report = _entry("await_report")
check = _entry("check")
ingest = _entry("ingest")
summarize = _entry("summarize")
items_plan = _entry("items_plan")
items_refresh = _entry("items_refresh")
maintain = _entry("maintain")


def utcnow() -> datetime:
    return datetime.now(UTC)
