"""Fault suite: a sync against a hostile sandbox still lands every window exactly once.

The sandbox injects 10% 5xx, 5% spurious 429s (no rate-limit header), slow responses, truncated
downloads, corrupt gzip, pre-signed URLs that are already expired, one report type that always ends
FATAL, and expires every access token twice mid-run. `sync` is re-run (faults still on) until nothing is
pending. Then: the curated tables hold exactly the sandbox's ground truth (``World.report_rows``), no row
key twice, every ledger entry is final, the windows of every stream tile the backfill range without gaps,
and the FATAL type is reported as a permanent failure with its reason and exit code 1.

The run (lake directory + captured logs and console output) is shared with the secret scan in
``tests/e2e/test_security_secrets.py`` through :func:`fault_run` (computed once per test session).
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from splake.auth.secrets import LocalSecretStore
from splake.config import Settings
from splake.logs import configure_logging
from splake.reports import ledger
from splake.reports.progress import summary_table, warnings_of
from splake.reports.sync import SyncSummary, sync
from splake.reports.types import REPORT_TYPES, snake_case
from splake.runners.local import LocalContext, default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets
from splake.sandbox.ratelimit import header_rate
from splake.spapi.client import SpApiClient
from splake.spapi.ratelimit import LocalRateLimiter
from splake.spapi.usage_plans import operations

ACCOUNTS = ("seller-na", "vendor-na")
FATAL_TYPE = "GET_VENDOR_INVENTORY_REPORT"
TYPES = {
    "seller": (
        "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
        "GET_MERCHANT_LISTINGS_ALL_DATA",
        "GET_SALES_AND_TRAFFIC_REPORT",
    ),
    "vendor": ("GET_VENDOR_SALES_REPORT", FATAL_TYPE),
}
FAULTS: dict[str, Any] = {
    "error_rate": 0.10,
    "spurious_429_rate": 0.05,
    "slow_rate": 0.05,
    "slow_seconds": 0.3,
    "truncate_download_rate": 0.3,
    "corrupt_gzip_rate": 0.3,
    "presigned_expired_rate": 0.3,
    "fatal_report_types": (FATAL_TYPE,),
    # each fault kind evenly spread (seeded phase) instead of independent draws: with independent draws
    # a 5% fault was sometimes never drawn in the whole run (test_faults_were_actually_injected failed)
    "fault_schedule": "spread",
}
# sandbox fault kind (its draw counter) -> (prefix of its fault counter, rate)
FAULT_KINDS = {
    "error_5xx": ("error_5", FAULTS["error_rate"]),
    "spurious_429": ("spurious_429", FAULTS["spurious_429_rate"]),
    "slow": ("slow", FAULTS["slow_rate"]),
    "truncate_download": ("truncate_download", FAULTS["truncate_download_rate"]),
    "corrupt_gzip": ("corrupt_gzip", FAULTS["corrupt_gzip_rate"]),
    "presigned_expired": ("presigned_expired", FAULTS["presigned_expired_rate"]),
}
MAX_RUNS = 4
TIME_SCALE = 0.005


def sandbox_plan(op: str) -> tuple[float, int]:
    """The usage plan of the time-scaled sandbox (what its x-amzn-RateLimit-Limit headers announce).
    Without it, a spurious 429 on an operation's very first call (no header learnt yet) paces the next
    call at Amazon's real rate: e.g. 60 s for getReportDocument."""
    spec = operations().get(op)
    return header_rate(op, 1.0, TIME_SCALE), spec.burst if spec else 1


@dataclass
class FaultRun:
    world: Any
    settings: Settings
    summaries: list[SyncSummary]
    log_text: str
    console_text: str
    faults: dict[str, int]
    fault_draws: dict[str, int]
    issued_tokens: list[str]
    signatures: list[str]
    lake_dir: Path
    expired_at: list[float] = field(default_factory=list)


_RUN: FaultRun | None = None
_LOCK = threading.Lock()


