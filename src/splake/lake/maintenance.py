"""Table maintenance and inspection: row/file/snapshot figures per table, compaction of small files,
snapshot expiry with deletion of the files only expired snapshots referenced."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pyiceberg.exceptions import (
    CommitFailedException,
    ValidationException,
)
from pyiceberg.expressions import (
    AlwaysTrue,
)
from pyiceberg.io.pyarrow import ArrowScan, _dataframe_to_data_files
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table

from splake.errors import ConflictError
from splake.lake.protocol import Lake
from splake.logs import get_logger, log_event

log = get_logger(__name__)


@dataclass(frozen=True)
class TableInfo:
    name: str
    rows: int
    data_files: int
    snapshots: int
    last_commit: datetime | None
    last_report_id: str | None
    last_account_id: str | None
    columns: tuple[str, ...]


def table_info(lake: Lake) -> list[TableInfo]:
    """Per table: live rows, data files, snapshots kept, and the last commit (time, report, account)."""
    out: list[TableInfo] = []
    for name in lake.table_names():
        tbl = lake.catalog.load_table(lake.ident(name))
        snap = tbl.metadata.current_snapshot()
        summary = snap.summary if snap is not None and snap.summary is not None else None
        out.append(
            TableInfo(
                name=name,
                rows=int((summary.get("total-records") if summary else None) or 0),
                data_files=int((summary.get("total-data-files") if summary else None) or 0),
                snapshots=len(tbl.metadata.snapshots),
                last_commit=datetime.fromtimestamp(snap.timestamp_ms / 1000, UTC) if snap else None,
                last_report_id=(summary.get("splake.report-id") if summary else None),
                last_account_id=(summary.get("splake.account-id") if summary else None),
                columns=tuple(f.name for f in tbl.schema().fields),
            )
        )
    return out


def table_stats(lake: Lake) -> dict[str, int]:
    """Live row count of every table in the namespace (from the current snapshot's summary)."""
    stats: dict[str, int] = {}
    for name in lake.table_names():
        snap = lake.catalog.load_table(lake.ident(name)).metadata.current_snapshot()
        total = snap.summary.get("total-records") if snap is not None and snap.summary is not None else None
        stats[name] = int(total or 0)
    return stats


def compact(lake: Lake, table_name: str, *, min_files: int = 8) -> int:
    """Merge the data files of every partition holding at least ``min_files`` of them (daily syncs
    add a file per partition per run). Rows are unchanged; one commit; concurrent writers make it
    retry. Returns how many files were replaced."""
    for attempt in range(lake.max_attempts):
        tbl = lake.catalog.load_table(lake.ident(table_name))
        groups: dict[tuple[int, str], list[Any]] = {}
        for task in tbl.scan().plan_files():
            groups.setdefault((task.file.spec_id, str(task.file.partition)), []).append(task)
        todo = [tasks for tasks in groups.values() if len(tasks) >= min_files]
        if not todo:
            return 0
        schema = tbl.schema()
        written: list[DataFile] = []
        try:
            txn = tbl.transaction()
            with txn.update_snapshot(snapshot_properties={"splake.operation": "compact"}).overwrite() as ow:
                for tasks in todo:
                    data = ArrowScan(
                        table_metadata=tbl.metadata,
                        io=tbl.io,
                        projected_schema=schema,
                        row_filter=AlwaysTrue(),
                    ).to_table(tasks=tasks)
                    for task in tasks:
                        ow.delete_data_file(task.file)
                    for new_file in _dataframe_to_data_files(
                        table_metadata=tbl.metadata, df=data, io=tbl.io, write_uuid=uuid.uuid4()
                    ):
                        written.append(new_file)
                        ow.append_data_file(new_file)
            txn.commit_transaction()
        except (CommitFailedException, ValidationException):
            lake._drop_files(tbl, written)
            lake._backoff(attempt)
            continue
        replaced = sum(len(tasks) for tasks in todo)
        log_event(log, "lake_compacted", table=table_name, replaced=replaced, written=len(written))
        return replaced
    raise ConflictError(
        f"could not compact {lake.namespace}.{table_name} after {lake.max_attempts} attempts",
        where="CuratedLake.compact",
        hint="writers kept committing; run it again when syncs are idle",
    )


def expire_snapshots(lake: Lake, older_than: datetime, *, retain_last: int = 5) -> dict[str, int]:
    """Forget snapshots older than ``older_than`` (always keeping the current one and the last
    ``retain_last``), then delete the files only those snapshots referenced: replaced data files,
    their manifests and manifest lists. Files of in-flight writes are never referenced by any
    snapshot, so concurrent writers are safe. Returns {table: files deleted}."""
    cutoff_ms = int(older_than.timestamp() * 1000)
    deleted: dict[str, int] = {}
    for name in lake.table_names():
        for attempt in range(lake.max_attempts):
            tbl = lake.catalog.load_table(lake.ident(name))
            snaps = sorted(tbl.metadata.snapshots, key=lambda s: s.timestamp_ms)
            keep = {s.snapshot_id for s in snaps[-retain_last:]} if retain_last > 0 else set()
            if tbl.metadata.current_snapshot_id is not None:
                keep.add(tbl.metadata.current_snapshot_id)
            expire = [s for s in snaps if s.timestamp_ms < cutoff_ms and s.snapshot_id not in keep]
            if not expire:
                deleted[name] = 0
                break
            retained = [s for s in snaps if s not in expire]
            doomed = _referenced(tbl, expire) - _referenced(tbl, retained)
            try:
                tbl.maintenance.expire_snapshots().by_ids([s.snapshot_id for s in expire]).commit()
            except (CommitFailedException, ValidationException):
                lake._backoff(attempt)
                continue
            for path in sorted(doomed):
                with contextlib.suppress(FileNotFoundError, OSError):
                    tbl.io.delete(path)
            deleted[name] = len(doomed)
            log_event(log, "lake_snapshots_expired", table=name, snapshots=len(expire), files=len(doomed))
            break
    return deleted


def _referenced(tbl: Table, snapshots: list[Any]) -> set[str]:
    """Manifest lists, manifests and live data files of ``snapshots``."""
    paths: set[str] = set()
    for snap in snapshots:
        paths.add(snap.manifest_list)
        for manifest in snap.manifests(tbl.io):
            paths.add(manifest.manifest_path)
            for entry in manifest.fetch_manifest_entry(tbl.io, discard_deleted=True):
                paths.add(entry.data_file.file_path)
    return paths
