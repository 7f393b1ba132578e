"""An Iceberg transaction that derives its table metadata once per change, not once per look.

pyiceberg's :class:`~pyiceberg.table.Transaction` answers ``table_metadata`` by applying its pending
updates to the table's metadata and deep-copying the result, on every access. A fast append reads it
five times before it writes anything, a delete more, and the copy holds every snapshot, schema and
metadata-log entry the table keeps: a commit of a grouped write spent more of the sync process's time
copying metadata than writing manifests. The metadata a transaction sees only changes when an update is
added (``_updates`` grows; it is replaced, never mutated) or when the table object's metadata is replaced
(a refresh): :class:`Transaction` derives it again then, and hands out the same (immutable) object
meanwhile.
"""

from __future__ import annotations

from typing import Any

from pyiceberg.table import Table
from pyiceberg.table import Transaction as _Transaction
from pyiceberg.table.metadata import TableMetadata


class Transaction(_Transaction):
    """:class:`pyiceberg.table.Transaction` with ``table_metadata`` derived once per state."""

    _derived: tuple[Any, Any, TableMetadata] | None = None

    @property
    def table_metadata(self) -> TableMetadata:
        base, updates = self._table.metadata, self._updates
        derived = self._derived
        if derived is None or derived[0] is not base or derived[1] is not updates:
            derived = self._derived = (base, updates, super().table_metadata)
        return derived[2]


def transaction(tbl: Table) -> Transaction:
    """``tbl.transaction()``, with the metadata derived once per change."""
    return Transaction(tbl)
