"""Red-team (issue 11): `splake lake rebuild` while another process writes the lake, and the crash-leftover
sweep while another process is mid-write. Each "other process" is a real child process holding the lake
open the way `splake sync` does (``LocalContext.open``), so the locks are exercised across processes.

Before the lake lock: a rebuild dropped the table while a sync landed into it (the sync's report lost,
ledger INGESTED; or an older snapshot re-landed over a newer one), and the sweep of a sync removed the
staged (not yet committed) Parquet files of another writer (a reland, `items sync`, the notifications
consumer: processes that leave no run marker) whose landing had run longer than the grace period, so its
commit referenced files that no longer existed.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from splake.config import Settings, dump_config
from splake.lake.lakelock import LakeBusyError
from splake.lake.rebuild import rebuild
from splake.runners.local import LocalContext, sync_main
from tests.support.conformance import REAL, ConformanceLab

HOLD = """
import sys
from pathlib import Path
from splake.config import load_config
from splake.lake import lakelock
from splake.runners.local import LocalContext
settings = load_config(sys.argv[1])
if sys.argv[2] == "writer":
    ctx = LocalContext.open(settings)  # what every sync does first
else:
    held = lakelock.acquire(Path(settings.lake.path).resolve(), exclusive=True)  # what a rebuild holds
print("holding", flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


class Holder:
    """A child process holding the lake as a writer or exclusively, until stopped."""

    def __init__(self, cfg: Path, how: str) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(cfg), how],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "holding"

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        assert self.proc.wait(timeout=30) == 0


def _keys(settings: Settings, table: str) -> list[str]:
    ctx = LocalContext.open(settings, lock=False)
    try:
        with ctx.query_engine() as q:
            return sorted(q.sql(f"select row_key from {table}").column(0).to_pylist())
    finally:
        asyncio.run(ctx.aclose())


def _lab_lake(lab: ConformanceLab, tmp_path: Path) -> Path:
    de = REAL["GET_MERCHANT_LISTINGS_ALL_DATA/saleweaver-de.txt"]
    assert lab.land(de).status == "INGESTED"
    cfg = tmp_path / "splake.toml"
    cfg.write_text(dump_config(lab.settings), encoding="utf-8")
    return cfg


def test_rebuild_and_the_leftover_sweep_never_act_under_a_running_writer(tmp_path: Path) -> None:
    with ConformanceLab(tmp_path) as lab:
        cfg = _lab_lake(lab, tmp_path)
        assert lab.ctx is not None
        lab.run(lab.ctx.aclose())  # the lab's own context is done with the lake
        lab.ctx = None
        s = lab.settings
        before = _keys(s, "merchant_listings")
        assert len(before) == 40
        data = next(p for p in Path(s.lake.path).rglob("merchant_listings/data") if p.is_dir())
        real = next(data.rglob("*.parquet"))
        # a long landing of another process: staged an hour ago, not committed yet
        staged = Path(shutil.copy(real, real.with_name("00000-0-staged-by-a-running-writer.parquet")))
        # and a killed run's partial download: evidence that makes the sweep scan the tables
        (Path(s.lake.path) / "tmp").mkdir(exist_ok=True)
        partial = Path(s.lake.path) / "tmp" / "splake-eu-1-abc.download"
        partial.write_bytes(b"partial")
        t = time.time() - 3600
        for p in (staged, partial):
            os.utime(p, (t, t))
        acct = s.accounts[0].model_copy(update={"report_types": ("GET_AFN_INVENTORY_DATA",)})
        one = s.model_copy(update={"accounts": (acct,)})  # a small sync: its start sweeps leftovers

        writer = Holder(cfg, "writer")
        try:
            with pytest.raises(LakeBusyError, match="another splake process is writing"):
                rebuild(s, ["merchant_listings"])
            assert _keys(s, "merchant_listings") == before  # nothing dropped or set aside
            assert not list((Path(s.lake.path) / "warehouse").rglob(".merchant_listings.replaced-*"))
            asyncio.run(sync_main(one, quiet=True, max_wait=30))
            assert staged.exists(), "the sweep removed a running writer's staged file"
        finally:
            writer.stop()
        asyncio.run(sync_main(one, quiet=True, max_wait=30))  # alone: crash leftovers, removed
        assert not staged.exists() and not partial.exists()
        assert [r.rows for r in rebuild(s, ["merchant_listings"])] == [40]  # alone: it runs
        assert _keys(s, "merchant_listings") == before

        maint = Holder(cfg, "exclusive")  # a rebuild in progress
        try:
            with pytest.raises(LakeBusyError, match="lake rebuild` is running"):
                LocalContext.open(s)
        finally:
            maint.stop()


def test_a_truncated_data_file_is_damage_that_lake_check_names(tmp_path: Path) -> None:
    """A data file cut short (a partial restore, a disk error) used to pass `lake check` ("all tables ok")
    while every query of its table failed; the size the manifest recorded tells it apart."""
    from typer.testing import CliRunner

    from splake.cli import app

    with ConformanceLab(tmp_path) as lab:
        cfg = _lab_lake(lab, tmp_path)
        st = REAL["GET_SALES_AND_TRAFFIC_REPORT/amzn-models-example.json"]
        window = (datetime(2021, 6, 11, tzinfo=UTC), datetime(2021, 6, 15, tzinfo=UTC))  # the file's days
        assert lab.land(st, window=window).status == "INGESTED"  # another table, left intact
        other = sorted(r["row_key"] for r in lab.rows("sales_and_traffic"))
        assert other
        assert lab.ctx is not None
        lab.run(lab.ctx.aclose())
        lab.ctx = None
        s = lab.settings
        before = _keys(s, "merchant_listings")
        data = next(Path(s.lake.path).rglob("merchant_listings/data/**/*.parquet"))
        data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])

        res = CliRunner().invoke(app, ["lake", "check", "-c", str(cfg)])
        assert res.exit_code == 1, res.output
        assert "DAMAGED  merchant_listings" in res.output and "truncated" in res.output, res.output
        assert _keys(s, "sales_and_traffic") == other  # the other table still answers
        res = CliRunner().invoke(app, ["lake", "rebuild", "-c", str(cfg), "--table", "merchant_listings"])
        assert res.exit_code == 0, res.output
        assert _keys(s, "merchant_listings") == before
