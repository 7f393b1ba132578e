"""Red-team (issue 11): `splake lake rebuild` killed (SIGKILL) mid-way, then the scheduled `splake sync`.

The kill leaves the table dropped (its old files set aside) and a rebuild marker. Before the fix the sync
exited 0 with the table gone from queries (or re-created holding only the windows that sync landed
itself: every older order silently missing) until someone ran `splake lake check`. Now the sync leaves
that table alone and exits 1 naming it with the fix, `reports status` names it too, and the rebuild run
again restores every row key.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from splake.auth.secrets import LocalSecretStore
from splake.config import dump_config
from splake.lake.catalog import open_local_catalog
from splake.lake.query import QueryEngine
from splake.runners.local import default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets

ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
TABLE = "orders_by_order_date"


CLI = [sys.executable, "-c", "from splake.cli import app; app()"]


def _splake(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300)


def _keys(lake: Path) -> list[str]:
    with QueryEngine(open_local_catalog(lake), "spapi") as q:
        return sorted(q.sql(f"select row_key from {TABLE}").column(0).to_pylist())


@pytest.mark.slow
def test_sync_after_a_killed_rebuild_names_the_table_and_leaves_it_to_the_rebuild(tmp_path: Path) -> None:
    with SandboxServer(SandboxConfig(seed=3, time_scale=0.002)) as sb:
        lake = tmp_path / "lake"
        base = demo_settings(
            sb.url,
            lake,
            ("seller-jp",),
            world=sb.world,
            start_date=(datetime.now(UTC) - timedelta(days=40)).date(),
        )
        acct = base.accounts[0].model_copy(update={"report_types": (ORDERS,)})
        s = base.model_copy(update={"accounts": (acct,)})
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)
        cfg = tmp_path / "splake.toml"
        cfg.write_text(dump_config(s), encoding="utf-8")
        first = _splake("sync", "-c", str(cfg))
        assert first.returncode == 0, first.stdout + first.stderr
        full = _keys(lake)
        assert len(full) > 0

        rb = subprocess.Popen([*CLI, "lake", "rebuild", "-c", str(cfg)])
        spapi = lake / "warehouse" / "spapi"
        deadline = time.monotonic() + 120
        while (
            not list(spapi.glob(f".{TABLE}.replaced-*")) and rb.poll() is None and time.monotonic() < deadline
        ):
            time.sleep(0.002)
        rb.send_signal(signal.SIGKILL)
        rb.wait()
        assert rb.returncode == -signal.SIGKILL, "the rebuild finished before the kill"

        after = _splake("sync", "-c", str(cfg))
        assert after.returncode == 1, after.stdout + after.stderr
        assert TABLE in after.stdout and f"lake rebuild --table {TABLE}" in after.stdout
        status = _splake("reports", "status", "-c", str(cfg))
        assert f"DAMAGED table {TABLE}" in status.stdout, status.stdout

        again = _splake("lake", "rebuild", "-c", str(cfg))
        assert again.returncode == 0, again.stdout + again.stderr
        assert _keys(lake) == full
        assert _splake("sync", "-c", str(cfg)).returncode == 0
