"""Rewrites a commit needs: live data files without the rows whose key a newer document brings
(:func:`rewrite_without`, staged into the transaction as an overwrite) and staged files without rows that
must not be added (:func:`without_keys`: new files; the staged originals stay untouched)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyiceberg.expressions import (
    AlwaysTrue,
    And,
    BooleanExpression,
    EqualTo,
    GreaterThanOrEqual,
    In,
    LessThanOrEqual,
)
from pyiceberg.io.pyarrow import ArrowScan, _dataframe_to_data_files
from pyiceberg.manifest import DataFile
from pyiceberg.table import Table, Transaction

from splake.lake.dedup import KeyMatches
from splake.lake.filters import literal


def rewrite_without(
    txn: Transaction,
    tbl: Table,
    accounts: Sequence[str],
    window_column: str | None,
    matches: KeyMatches,
    props: dict[str, str],
) -> list[DataFile]:
    """Stage an overwrite that removes the live rows whose key is in ``matches.keys`` (exact: only the files
    that hold them are rewritten; candidates are pruned by account, marketplace and window range).
    Returns the files written."""
    schema = tbl.schema()
    row_filter: BooleanExpression = And(
        In(term="account_id", literals=list(accounts))
        if len(accounts) > 1
        else EqualTo(term="account_id", value=accounts[0]),
        In(term="marketplace_id", literals=list(matches.marketplaces)),
    )
    if window_column and not matches.any_null_window and matches.window_min is not None:
        ftype = schema.find_field(window_column).field_type
        row_filter = And(
            row_filter,
            And(
                GreaterThanOrEqual(term=window_column, value=literal(ftype, matches.window_min)),
                LessThanOrEqual(
                    term=window_column,
                    value=literal(ftype, matches.window_max or matches.window_min),
                ),
            ),
        )
    drop = matches.keys
    hits = []
    for task in tbl.scan(row_filter=row_filter).plan_files():
        if matches.files is not None:
            if task.file.file_path in matches.files:
                hits.append(task)
            continue
        with tbl.io.new_input(task.file.file_path).open() as fh:
            keys = pq.read_table(fh, columns=["row_key"]).column(0)
        if pc.any(pc.is_in(keys, value_set=drop)).as_py():
            hits.append(task)
    written: list[DataFile] = []
    if not hits:
        return written
    write_uuid = uuid.uuid4()
    counter = itertools.count(0)
    with txn.update_snapshot(snapshot_properties=props).overwrite() as overwrite:
        for task in hits:
            data = ArrowScan(
                table_metadata=tbl.metadata, io=tbl.io, projected_schema=schema, row_filter=AlwaysTrue()
            ).to_table(tasks=[task])
            kept = data.filter(pc.invert(pc.is_in(data.column("row_key"), value_set=drop)))
            overwrite.delete_data_file(task.file)
            if kept.num_rows:
                for new_file in _dataframe_to_data_files(
                    table_metadata=tbl.metadata, df=kept, io=tbl.io, write_uuid=write_uuid, counter=counter
                ):
                    written.append(new_file)
                    overwrite.append_data_file(new_file)
    return written


def without_keys(
    tbl: Table, files: Sequence[DataFile], drop: pa.Array
) -> tuple[list[DataFile], list[DataFile]]:
    """Staged files without the rows whose key is in ``drop``: files holding such rows are replaced by new
    files (the originals stay untouched until the commit succeeds). Returns (files to add, new files)."""
    out: list[DataFile] = []
    written: list[DataFile] = []
    for f in files:
        with tbl.io.new_input(f.file_path).open() as fh:
            data = pq.read_table(fh)
        mask = pc.is_in(data.column("row_key"), value_set=drop)
        if not pc.any(mask).as_py():
            out.append(f)
            continue
        kept = data.filter(pc.invert(mask))
        if kept.num_rows:
            new = list(
                _dataframe_to_data_files(
                    table_metadata=tbl.metadata, df=kept, io=tbl.io, write_uuid=uuid.uuid4()
                )
            )
            out += new
            written += new
    return out, written
