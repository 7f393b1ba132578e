"""`splake demo` as a user runs it (subprocess, fresh dir): exit 0, all tables listed, JP titles shown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from splake.reports.types import REPORT_TYPES
from splake.runners.demo import DEMO_TYPES

SPLAKE = str(Path(sys.executable).parent / "splake")


@pytest.mark.slow
def test_splake_demo_end_to_end(tmp_path: Path) -> None:
    out = subprocess.run(
        [SPLAKE, "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    for spec in (REPORT_TYPES[n] for n in DEMO_TYPES):
        assert spec.table in out.stdout
    assert "0 failure(s)" in out.stdout
    assert any("\u3040" <= ch <= "\u9fff" for ch in out.stdout)  # Japanese titles printed
    cfg = tmp_path / "demo" / "splake.toml"
    q = subprocess.run(
        [SPLAKE, "query", "--config", str(cfg), "--format", "csv", "select count(*) as n from settlements"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert q.returncode == 0 and int(q.stdout.splitlines()[1]) > 0
