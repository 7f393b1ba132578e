"""splake.lake.txn: a transaction's metadata is derived once per change and is what pyiceberg derives."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.table import Table

from splake.lake.txn import transaction


def _table(tmp_path: Path) -> Table:
    cat = SqlCatalog("t", uri=f"sqlite:///{tmp_path / 'cat.db'}", warehouse=f"file://{tmp_path / 'wh'}")
    cat.create_namespace("ns")
    tbl = cat.create_table("ns.t", schema=pa.schema([("k", pa.string()), ("n", pa.int64())]))
    tbl.append(pa.table({"k": ["a", "b"], "n": [1, 2]}))
    return tbl


def test_metadata_is_derived_once_per_state_and_equals_pyicebergs(tmp_path: Path) -> None:
    tbl = _table(tmp_path)
    txn = transaction(tbl)
    first = txn.table_metadata
    assert txn.table_metadata is first  # no new copy while nothing changed
    assert first == tbl.transaction().table_metadata

    txn.set_properties({"splake.test": "1"})  # an update: derived again, with it
    after = txn.table_metadata
    assert after is not first
    assert after.properties["splake.test"] == "1"
    assert "splake.test" not in first.properties

    with txn.update_snapshot().fast_append() as app:  # reads the metadata many times; one snapshot added
        for task in tbl.scan().plan_files():
            app.append_data_file(task.file)
    new = txn.commit_transaction()
    assert new.properties["splake.test"] == "1"
    assert len(new.metadata.snapshots) == 2
    assert new.scan().to_arrow().num_rows == 4


def test_a_refreshed_table_is_seen(tmp_path: Path) -> None:
    tbl = _table(tmp_path)
    txn = transaction(tbl)
    before = txn.table_metadata
    tbl.append(pa.table({"k": ["c"], "n": [3]}))  # replaces tbl.metadata (a new snapshot)
    assert txn.table_metadata is not before
    assert txn.table_metadata.current_snapshot_id == tbl.metadata.current_snapshot_id
