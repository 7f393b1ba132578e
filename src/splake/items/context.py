"""What the items sync and the notification handlers need from a runner's context (structural).

The embedded runner's ``LocalContext`` and the AWS runner's context both provide these attributes;
:class:`ItemsEnv` is a plain implementation for commands, tests and benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from splake.config import Settings
from splake.items.api import SpApi
from splake.lake.iceberg import CuratedLake
from splake.lake.raw import RawZone
from splake.ports import SecretStore, StateStore


class ItemsContext(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def state(self) -> StateStore: ...

    @property
    def client(self) -> SpApi: ...

    @property
    def raw(self) -> RawZone: ...

    @property
    def lake(self) -> CuratedLake: ...


@dataclass
class ItemsEnv:
    settings: Settings
    state: StateStore
    client: SpApi
    raw: RawZone
    lake: CuratedLake


def open_local_env(settings: Settings, secrets: SecretStore, *, client: SpApi | None = None) -> ItemsEnv:
    """Local stores under ``settings.lake.path`` (the same layout as the embedded runner)."""
    from splake.lake.catalog import open_catalog
    from splake.lake.objectstore import LocalObjectStore
    from splake.spapi.client import SpApiClient
    from splake.state.sqlite import SqliteStateStore

    root = Path(settings.lake.path)
    return ItemsEnv(
        settings=settings,
        state=SqliteStateStore(root / "state.db"),
        client=client or SpApiClient(settings, secrets),
        raw=RawZone(LocalObjectStore(root)),
        lake=CuratedLake(open_catalog(settings), settings.lake.namespace),
    )
