"""Crash safety of grouped commits: `splake sync` SIGKILLed right after an Iceberg commit (the documents are
in the table, but their commit records still say *claimed* and their ledger entries *DONE*), then re-run,
ends with the same lake as an uninterrupted run — no duplicate row keys, no entry left unfinished, no
commit record left pending or claimed.

The kill point is injected in the child process only (a wrapper around the real ``commit_staged`` that
SIGKILLs its own process once the commit returned); everything else is the real CLI. The lean in-process
version of this (a committer dying after the commit, on both backends) is in
tests/integration/test_groupcommit.py; this one runs the whole sync (~15 s; the double kill is slow)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from splake.auth.secrets import LocalSecretStore
from splake.lake.commitrecords import NAMESPACE
from splake.reports import ledger
from splake.runners.local import default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import seed_demo_secrets
from splake.state.sqlite import SqliteStateStore
from tests.e2e.test_crash_resume import (
    TIME_SCALE,
    _lake_keys,
    _settings,
    _sync_cmd,
    _write_toml,
    reference,  # noqa: F401 - the uninterrupted run (a module fixture)
)

_DIE_AFTER_COMMIT = textwrap.dedent(
    """
    import os, signal, sys
    from splake.lake.iceberg import CuratedLake

    real = CuratedLake.commit_staged

    def commit_then_die(self, table, staged):
        out = real(self, table, staged)
        os.kill(os.getpid(), signal.SIGKILL)  # committed; no record, ledger entry or cursor says so yet
        return out

    CuratedLake.commit_staged = commit_then_die
    from splake.cli import app

    sys.argv = ["splake", *sys.argv[1:]]
    app()
    """
)


@pytest.mark.parametrize("kills", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_sigkill_after_an_iceberg_commit_then_rerun_matches_uninterrupted_run(
    reference: dict[str, list[str]],  # noqa: F811
    tmp_path: Path,
    kills: int,
) -> None:
    with SandboxServer(SandboxConfig(seed=5, time_scale=TIME_SCALE)) as sb:
        s = _settings(sb.url, tmp_path / "lake", sb.world)
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)
        cfg = tmp_path / "splake.toml"
        _write_toml(s, cfg)
        for _ in range(kills):  # the second run dies in its first commit too: the recovery of the first
            killed = subprocess.run(
                [sys.executable, "-c", _DIE_AFTER_COMMIT, *_sync_cmd(cfg)[1:]],
                capture_output=True,
                text=True,
                timeout=240,
            )
            assert killed.returncode == -9, (killed.returncode, killed.stderr[-3000:])
        store = SqliteStateStore(Path(s.lake.path) / "state.db")
        try:
            left = [r["state"] for r in store.scan(NAMESPACE)]
        finally:
            store.close()
        assert "claimed" in left, left  # the kill hit between the commit and its records
        final = subprocess.run(_sync_cmd(cfg), capture_output=True, text=True, timeout=240)
        assert final.returncode == 0, (final.stdout[-3000:], final.stderr[-3000:])
    got = _lake_keys(s)
    for table, keys in got.items():
        assert len(keys) == len(set(keys)), f"duplicate row keys in {table}"
    assert got == reference
    store = SqliteStateStore(Path(s.lake.path) / "state.db")
    try:
        unfinished = [
            (e.key, e.status) for e in ledger.entries(store) if e.status not in ("INGESTED", "CANCELLED")
        ]
        records = [r["state"] for r in store.scan(NAMESPACE)]
    finally:
        store.close()
    assert unfinished == []
    # what the killed runs claimed was committed again (a no-op) by the rerun; their owners are gone, so
    # those records wait to be forgotten; nothing is pending or claimed
    assert set(records) <= {"committed"}, records
