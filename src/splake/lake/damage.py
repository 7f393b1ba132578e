"""Telling a damaged curated table apart, cheaply and in plain words (no pyiceberg/pyarrow internals).

A table is *damaged* when its current state cannot be read: the catalog points at metadata that is missing
or garbled, a manifest list or manifest is gone, or a data file of the current snapshot is missing. One
damaged table must fail only itself: the query engine, the dashboard and `splake sync` ask
:func:`probe_table` and keep serving every other table.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from typing import Any

from pyiceberg.catalog import Catalog
from pyiceberg.table import Table

from splake.errors import BadDataError
from splake.lake.location import LakeLocationError, local_file


def repair_hint(table: str) -> str:
    return (
        f"run `splake lake check` to see what is missing, then `splake lake rebuild --table {table}` "
        "to rebuild it from the raw zone (no SP-API calls)"
    )


class TableDamagedError(BadDataError):
    """A curated table's metadata or data files cannot be read."""

    code = "table_damaged"

    def __init__(self, table: str, reason: str) -> None:
        self.table = table
        self.reason = reason
        super().__init__(f"table {table} is damaged: {reason}", where="curated lake", hint=repair_hint(table))


def plain_reason(exc: BaseException) -> str:
    """One line saying what is wrong, without library internals."""
    if isinstance(exc, LakeLocationError):
        return exc.message
    if isinstance(exc, FileNotFoundError | IsADirectoryError):
        text = str(exc)
        path = getattr(exc, "filename", None) or _quoted_path(text)
        return f"file missing: {path}" if path else f"file missing ({text.splitlines()[0][:200]})"
    if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
        return f"metadata file is not valid JSON ({type(exc).__name__})"
    name = type(exc).__name__
    if name == "ValidationError":  # pydantic: a garbled/truncated metadata.json
        return "metadata file is garbled (does not match the Iceberg table-metadata format)"
    first = (str(exc).strip().splitlines() or [name])[0]
    if "No such file" in first or "Failed to open local file" in first:
        path = _quoted_path(first)
        return f"file missing: {path}" if path else f"file missing ({first[:200]})"
    return f"{name}: {first[:300]}"


def _quoted_path(text: str) -> str | None:
    for quote in ("'", '"'):
        start = text.find(quote)
        end = text.find(quote, start + 1)
        if start >= 0 and end > start:
            return text[start + 1 : end]
    return None


def missing_local_files(io: Any, locations: Iterable[str]) -> list[str]:
    """Local data files among ``locations`` that do not exist (remote files are not checked here)."""
    out = []
    for loc in locations:
        path = local_file(io, loc)
        if path is not None and not os.path.isfile(path):
            out.append(path)
    return out


def resized_local_files(io: Any, sizes: Iterable[tuple[str, int]]) -> list[str]:
    """Local data files whose size differs from the one their manifest recorded (cut short by a partial
    copy or restore, or overwritten): every query of them would fail. Missing files are not listed."""
    out = []
    for loc, size in sizes:
        path = local_file(io, loc)
        if path is None:
            continue
        with contextlib.suppress(OSError):
            actual = os.stat(path).st_size
            if actual != size:
                out.append(f"{path} ({actual} bytes, written as {size})")
    return out


def load_checked(catalog: Catalog, namespace: str, name: str) -> tuple[Table, list[str]]:
    """Load a table and list its current data files, raising :class:`TableDamagedError` when the
    metadata, a manifest or a data file of the current snapshot is unreadable, missing or truncated."""
    try:
        tbl = catalog.load_table((namespace, name))
        tasks = list(tbl.scan().plan_files())
        files = [task.file.file_path for task in tasks]
        missing = missing_local_files(tbl.io, files)
        resized = resized_local_files(tbl.io, ((t.file.file_path, t.file.file_size_in_bytes) for t in tasks))
    except TableDamagedError:
        raise
    except Exception as exc:
        if type(exc).__name__ == "NoSuchTableError":
            raise
        raise TableDamagedError(name, plain_reason(exc)) from None
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        root = getattr(tbl.io, "root", None)
        shown = (
            os.path.relpath(missing[0], root) if root and missing[0].startswith(root + "/") else missing[0]
        )
        raise TableDamagedError(name, f"data file missing: {shown}{more}")
    if resized:
        more = f" (and {len(resized) - 1} more)" if len(resized) > 1 else ""
        root = getattr(tbl.io, "root", None)
        shown = resized[0].removeprefix(root + "/") if root else resized[0]
        raise TableDamagedError(name, f"data file truncated or changed: {shown}{more}")
    return tbl, files


def probe_table(catalog: Catalog, namespace: str, name: str) -> str | None:
    """None when the table's current state is readable, else the plain reason."""
    try:
        load_checked(catalog, namespace, name)
    except TableDamagedError as exc:
        return exc.reason
    except Exception as exc:  # NoSuchTableError: dropped meanwhile, not damage
        if type(exc).__name__ == "NoSuchTableError":
            return None
        return plain_reason(exc)
    return None


def damaged_tables(catalog: Catalog, namespace: str) -> dict[str, str]:
    """{table: reason} for every damaged table of ``namespace``."""
    try:
        names = sorted(ident[-1] for ident in catalog.list_tables(namespace))
    except Exception:
        return {}
    out = {}
    for name in names:
        reason = probe_table(catalog, namespace, name)
        if reason is not None:
            out[name] = reason
    return out