def _settings(url: str, lake: Path, world: Any) -> Settings:
    base = demo_settings(
        url,
        lake,
        ACCOUNTS,
        world=world,
        start_date=(datetime.now(UTC) - timedelta(days=4)).date(),  # vendor data lags 72 h
        lookback_days=1,
    )
    accounts = tuple(a.model_copy(update={"report_types": TYPES[a.type]}) for a in base.accounts)
    sync_ = base.sync.model_copy(update={"poll_initial_seconds": 0.1, "poll_max_seconds": 0.5})
    spapi = base.spapi.model_copy(update={"timeout_seconds": 10.0})
    return base.model_copy(update={"accounts": accounts, "sync": sync_, "spapi": spapi})


def _issued(sb: SandboxServer) -> tuple[list[str], list[str]]:
    """Every access token the sandbox issued and every pre-signed URL signature it handed out."""
    tokens = list(sb.state.tokens._tokens)  # read-only look at the sandbox's registry
    sigs = list(sb.stats.presigned_signatures)
    return tokens, sigs


def fault_run() -> FaultRun:
    """Run (once per session) the faulty sync until nothing is pending; returns everything observed."""
    global _RUN
    with _LOCK:
        if _RUN is None:
            _RUN = _do_fault_run(Path(tempfile.mkdtemp(prefix="splake-faults-")))
        return _RUN


def _do_fault_run(root: Path) -> FaultRun:
    log_buf = io.StringIO()
    console_buf = io.StringIO()
    console = Console(file=console_buf, width=200, force_terminal=False, color_system=None)
    splake_log = logging.getLogger("splake")
    saved = (splake_log.level, list(splake_log.handlers), splake_log.propagate)
    configure_logging("DEBUG", stream=log_buf)
    # also everything the client's transport libraries log (httpx/httpcore at DEBUG), but not the sandbox's
    # own server logs (uvicorn access lines legitimately hold the URLs it was asked for)
    transport = logging.StreamHandler(log_buf)
    transport.addFilter(lambda r: not r.name.startswith(("uvicorn", "splake.sandbox")))
    root_log = logging.getLogger()
    saved_levels = {n: logging.getLogger(n).level for n in ("", "httpx", "httpcore")}
    root_log.addHandler(transport)
    for n in saved_levels:
        logging.getLogger(n).setLevel(logging.DEBUG)
    summaries: list[SyncSummary] = []
    try:
        with SandboxServer(SandboxConfig(seed=13, time_scale=TIME_SCALE, **FAULTS)) as sb:
            settings = _settings(sb.url, root / "lake", sb.world)
            seed_demo_secrets(LocalSecretStore(default_secrets_dir(settings)), sb.world, settings)
            timers = [threading.Timer(t, lambda: sb.configure(expire_tokens=True)) for t in (0.7, 1.6)]
            for t in timers:
                t.start()

            async def once() -> SyncSummary:
                secrets = LocalSecretStore(default_secrets_dir(settings))
                client = SpApiClient(settings, secrets, limiter=LocalRateLimiter(plan=sandbox_plan))
                ctx = LocalContext.open(settings, secrets=secrets, client=client)
                try:
                    return await sync(settings, ctx, max_wait_seconds=60)
                finally:
                    await ctx.aclose()

            for _ in range(MAX_RUNS):
                summary = asyncio.run(once())
                summaries.append(summary)
                console.print(summary_table(summary))
                for w in warnings_of(summary):
                    console.print(f"warning {w}")
                if not any(s.pending for s in summary.streams.values()):
                    break
            for t in timers:
                t.cancel()
            tokens, sigs = _issued(sb)
            faults = dict(sb.stats.faults)
            draws = dict(sb.stats.fault_draws)
            world = sb.world
    finally:
        root_log.removeHandler(transport)
        for n, level in saved_levels.items():
            logging.getLogger(n).setLevel(level)
        for h in list(splake_log.handlers):
            splake_log.removeHandler(h)
        for h in saved[1]:
            splake_log.addHandler(h)
        splake_log.setLevel(saved[0])
        splake_log.propagate = saved[2]
    return FaultRun(
        world=world,
        settings=settings,
        summaries=summaries,
        log_text=log_buf.getvalue(),
        console_text=console_buf.getvalue(),
        faults=faults,
        fault_draws=draws,
        issued_tokens=tokens,
        signatures=sigs,
        lake_dir=root / "lake",
    )


