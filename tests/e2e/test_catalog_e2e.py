"""End to end, every catalog report type (flat file, XML, JSON; seller and vendor) in one sandbox sync:
each lands in its own curated table with exactly the sandbox's ground-truth rows, nothing quarantined and
no column the declaration lacks. One module-scoped sync (time_scale 0.005, a short window) serves every
parametrised check; weekly (Sunday-to-Saturday) types get a second pass from the last complete week."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from splake.auth.secrets import LocalSecretStore
from splake.lake.tables import PROVENANCE_COLUMNS
from splake.reports import ledger
from splake.reports.catalog import catalog_specs
from splake.reports.sync import SyncSummary, sync
from splake.reports.types import REPORT_TYPES
from splake.runners.demo import demo_asins, every_type_settings, last_full_week, weekly_types
from splake.runners.local import LocalContext, default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets

US = "ATVPDKIKX0DER"
CATALOG = tuple(s.name for s in catalog_specs())
WEEKLY = weekly_types()


@dataclass(frozen=True)
class Landed:
    world: Any
    settings: Any
    summaries: tuple[SyncSummary, ...]
    entries: list[ledger.LedgerEntry]  # the catalog types' ledger entries
    stats: dict[str, int]  # table -> rows
    columns: dict[str, set[str]]  # table -> column names
    elapsed: float


def _expected_rows(world: Any, e: ledger.LedgerEntry, spid: str) -> list[dict[str, Any]]:
    spec = REPORT_TYPES[e.unit.report_type]
    assert e.created_time is not None
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


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Landed]:
    root = tmp_path_factory.mktemp("catalog")
    with SandboxServer(SandboxConfig(seed=11, time_scale=0.005)) as sb:
        now = datetime.now(UTC)
        base = demo_settings(
            sb.url,
            root,
            ("seller-na", "vendor-na"),
            world=sb.world,
            start_date=(now - timedelta(days=4)).date(),
            lookback_days=0,
        )
        # one marketplace keeps the run short: the layouts, not the marketplaces, are under test here
        base = base.model_copy(
            update={"accounts": tuple(a.model_copy(update={"marketplaces": (US,)}) for a in base.accounts)}
        )
        asins = {a: demo_asins(sb.world, a) for a in ("seller-na", "vendor-na")}
        settings = every_type_settings(base, asins, CATALOG)
        weekly = settings.model_copy(
            update={"sync": settings.sync.model_copy(update={"start_date": last_full_week(now)})}
        )
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(settings)), sb.world, settings)

        async def run(s: Any, types: tuple[str, ...]) -> SyncSummary:
            ctx = LocalContext.open(s)
            try:
                return await sync(s, ctx, report_types=types, max_wait_seconds=240)
            finally:
                await ctx.aclose()

        started = time.monotonic()
        first = asyncio.run(run(settings, tuple(n for n in CATALOG if n not in WEEKLY)))
        second = asyncio.run(run(weekly, WEEKLY))
        elapsed = time.monotonic() - started
        ctx = LocalContext.open(settings)
        try:
            entries = [e for e in ledger.entries(ctx.state) if e.unit.report_type in CATALOG]
            stats = ctx.lake.table_stats()
            engine = ctx.query_engine()
            try:
                columns = {
                    REPORT_TYPES[n].table: set(
                        engine.sql(f"select * from {REPORT_TYPES[n].table} limit 0").column_names
                    )
                    for n in CATALOG
                    if REPORT_TYPES[n].table in stats
                }
            finally:
                engine.close()
        finally:
            ctx.state.close()
        yield Landed(sb.world, settings, (first, second), entries, stats, columns, elapsed)


def test_the_catalog_syncs_without_failures(landed: Landed) -> None:
    print(f"catalog sync: {len(CATALOG)} types in {landed.elapsed:.1f} s")
    for s in landed.summaries:
        assert s.failures == []
    assert landed.entries and all(e.status == "INGESTED" for e in landed.entries), [
        (e.key, e.status, e.reason) for e in landed.entries if e.status != "INGESTED"
    ]
    assert all(e.quarantined == 0 for e in landed.entries)


@pytest.mark.parametrize("name", CATALOG)
def test_type_lands_its_ground_truth(landed: Landed, name: str) -> None:
    spec = REPORT_TYPES[name]
    spid = {a.id: a.selling_partner_id for a in landed.settings.accounts}
    entries = [e for e in landed.entries if e.unit.report_type == name and e.status == "INGESTED"]
    assert entries, f"{name}: no report landed"
    expected = 0
    for e in entries:
        rows = _expected_rows(landed.world, e, spid[e.account_id])
        assert len(rows) == e.rows, e.key
        expected += len(rows)
    assert expected > 0, f"{name}: the sandbox served no rows"
    assert landed.stats.get(spec.table, 0) == expected


@pytest.mark.parametrize("name", CATALOG)
def test_table_has_only_declared_columns(landed: Landed, name: str) -> None:
    spec = REPORT_TYPES[name]
    cols = landed.columns[spec.table]
    declared = {c.column for c in spec.columns} | set(PROVENANCE_COLUMNS) | {"section"}
    assert cols - declared == set(), f"{name}: undeclared columns landed"
    assert {c.column for c in spec.columns} <= cols
