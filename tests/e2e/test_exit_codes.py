"""`splake sync` exit codes as the README documents them: 3 when reports are still processing at
``--max-wait`` (a scheduler can tell "not finished" from "done"), 0 once the next run completes them,
2 for a bad config."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from splake.auth.secrets import LocalSecretStore
from splake.cli import app
from splake.config import dump_config
from splake.runners.local import default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets


def test_pending_work_exits_3_then_0(tmp_path: Path) -> None:
    with SandboxServer(SandboxConfig(seed=2, time_scale=0.01, processing_seconds=100)) as sb:  # 1 s each
        base = demo_settings(
            sb.url,
            tmp_path / "lake",
            ("seller-jp",),
            world=sb.world,
            start_date=(datetime.now(UTC) - timedelta(days=1)).date(),
        )
        s = base.model_copy(
            update={
                "accounts": tuple(
                    a.model_copy(update={"report_types": ("GET_MERCHANT_LISTINGS_ALL_DATA",)})
                    for a in base.accounts
                )
            }
        )
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)
        cfg = tmp_path / "splake.toml"
        cfg.write_text(dump_config(s))
        runner = CliRunner()
        r = runner.invoke(app, ["sync", "-c", str(cfg), "--quiet", "--max-wait", "0.2"])
        assert r.exit_code == 3, r.output
        r = runner.invoke(app, ["sync", "-c", str(cfg), "--quiet", "--max-wait", "60"])
        assert r.exit_code == 0, r.output
        assert not list((tmp_path / "lake" / "tmp").glob("*.running"))  # a clean end leaves no run marker
    bad = tmp_path / "bad.toml"
    bad.write_text("[lake\n")
    assert runner.invoke(app, ["sync", "-c", str(bad)]).exit_code == 2
