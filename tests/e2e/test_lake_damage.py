"""One damaged table fails only itself: deleting a table's current metadata or one of its data files
leaves every other table queryable, the dashboard's other marts, filters and exports working; the health
page, `reports status` and `splake sync` (exit 1) name the damaged table; `splake lake check` says what is
missing and `splake lake rebuild` restores the table from the raw zone with identical row keys."""

from __future__ import annotations

import asyncio
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from splake.auth.secrets import LocalSecretStore
from splake.cli import app
from splake.config import LakeSettings, Settings, dump_config
from splake.insights.runner import Filters
from splake.insights.wiring import open_insights
from splake.lake.catalog import open_local_catalog
from splake.lake.damage import TableDamagedError
from splake.lake.query import QueryEngine
from splake.reports.sync import sync
from splake.runners.local import LocalContext, default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets

TYPES = (
    "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
    "GET_MERCHANT_LISTINGS_ALL_DATA",
    "GET_SALES_AND_TRAFFIC_REPORT",
)
DAMAGED = "sales_and_traffic"


def _keys(root: Path) -> dict[str, list[str]]:
    with QueryEngine(open_local_catalog(root), "spapi") as q:
        return {t: sorted(q.sql(f"select row_key from {t}").column(0).to_pylist()) for t in q.tables()}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("pristine") / "lake"
    with SandboxServer(SandboxConfig(seed=11, time_scale=0.002)) as sb:
        base = demo_settings(
            sb.url,
            root,
            ("seller-jp",),
            world=sb.world,
            start_date=(datetime.now(UTC) - timedelta(days=2)).date(),
        )
        s = base.model_copy(
            update={"accounts": tuple(a.model_copy(update={"report_types": TYPES}) for a in base.accounts)}
        )
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)

        async def run() -> Any:
            ctx = LocalContext.open(s)
            try:
                return await sync(s, ctx, max_wait_seconds=60)
            finally:
                await ctx.aclose()

        assert asyncio.run(run()).failures == []
        keys = _keys(root)
        assert {"orders_by_last_update", "merchant_listings", DAMAGED} <= set(keys)
        assert all(keys.values())
        yield s, keys


def _damage(root: Path, how: str) -> str:
    tdir = next(p for p in (root / "warehouse").rglob(DAMAGED) if p.is_dir())
    if how == "metadata":
        victim = max((tdir / "metadata").glob("*.metadata.json"), key=lambda p: p.stat().st_mtime_ns)
    else:
        victim = next(p for p in (tdir / "data").rglob("*.parquet"))
    victim.unlink()
    return victim.name