# --- ground truth -------------------------------------------------------------------------------------


def _expected_rows(world: Any, e: ledger.LedgerEntry, spid: str) -> list[dict[str, Any]]:
    spec = REPORT_TYPES[e.unit.report_type]
    assert e.created_time is not None, e.key
    w = e.unit.window
    if w.start is None:
        start = end = e.created_time
    else:
        start, end = w.start, w.end - timedelta(seconds=1) if spec.end_inclusive else w.end
    return world.report_rows(
        e.unit.report_type,
        spid,
        list(e.unit.marketplace_ids),
        start,
        end,
        dict(e.unit.options),
        as_of=e.created_time,
    )


def _open(run: FaultRun) -> LocalContext:
    return LocalContext.open(run.settings)


def test_faults_were_actually_injected() -> None:
    run = fault_run()
    for kind, (prefix, rate) in FAULT_KINDS.items():
        draws = run.fault_draws.get(kind, 0)
        injected = sum(n for k, n in run.faults.items() if k.startswith(prefix))
        # enough eligible requests that the spread schedule must have injected the fault ...
        assert draws >= math.ceil(1 / rate), (kind, run.fault_draws)
        # ... and it did, at its rate: of n eligible requests, floor(n * rate) or one more
        assert math.floor(draws * rate) <= injected <= math.floor(draws * rate) + 1, (kind, draws, run.faults)
    assert run.faults.get("expire_tokens", 0) >= 1, run.faults


def test_permanent_failure_reported_with_reason_and_exit_code() -> None:
    run = fault_run()
    first = run.summaries[0]
    assert first.exit_code == 1
    fatal = [f for f in first.failures if f[1] == FATAL_TYPE]
    assert fatal, first.failures
    assert all("FATAL" in text and text.split("FATAL", 1)[1].strip(": ") for _, _, text in fatal)
    # nothing but the always-FATAL type failed permanently in any run (every other fault is transient)
    others = [f for s in run.summaries for f in s.failures if f[1] != FATAL_TYPE]
    assert others == []
    # the last run has nothing pending: everything that can land, landed
    assert not any(s.pending for s in run.summaries[-1].streams.values()), [
        (k, s.warnings) for k, s in run.summaries[-1].streams.items() if s.pending
    ]
    assert REPORT_TYPES[FATAL_TYPE].table in run.console_text and "FATAL" in run.console_text


def test_every_ledger_entry_is_final() -> None:
    run = fault_run()
    ctx = _open(run)
    try:
        entries = ledger.entries(ctx.state)
    finally:
        ctx.state.close()  # type: ignore[attr-defined]
    bad = [
        (e.key, e.status)
        for e in entries
        if e.status not in ("INGESTED", "CANCELLED") and not (e.unit.report_type == FATAL_TYPE)
    ]
    assert bad == []
    fatal = [e for e in entries if e.unit.report_type == FATAL_TYPE]
    assert fatal and all(e.status == "FATAL" and e.reason for e in fatal)


