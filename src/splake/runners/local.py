"""The embedded runner: everything in one process, state under ``[lake].path``.

Layout of ``[lake].path``::

    state.db          ledger, cursors, registry (SqliteStateStore)
    raw/              raw zone (LocalObjectStore)
    catalog.db        Iceberg SqlCatalog
    warehouse/        Iceberg data and metadata
    .secrets/         local secret store (as `splake secrets`; SPLAKE_SECRETS_DIR overrides)
    tmp/              downloads in progress
"""

from __future__ import annotations

import os
from pathlib import Path

from splake.auth.secrets import LocalSecretStore, default_secret_dir
from splake.config import Settings
from splake.lake.catalog import open_catalog
from splake.lake.iceberg import CuratedLake
from splake.lake.objectstore import LocalObjectStore
from splake.lake.query import QueryEngine
from splake.lake.raw import RawZone
from splake.ports import SecretStore
from splake.runners.context import Context, ReportsClient, utcnow
from splake.spapi.client import SpApiClient
from splake.state.sqlite import SqliteStateStore

SECRETS_DIR_ENV = "SPLAKE_SECRETS_DIR"


def lake_root(settings: Settings) -> Path:
    return Path(settings.lake.path).expanduser().resolve()


def default_secrets_dir(settings: Settings) -> Path:
    env = os.environ.get(SECRETS_DIR_ENV)
    return Path(env).expanduser() if env else default_secret_dir(settings)


class LocalContext(Context):
    """A :class:`~splake.runners.context.Context` with local backends."""

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        secrets: SecretStore | None = None,
        client: ReportsClient | None = None,
    ) -> LocalContext:
        root = lake_root(settings)
        root.mkdir(parents=True, exist_ok=True)
        work = root / "tmp"
        work.mkdir(exist_ok=True)
        state = SqliteStateStore(root / "state.db")
        objects = LocalObjectStore(root)
        catalog = open_catalog(settings)
        lake = CuratedLake(catalog, settings.lake.namespace)
        store = secrets or LocalSecretStore(default_secrets_dir(settings))
        ctx = cls(
            settings=settings,
            state=state,
            objects=objects,
            raw=RawZone(objects),
            lake=lake,
            client=client or SpApiClient(settings, store),
            clock=utcnow,
            work_dir=work,
        )
        ctx.closers.append(state.close)
        return ctx

    def query_engine(self) -> QueryEngine:
        return QueryEngine(self.lake.catalog, self.settings.lake.namespace)
