"""Opening the Iceberg catalog: SQLite-backed SqlCatalog locally, AWS Glue in the cloud."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

import sqlalchemy.exc
from pyiceberg.catalog import Catalog
from pyiceberg.catalog.glue import GlueCatalog

from splake.config import Settings
from splake.errors import ConfigError, FatalError
from splake.lake.location import io_properties
from splake.lake.metacache import CachingSqlCatalog
from splake.lake.root import prepare_root

CATALOG_NAME = "splake"


def local_catalog_properties(lake_path: str | Path) -> dict[str, str]:
    """SqlCatalog properties of the lake at ``lake_path``: every table file is read and written through
    :class:`~splake.lake.location.RootedFileIO`, confined to the lake root (a copied or moved lake maps
    its old paths into the new root and never touches the original)."""
    root = Path(lake_path).expanduser().resolve()
    return {
        "uri": f"sqlite:///{root / 'catalog.db'}",
        "warehouse": f"file://{root / 'warehouse'}",
        **io_properties(root),
    }


class CatalogDamagedError(FatalError):
    code = "catalog_damaged"


def open_local_catalog(lake_path: str | Path) -> Catalog:
    """SqlCatalog in ``<lake_path>/catalog.db`` with the warehouse at ``<lake_path>/warehouse`` (parsed
    metadata files reused: :mod:`splake.lake.metacache`). An unreadable catalog.db raises
    :class:`CatalogDamagedError` (with the fix)."""
    root = prepare_root(lake_path, writable=False)
    try:
        (root / "warehouse").mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the lake directory {root}: {exc}",
            where="[lake].path",
            hint="point [lake].path at a writable directory",
        ) from None
    try:
        return CachingSqlCatalog(CATALOG_NAME, **local_catalog_properties(root))
    except (sqlite3.DatabaseError, sqlalchemy.exc.DatabaseError) as exc:
        raise CatalogDamagedError(
            f"the Iceberg catalog {root / 'catalog.db'} is unreadable ({str(exc).splitlines()[0][:200]})",
            where="[lake].path",
            hint="restore catalog.db from a backup, or run `splake lake rebuild` to re-create every "
            "table from the raw zone (the damaged file is kept aside); the raw zone and ledger are intact",
        ) from None


def open_catalog(settings: Settings) -> Catalog:
    """The catalog of the embedded runner (local SqlCatalog under ``settings.lake.path``)."""
    return open_local_catalog(settings.lake.path)


def open_glue_catalog(props: Mapping[str, str]) -> Catalog:
    """GlueCatalog from explicit properties, e.g. ``warehouse=s3://bucket/warehouse``, ``glue.region``,
    ``s3.region`` and, for tests against moto, ``glue.endpoint`` / ``s3.endpoint`` and access keys."""
    if "warehouse" not in props:
        raise ConfigError(
            "Glue catalog properties lack 'warehouse'",
            where="open_glue_catalog",
            hint="pass warehouse='s3://<bucket>/warehouse'",
        )
    return GlueCatalog(CATALOG_NAME, **dict(props))