def test_windows_tile_the_backfill_range() -> None:
    run = fault_run()
    ctx = _open(run)
    try:
        entries = [e for e in ledger.entries(ctx.state) if e.status == "INGESTED" and e.unit.window.start]
    finally:
        ctx.state.close()  # type: ignore[attr-defined]
    start = datetime.combine(run.settings.sync.start_date, datetime.min.time(), tzinfo=UTC)  # type: ignore[arg-type]
    streams: dict[tuple[str, str, tuple[str, ...]], list[Any]] = {}
    for e in entries:
        streams.setdefault((e.account_id, e.unit.report_type, e.unit.marketplace_ids), []).append(
            e.unit.window
        )
    expected_streams = {
        (a.id, t, (m,))
        for a in run.settings.accounts
        for t in (a.report_types or ())
        if t != FATAL_TYPE and REPORT_TYPES[t].windowed
        for m in a.marketplaces
    }
    assert {k for k in streams if k[1] != FATAL_TYPE} >= {
        k for k in expected_streams if any(k[0] == s[0] and k[1] == s[1] for s in streams)
    }
    assert {(k[0], k[1]) for k in streams} == {(k[0], k[1]) for k in expected_streams}
    for key, windows in streams.items():
        windows.sort()
        assert windows[0].start <= start, (key, windows[0])
        reach = windows[0].end
        for w in windows[1:]:
            assert w.start <= reach, f"gap in {key}: nothing covers {reach}..{w.start}"
            reach = max(reach, w.end)
        spec = REPORT_TYPES[key[1]]
        assert reach >= datetime.now(UTC) - spec.end_lag - max(spec.granularity, timedelta(days=1)), (
            key,
            reach,
        )


def test_lake_equals_ground_truth_exactly_once() -> None:
    run = fault_run()
    ctx = _open(run)
    spid = {a.id: a.selling_partner_id for a in run.settings.accounts}
    try:
        entries = [e for e in ledger.entries(ctx.state) if e.status == "INGESTED"]
        # snapshot tables hold only the latest landed snapshot of each stream
        latest: dict[tuple[str, str, tuple[str, ...]], ledger.LedgerEntry] = {}
        for e in entries:
            if e.unit.window.start is None:
                k = (e.account_id, e.unit.report_type, e.unit.marketplace_ids)
                if k not in latest or e.unit.window.end > latest[k].unit.window.end:
                    latest[k] = e
        entries = [e for e in entries if e.unit.window.start is not None or e in latest.values()]
        expected: dict[str, Counter[tuple[Any, ...]]] = {}
        json_counts: Counter[str] = Counter()
        for e in entries:
            spec = REPORT_TYPES[e.unit.report_type]
            rows = _expected_rows(run.world, e, spid[e.account_id])
            assert e.rows + e.quarantined == len(rows), e.key
            assert e.quarantined == 0, e.key
            if spec.format != "tsv":
                json_counts[spec.table] += len(rows)
                continue
            seen: Counter[tuple[Any, ...]] = Counter()
            for r in rows:
                by_snake = {snake_case(k): v for k, v in r.items()}
                k = (
                    e.account_id,
                    e.unit.marketplace_ids[0],
                    *((by_snake.get(c) or None) for c in spec.key_columns),
                )
                seen[k] += 1
            table = expected.setdefault(spec.table, Counter())
            for k, n in seen.items():  # overlapping documents: the lake keeps one row per key occurrence
                table[k] = max(table[k], n)
        engine = ctx.query_engine()
        try:
            for table, want in expected.items():
                spec = next(s for s in REPORT_TYPES.values() if s.table == table)
                cols = ", ".join(("account_id", "marketplace_id", *spec.key_columns))
                got_rows = engine.sql(f"select {cols} from {table}").to_pylist()
                got = Counter(
                    tuple(
                        (str(v) if v is not None and not isinstance(v, str) else v) or None
                        for v in r.values()
                    )
                    for r in got_rows
                )
                want_norm = Counter(
                    {tuple((str(v) if v is not None else None) for v in k): n for k, n in want.items()}
                )
                assert got == want_norm, table
            for table, n in json_counts.items():
                assert engine.sql(f"select count(*) as n from {table}").column("n")[0].as_py() == n, table
            for table in {*expected, *json_counts}:
                d = engine.sql(f"select count(*) - count(distinct row_key) as d from {table}").column("d")[0]
                assert d.as_py() == 0, f"duplicate row keys in {table}"
        finally:
            engine.close()
    finally:
        ctx.state.close()  # type: ignore[attr-defined]