@pytest.mark.parametrize("how", ["metadata", "datafile"])
def test_damaged_table_fails_only_itself_and_rebuilds(pristine, tmp_path: Path, how: str) -> None:  # type: ignore[no-untyped-def]
    s0, keys = pristine
    root = tmp_path / "lake"
    shutil.copytree(Path(s0.lake.path), root, symlinks=True)
    s: Settings = s0.model_copy(update={"lake": LakeSettings(path=str(root))})
    cfg = tmp_path / "splake.toml"
    cfg.write_text(dump_config(s))
    os.environ.pop("SPLAKE_SECRETS_DIR", None)
    victim = _damage(root, how)

    # queries: the other tables answer with exactly their rows; the damaged one says so plainly
    with QueryEngine(open_local_catalog(root), "spapi") as q:
        for t in keys:
            if t != DAMAGED:
                assert sorted(q.sql(f"select row_key from {t}").column(0).to_pylist()) == keys[t]
        with pytest.raises(TableDamagedError) as err:
            q.sql(f"select count(*) from {DAMAGED}")
        assert "lake rebuild --table sales_and_traffic" in err.value.render()
        assert q.damaged().keys() == {DAMAGED}

    # dashboard: other marts, filters and exports work; the damaged mart is unavailable with the reason
    insights, close = open_insights(s)
    try:
        assert insights.chart("daily_sales", Filters())["available"] is True
        broken = insights.chart("sales_traffic_by_asin", Filters())
        assert broken["available"] is False and "damaged" in broken["error"]
        assert insights.filter_options()["accounts"] == ["seller-jp"]
        assert insights.rows("daily_sales", Filters()).num_rows > 0
        health = insights.health()
        rows = {t["table"]: t for t in health["tables"]}
        assert rows["orders_by_last_update"]["error"] is None
        assert "damaged" in rows[DAMAGED]["error"] and "lake rebuild" in rows[DAMAGED]["error"]
        assert [d["table"] for d in health["damaged_tables"]] == [DAMAGED]
    finally:
        close()

    runner = CliRunner()
    r = runner.invoke(app, ["reports", "status", "--config", str(cfg)])
    assert r.exit_code == 0 and DAMAGED in r.output and "lake rebuild" in r.output, r.output
    r = runner.invoke(app, ["lake", "check", "--config", str(cfg)])
    assert r.exit_code == 1, r.output
    assert f"DAMAGED  {DAMAGED}" in r.output and victim in r.output, r.output
    assert "ok       orders_by_last_update" in r.output
    # a sync syncs the other tables and exits 1 naming the damaged one (it is not written to)
    r = runner.invoke(app, ["sync", "--config", str(cfg), "--quiet"])
    assert r.exit_code == 1 and DAMAGED in r.output, r.output

    r = runner.invoke(app, ["lake", "rebuild", "--config", str(cfg), "--table", DAMAGED])
    assert r.exit_code == 0, r.output
    assert _keys(root)[DAMAGED] == keys[DAMAGED]
    r = runner.invoke(app, ["lake", "check", "--config", str(cfg)])
    assert r.exit_code == 0 and "all tables ok" in r.output, r.output
    assert not list((root / "warehouse").rglob(f".{DAMAGED}*.replaced-*"))  # old files cleaned up


def test_corrupt_catalog_is_rebuilt_from_the_raw_zone(pristine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    s0, keys = pristine
    root = tmp_path / "lake"
    shutil.copytree(Path(s0.lake.path), root, symlinks=True)
    s: Settings = s0.model_copy(update={"lake": LakeSettings(path=str(root))})
    cfg = tmp_path / "splake.toml"
    cfg.write_text(dump_config(s))
    (root / "catalog.db").write_bytes(b"\0garbage" * 512)
    runner = CliRunner()
    r = runner.invoke(app, ["lake", "check", "--config", str(cfg)])
    assert r.exit_code == 1 and "catalog" in r.output and "unreadable" in r.output, r.output
    r = runner.invoke(app, ["lake", "rebuild", "--config", str(cfg)])
    assert r.exit_code == 0, r.output
    assert _keys(root) == {t: k for t, k in keys.items() if not t.endswith("__quarantine")}
    assert list(root.glob("catalog.db.damaged-*"))  # the unreadable file is kept for inspection
    r = runner.invoke(app, ["lake", "check", "--config", str(cfg)])
    assert r.exit_code == 0, r.output


def test_rebuild_refuses_when_raw_documents_are_missing(pristine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    s0, keys = pristine
    root = tmp_path / "lake"
    shutil.copytree(Path(s0.lake.path), root, symlinks=True)
    s: Settings = s0.model_copy(update={"lake": LakeSettings(path=str(root))})
    cfg = tmp_path / "splake.toml"
    cfg.write_text(dump_config(s))
    sidecar = next((root / "raw").rglob("*GET_SALES_AND_TRAFFIC_REPORT*/**/*.meta.json"))
    sidecar.unlink()
    before = sorted(str(p.relative_to(root)) for p in (root / "warehouse").rglob("*"))
    runner = CliRunner()
    r = runner.invoke(app, ["lake", "check", "--config", str(cfg)])
    assert r.exit_code == 1 and "raw document(s) missing" in r.output and "restore the raw zone" in r.output
    r = runner.invoke(app, ["lake", "rebuild", "--config", str(cfg), "--table", DAMAGED])
    assert r.exit_code == 2 and "missing" in r.output and "nothing was changed" in r.output, r.output
    assert sorted(str(p.relative_to(root)) for p in (root / "warehouse").rglob("*")) == before
    assert _keys(root)[DAMAGED] == keys[DAMAGED]
