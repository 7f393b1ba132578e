"""Location independence of a local lake: copy it, move it, restore it elsewhere — safely.

Iceberg metadata (the SQLite catalog, ``metadata.json``, manifest lists, manifests) holds absolute
``file://`` paths. A copied or moved lake therefore still points at its *old* directory, and writing
through those paths would change the original (syncing a copy used to destroy the lake it was copied
from). The fix here is "resolve at open":

- ``<lake>/splake-lake.json`` records every root directory this lake's metadata may refer to (the one it
  was created in, and every one it was opened from since). Lakes made before the file existed get their
  old roots from the catalog (``…/<old root>/warehouse/…`` whose rest exists under the new root).
- :class:`RootedFileIO` (the catalog's FileIO) maps a path under a recorded old root to the same path
  under the current root, for every read, write and delete, and **refuses** any write or delete whose
  target lies outside the current root, and any read outside it that no recorded root maps.

So a copy only ever reads and writes its own files; the original is never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pyiceberg.io import InputFile, OutputFile
from pyiceberg.io.pyarrow import PyArrowFile, PyArrowFileIO
from pyiceberg.typedef import EMPTY_DICT, Properties

from splake.errors import FatalError
from splake.logs import get_logger, log_event

log = get_logger(__name__)

MARKER = "splake-lake.json"
ROOT_PROP = "splake.lake-root"
OLD_ROOTS_PROP = "splake.lake-old-roots"
IO_IMPL = "splake.lake.location.RootedFileIO"


class LakeLocationError(FatalError):
    """A path outside the lake root (the lake was moved/copied in a way that cannot be resolved)."""

    code = "lake_location"


def file_path(location: str) -> str | None:
    """The local path of a ``file://`` URI or a bare path; None for other schemes (s3://…)."""
    if location.startswith("file://"):
        return os.path.normpath(urlparse(location).path or location[len("file://") :])
    if "://" in location:
        return None
    return os.path.normpath(os.path.abspath(location))


def under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def map_path(path: str, root: str, old_roots: tuple[str, ...]) -> str | None:
    """``path`` resolved for a lake now at ``root`` (None: outside the root and every old root). The most
    specific matching root wins, so a lake copied into a sub- or parent directory of itself still maps
    every path to its own files."""
    best = max((r for r in (root, *old_roots) if under(path, r)), key=len, default=None)
    if best is None:
        return None
    if best == root:
        return path
    return root.rstrip("/") + path[len(best.rstrip("/")) :]


class RootedFileIO(PyArrowFileIO):
    """PyArrowFileIO confined to the lake root, mapping paths under the lake's old roots into it."""

    def __init__(self, properties: Properties = EMPTY_DICT) -> None:
        super().__init__(properties)
        self.root = os.path.normpath(str(properties.get(ROOT_PROP, "/")))
        self.old_roots = tuple(json.loads(str(properties.get(OLD_ROOTS_PROP, "[]"))))

    def local_path(self, location: str) -> str | None:
        """The local file behind ``location`` (mapped into the current root), or None when it is outside."""
        path = file_path(location)
        return None if path is None else map_path(path, self.root, self.old_roots)

    def _resolve(self, location: str | InputFile | OutputFile, action: str) -> str:
        loc = location.location if isinstance(location, InputFile | OutputFile) else location
        path = self.local_path(loc)
        if path is None:
            raise LakeLocationError(
                f"refusing to {action} {loc}: it lies outside the lake root {self.root}",
                where="lake FileIO",
                hint="the lake's metadata refers to another directory (was the lake copied or moved "
                "from somewhere splake does not know?); run `splake lake check` to see which tables, "
                "and `splake lake rebuild --table T` to rebuild them from the raw zone",
            )
        return "file://" + path

    def new_input(self, location: str) -> PyArrowFile:
        return super().new_input(self._resolve(location, "read"))

    def new_output(self, location: str) -> PyArrowFile:
        return super().new_output(self._resolve(location, "write"))

    def delete(self, location: str | InputFile | OutputFile) -> None:
        super().delete(self._resolve(location, "delete"))


def local_file(io: Any, location: str) -> str | None:
    """Path DuckDB should read for a data file ``location`` of a table opened with ``io`` (None: not a
    local file). Raises :class:`LakeLocationError` for a local file outside a rooted lake."""
    if isinstance(io, RootedFileIO):
        if file_path(location) is None:
            return None
        return io._resolve(location, "read").removeprefix("file://")
    return file_path(location)


def _catalog_locations(root: Path) -> list[str]:
    db = root / "catalog.db"
    if not db.is_file():
        return []
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT metadata_location FROM iceberg_tables").fetchall()
        finally:
            con.close()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    return [str(r[0]) for r in rows if r[0]]


def _read_marker(root: Path) -> list[str]:
    try:
        data = json.loads((root / MARKER).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return []
    roots = data.get("roots") if isinstance(data, dict) else None
    return [str(r) for r in roots] if isinstance(roots, list) else []


def _write_marker(root: Path, roots: list[str]) -> None:
    """Atomic replace; a read-only lake (queries only) just keeps the old file."""
    try:
        fd, tmp = tempfile.mkstemp(dir=root, prefix=".splake-lake.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"format": 1, "roots": roots}, fh, indent=1)
        os.chmod(tmp, 0o600)
        os.replace(tmp, root / MARKER)
    except OSError as exc:
        log_event(log, "lake_marker_not_written", root=str(root), error=str(exc))


def known_roots(root: Path) -> tuple[str, ...]:
    """Every root this lake's metadata may refer to other than ``root`` (and record ``root``).

    Roots come from ``splake-lake.json`` plus, for lakes without it, the catalog: a metadata location
    ``<old>/warehouse/<rest>`` outside ``root`` whose ``<rest>`` exists under ``root/warehouse`` means the
    lake was moved or copied from ``<old>``."""
    here = os.path.normpath(str(root))
    recorded = _read_marker(root)
    roots = list(recorded)
    for loc in _catalog_locations(root):
        path = file_path(loc)
        if path is None or map_path(path, here, tuple(roots)) is not None:
            continue
        idx = path.rfind("/warehouse/")
        if idx <= 0:
            continue
        old, rest = path[:idx], path[idx:]
        if (Path(here + rest)).exists() and old not in roots:
            roots.append(old)
    if here not in roots:
        roots.append(here)
    if roots != recorded:
        moved = [r for r in roots if r != here]
        if moved and recorded and here not in recorded:
            log_event(log, "lake_opened_at_new_root", root=here, previous=moved)
        with contextlib.suppress(OSError):
            if root.is_dir() and os.access(root, os.W_OK):
                _write_marker(root, roots)
    return tuple(r for r in roots if r != here)


def io_properties(root: Path) -> dict[str, str]:
    """Catalog properties that make every table of the lake at ``root`` use :class:`RootedFileIO`."""
    return {
        "py-io-impl": IO_IMPL,
        ROOT_PROP: os.path.normpath(str(root)),
        OLD_ROOTS_PROP: json.dumps(list(known_roots(root))),
    }
