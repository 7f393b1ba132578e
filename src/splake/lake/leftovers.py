"""Crash leftovers, removed at the next start: files a killed process left behind that nothing refers to.

- ``tmp/``: downloads in progress (``*.download``), decoded documents (``splake-doc-*.txt``);
- ``raw/``: half-written objects (``.tmp-*``; objects are published by an atomic link/rename);
- ``warehouse/``: Parquet data files and metadata files of a table that no snapshot or metadata version
  of that table refers to (a write killed between staging its files and committing them).

Only files last modified before ``cutoff`` are touched (the caller passes its own start time minus a
grace period), so the files of a process running at the same time are never removed. A table whose
metadata cannot be read is skipped: its files are evidence for `splake lake check` / `rebuild`.

The warehouse scan reads every manifest a table keeps, so it runs only when a run was killed: each run
holds a marker ``tmp/run-*.running`` (:func:`run_marker`) that a clean end removes; a marker older than
the cutoff (or a tmp download left behind) is that evidence.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from splake.lake.location import local_file
from splake.logs import get_logger, log_event

log = get_logger(__name__)

RUN_SUFFIX = ".running"
GRACE_SECONDS = 600.0  # files this much older than our start belong to no process still running
TMP_PATTERNS = ("*.download", "splake-doc-*.txt", "splake-reland-*", "splake-rebuild-*", "splake-raw-*")


@dataclass
class Swept:
    tmp: list[str] = field(default_factory=list)
    raw: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.tmp) + len(self.raw) + len(self.orphans)


def _old(path: Path, cutoff: float) -> bool:
    try:
        return path.is_file() and path.stat().st_mtime < cutoff
    except OSError:
        return False


def _remove(paths: Iterable[Path], into: list[str]) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
            into.append(str(p))


def referenced_files(tbl: Any) -> set[str]:
    """Local paths of every file a table's metadata refers to: metadata versions, manifest lists,
    manifests and data files of every snapshot it keeps."""
    io = tbl.io
    uris: set[str] = {tbl.metadata_location}
    uris.update(m.metadata_file for m in tbl.metadata.metadata_log)
    for snap in tbl.metadata.snapshots:
        uris.add(snap.manifest_list)
        for manifest in snap.manifests(io):
            uris.add(manifest.manifest_path)
            for entry in manifest.fetch_manifest_entry(io, discard_deleted=False):
                uris.add(entry.data_file.file_path)
    out = set()
    for uri in uris:
        path = local_file(io, uri)
        if path is not None:
            out.add(os.path.normpath(path))
    return out


def _alive(marker: Path) -> bool:
    """Is the process that wrote ``marker`` still running (on this machine)?"""
    try:
        pid = int(marker.read_text().strip())
    except (OSError, ValueError):
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


@contextlib.contextmanager
def run_marker(root: Path) -> Iterator[Path]:
    """``tmp/run-<pid>-<id>.running`` while a run is alive; left behind only by a killed run."""
    tmp = root / "tmp"
    tmp.mkdir(exist_ok=True)
    marker = tmp / f"run-{os.getpid()}-{uuid.uuid4().hex[:8]}{RUN_SUFFIX}"
    marker.write_text(str(os.getpid()))
    try:
        yield marker
    finally:
        marker.unlink(missing_ok=True)


def sweep(root: Path, catalog: Any, namespace: str, cutoff: float, *, warehouse: bool | None = None) -> Swept:
    """Remove the crash leftovers of the local lake at ``root`` older than ``cutoff`` (epoch seconds).
    ``warehouse``: scan tables for orphan files (default: only when a killed run left evidence)."""
    out = Swept()
    tmp = root / "tmp"
    killed: list[Path] = []
    if tmp.is_dir():
        markers = list(tmp.glob("*" + RUN_SUFFIX))
        if any(_alive(p) for p in markers):  # another run is working here: touch none of its files
            log_event(log, "leftovers_sweep_skipped", reason="another splake run is active")
            return out
        killed = [p for p in markers if _old(p, cutoff)]
        _remove((p for pat in TMP_PATTERNS for p in tmp.glob(pat) if _old(p, cutoff)), out.tmp)
    raw = root / "raw"
    if raw.is_dir():
        _remove((p for p in raw.rglob(".tmp-*") if _old(p, cutoff)), out.raw)
    if warehouse is None:
        warehouse = bool(killed or out.tmp or out.raw)
    if warehouse:
        _sweep_warehouse(catalog, namespace, cutoff, out)
    _remove(killed, [])  # the evidence has been acted on
    if out.total:
        log_event(
            log, "crash_leftovers_removed", tmp=len(out.tmp), raw=len(out.raw), orphans=len(out.orphans)
        )
    return out


def _sweep_warehouse(catalog: Any, namespace: str, cutoff: float, out: Swept) -> None:
    try:
        names = sorted(ident[-1] for ident in catalog.list_tables(namespace))
    except Exception:
        names = []
    for name in names:
        try:
            tbl = catalog.load_table((namespace, name))
            keep = referenced_files(tbl)
            location = local_file(tbl.io, tbl.location())
        except Exception as exc:  # damaged: leave everything for `lake check` / `lake rebuild`
            log_event(log, "leftovers_table_skipped", table=name, error=str(exc)[:200])
            continue
        if location is None:
            continue
        tdir = Path(location)
        candidates = [
            p
            for sub in ("data", "metadata")
            if (tdir / sub).is_dir()
            for p in (tdir / sub).rglob("*")
            if _old(p, cutoff) and os.path.normpath(p) not in keep
        ]
        _remove(candidates, out.orphans)
