"""Bad environments and inputs give a one-paragraph error (what, where, how to fix; no traceback) and lose
nothing: non-UTF-8 config, config path is a directory, a UTF-8 BOM (accepted), `[lake].path` is a file,
a read-only lake directory, a corrupt state.db / catalog.db, and a full disk (a small tmpfs)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from splake.auth.secrets import LocalSecretStore
from splake.config import LakeSettings, Settings, dump_config
from splake.lake.catalog import open_local_catalog
from splake.lake.query import QueryEngine
from splake.reports.sync import sync
from splake.runners.local import LocalContext, default_secrets_dir
from splake.sandbox import SandboxConfig, SandboxServer
from splake.sandbox.demo import demo_settings, seed_demo_secrets

SPLAKE = str(Path(sys.executable).parent / "splake")
CONFIG = """
[lake]
path = "{lake}"
[lwa]
client_id = "amzn1.application-oa2-client.x"
[spapi]
endpoint_override = "http://127.0.0.1:9"
[sync]
report_types = ["GET_MERCHANT_LISTINGS_ALL_DATA"]
[[accounts]]
id = "acme-jp"
region = "FE"
selling_partner_id = "A1EXAMPLE"
marketplaces = ["JP"]
"""


def _splake(*args: str, timeout: float = 120) -> tuple[int, str]:
    """`splake ARGS` in a child process (the console script, as a user runs it)."""
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "SPLAKE_DEBUG": ""}
    p = subprocess.run([SPLAKE, *args], capture_output=True, text=True, timeout=timeout, env=env)
    return p.returncode, p.stdout + p.stderr


def _cli(capfd: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """The same entry point in this process (``splake.cli.app`` with its error wrapper; no child start-up
    cost). The process umask the CLI sets is restored afterwards."""
    from splake.cli import app

    mask = os.umask(0o022)
    os.umask(mask)
    capfd.readouterr()
    try:
        app(args=list(args), prog_name="splake")
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
    finally:
        os.umask(mask)
    got = capfd.readouterr()
    return code, got.out + got.err


def _plain(out: str) -> None:
    assert "Traceback" not in out and 'File "' not in out, out
    assert "error:" in out and "→" in out, out  # what + how to fix


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_non_utf8_config(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "splake.toml"
    content = CONFIG.replace("{lake}", str(tmp_path / "lake")).encode() + b"# caf\xe9\n"
    cfg.write_bytes(content)
    line = content[: content.index(b"\xe9")].count(b"\n") + 1
    code, out = _cli(capfd, "sync", "-c", str(cfg))
    assert code == 2 and "not UTF-8" in out and f"on line {line}" in out, out
    _plain(out)
    assert not (tmp_path / "lake").exists()


def test_config_path_is_a_directory(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code, out = _cli(capfd, "sync", "-c", str(tmp_path))
    assert code == 2 and "is a directory" in out, out
    _plain(out)


def test_config_with_utf8_bom_is_accepted(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "splake.toml"
    cfg.write_bytes(b"\xef\xbb\xbf" + CONFIG.replace("{lake}", str(tmp_path / "lake")).encode())
    code, out = _cli(capfd, "reports", "status", "-c", str(cfg))
    assert code == 0 and "no ledger yet" in out, out


def test_lake_path_is_a_file(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    lake = tmp_path / "lake"
    lake.write_text("precious")
    cfg = tmp_path / "splake.toml"
    cfg.write_text(CONFIG.replace("{lake}", str(lake)))
    code, out = _cli(capfd, "sync", "-c", str(cfg))
    assert code == 2 and "is a file, not a directory" in out and "[lake].path" in out, out
    _plain(out)
    assert lake.read_text() == "precious"


@contextlib.contextmanager
def _mounted(target: Path, *options: str, source: str = "tmpfs") -> Iterator[None]:
    target.mkdir(parents=True, exist_ok=True)
    args = ["mount", *options, source, str(target)]
    if subprocess.run(args, capture_output=True).returncode != 0:
        pytest.skip("cannot mount here (needs root); the mount-based check runs in CI as root")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


def _seed_lake(tmp_path: Path) -> tuple[Path, Path]:
    """A lake with a ledger and a table (written directly; no network needed)."""
    import pyarrow as pa

    from splake.lake.iceberg import CuratedLake
    from splake.lake.tables import Provenance, TableSpec
    from splake.state.sqlite import SqliteStateStore

    lake = tmp_path / "lake"
    spec = TableSpec("t", pa.schema([("k", pa.string())]), key_columns=("k",), replace="key")
    prov = Provenance(
        "acme-jp", "r1", "raw/x", datetime(2026, 1, 1, tzinfo=UTC), marketplace_id="A1VC38T7YXB528"
    )
    CuratedLake(open_local_catalog(lake), "spapi").write(spec, pa.table({"k": ["a", "b"]}), prov)
    with SqliteStateStore(lake / "state.db") as st:
        st.put("cursors", "acme-jp", "x", {"v": 1})
    cfg = tmp_path / "splake.toml"
    cfg.write_text(CONFIG.replace("{lake}", str(lake)))
    return lake, cfg


def test_read_only_lake_directory(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    lake, cfg = _seed_lake(tmp_path)
    ro = tmp_path / "ro"
    with _mounted(ro, "--bind", source=str(lake)):
        subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], check=True)
        before = _digest(lake)
        cfg.write_text(CONFIG.replace("{lake}", str(ro)))
        code, out = _cli(capfd, "sync", "-c", str(cfg))
        assert code == 2 and "not writable" in out and str(ro) in out, out
        _plain(out)
        # reading a read-only lake still works
        code, out = _cli(capfd, "query", "-c", str(cfg), "-f", "csv", "select k from t order by k")
        assert code == 0 and [v.strip('"') for v in out.split()] == ["k", "a", "b"], out
    assert _digest(lake) == before


def test_debug_shows_the_traceback(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    lake, cfg = _seed_lake(tmp_path)
    (lake / "state.db").write_bytes(b"garbage " * 100)
    code, out = _cli(capfd, "sync", "-c", str(cfg))
    assert code == 1 and "Traceback" not in out
    from splake.errors import FatalError

    with pytest.raises(FatalError, match="unreadable"):
        _cli(capfd, "--debug", "sync", "-c", str(cfg))


@pytest.mark.parametrize("db", ["state.db", "catalog.db"])
def test_corrupt_database(tmp_path: Path, db: str, capfd: pytest.CaptureFixture[str]) -> None:
    lake, cfg = _seed_lake(tmp_path)
    for leftover in lake.glob(f"{db}-*"):
        leftover.unlink()
    (lake / db).write_bytes(b"this is not a database " * 200)
    before = _digest(lake)
    code, out = _cli(capfd, "sync", "-c", str(cfg))
    assert code in (1, 2) and "unreadable" in out and db in out, out
    _plain(out)
    assert "lake rebuild" in out if db == "catalog.db" else "mv " in out
    assert _digest(lake) == before


# --- disk full ---------------------------------------------------------------------------------------

TYPES = ("GET_MERCHANT_LISTINGS_ALL_DATA", "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL")


def _keys(root: Path) -> dict[str, list[str]]:
    with QueryEngine(open_local_catalog(root), "spapi") as q:
        return {t: sorted(q.sql(f"select row_key from {t}").column(0).to_pylist()) for t in q.tables()}


@pytest.mark.parametrize("left", [0, pytest.param(96 << 10, marks=pytest.mark.slow)])
def test_disk_full_is_plain_and_loses_nothing(tmp_path: Path, left: int) -> None:
    """``left`` bytes stay free: 0 fails at the first write; 96 KiB lets the state open and fails later
    (a download, the raw zone or a Parquet/metadata write)."""
    mnt = tmp_path / "small"
    with (
        _mounted(mnt, "-t", "tmpfs", "-o", "size=24m"),
        SandboxServer(SandboxConfig(seed=4, time_scale=0.002)) as sb,
    ):
        lake = mnt / "lake"
        base = demo_settings(
            sb.url,
            lake,
            ("seller-jp",),
            world=sb.world,
            start_date=(datetime.now(UTC) - timedelta(days=2)).date(),
        )
        s: Settings = base.model_copy(
            update={
                "accounts": tuple(a.model_copy(update={"report_types": TYPES}) for a in base.accounts),
                "sync": base.sync.model_copy(update={"reuse_done_within_hours": 0}),
                "lake": LakeSettings(path=str(lake)),
            }
        )
        seed_demo_secrets(LocalSecretStore(default_secrets_dir(s)), sb.world, s)

        async def run() -> Any:
            ctx = LocalContext.open(s)
            try:
                return await sync(s, ctx, max_wait_seconds=60)
            finally:
                await ctx.aclose()

        assert asyncio.run(run()).failures == []
        keys = _keys(lake)
        cfg = tmp_path / "splake.toml"
        cfg.write_text(dump_config(s))
        filler = mnt / "filler"
        with filler.open("wb") as fh:  # fill the disk to the last byte
            with contextlib.suppress(OSError):
                while True:
                    fh.write(b"\0" * (1 << 16))
                    fh.flush()
        with contextlib.suppress(OSError):
            with filler.open("ab") as fh:
                while True:
                    fh.write(b"\0" * 512)
                    fh.flush()
        if left:
            os.truncate(filler, filler.stat().st_size - left)
        code, out = _splake("sync", "-c", str(cfg), "--quiet", "--max-wait", "60")
        assert code != 0 and "disk full" in out, out
        assert "Traceback" not in out, out
        filler.unlink()
        assert _keys(lake) == keys  # nothing lost
        code, out = _splake("sync", "-c", str(cfg), "--quiet", "--max-wait", "60")
        assert code == 0, out
        assert _keys(lake) == keys
        code, out = _splake("lake", "check", "-c", str(cfg))
        assert code == 0, out
        shutil.rmtree(lake, ignore_errors=True)


def test_lake_files_are_private_by_default(tmp_path: Path) -> None:
    """What the CLI creates in a new lake is 0700 (directories) / 0600 (files): the raw zone can hold PII."""
    import stat

    cfg = tmp_path / "splake.toml"
    cfg.write_text(CONFIG.replace("{lake}", str(tmp_path / "lake")))
    code, out = _splake("query", "-c", str(cfg), "select 1 as x")
    assert code == 0, out
    made = list((tmp_path / "lake").rglob("*"))
    assert any(p.name == "catalog.db" for p in made) and any(p.is_dir() for p in made)
    for p in [tmp_path / "lake", *made]:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o700 if p.is_dir() else 0o600), (p, oct(mode))
