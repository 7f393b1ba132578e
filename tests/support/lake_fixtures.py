"""Fixtures: lake (raw zone, curated Iceberg lake, query engine) and the port backends.

Port suites (tests/integration/test_ports_state.py, test_ports_objectstore.py) run once per entry of
``STATE_BACKENDS`` / ``OBJECT_BACKENDS``. Another fixture module adds its backend at import time::

    from tests.support.lake_fixtures import STATE_BACKENDS

    def _dynamodb(request, tmp_path):
        server = request.getfixturevalue("moto_server")
        return DynamoStateStore(...)      # use request.addfinalizer(...) for cleanup

    STATE_BACKENDS["dynamodb"] = _dynamodb

A factory takes ``(request: pytest.FixtureRequest, tmp_path: Path)`` and returns a fresh, empty store.
Optional ``STATE_BACKEND_REOPEN[name](request, tmp_path, store)`` returns a second handle on the same
data (used by the "another process/handle sees it" tests); local backends reopen the same file/dir.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from splake.lake.catalog import open_local_catalog
from splake.lake.iceberg import CuratedLake
from splake.lake.objectstore import LocalObjectStore
from splake.lake.query import QueryEngine
from splake.lake.raw import RawZone
from splake.ports import ObjectStore, StateStore
from splake.state.sqlite import SqliteStateStore

Factory = Callable[[pytest.FixtureRequest, Path], Any]
Reopen = Callable[[pytest.FixtureRequest, Path, Any], Any]


def _sqlite_state(request: pytest.FixtureRequest, tmp_path: Path) -> StateStore:
    store = SqliteStateStore(tmp_path / "state" / "state.db")
    request.addfinalizer(store.close)
    return store


def _sqlite_state_reopen(request: pytest.FixtureRequest, tmp_path: Path, store: Any) -> StateStore:
    other = SqliteStateStore(store.path)
    request.addfinalizer(other.close)
    return other


def _local_objects(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    return LocalObjectStore(tmp_path / "objects")


def _local_objects_reopen(request: pytest.FixtureRequest, tmp_path: Path, store: Any) -> ObjectStore:
    return LocalObjectStore(store.root)


def _dynamodb_state(request: pytest.FixtureRequest, tmp_path: Path) -> StateStore:
    # the AWS engineer's fixtures (tests/support/aws_fixtures.py): a fresh table on the moto server
    store: StateStore = request.getfixturevalue("aws_state_store")
    return store


def _dynamodb_state_reopen(request: pytest.FixtureRequest, tmp_path: Path, store: Any) -> StateStore:
    from splake.runners.aws.backends import DynamoStateStore

    return DynamoStateStore(
        request.getfixturevalue("aws_table"), request.getfixturevalue("moto_server").endpoint
    )


def _s3_objects(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    store: ObjectStore = request.getfixturevalue("aws_object_store")
    return store


def _s3_objects_reopen(request: pytest.FixtureRequest, tmp_path: Path, store: Any) -> ObjectStore:
    from splake.runners.aws.backends import S3ObjectStore

    return S3ObjectStore(
        request.getfixturevalue("aws_bucket"),
        request.getfixturevalue("moto_server").endpoint,
        kms_key_id=request.getfixturevalue("aws_kms_key"),
    )


STATE_BACKENDS: dict[str, Factory] = {"sqlite": _sqlite_state, "dynamodb": _dynamodb_state}
STATE_BACKEND_REOPEN: dict[str, Reopen] = {"sqlite": _sqlite_state_reopen, "dynamodb": _dynamodb_state_reopen}
OBJECT_BACKENDS: dict[str, Factory] = {"local": _local_objects, "s3": _s3_objects}
OBJECT_BACKEND_REOPEN: dict[str, Reopen] = {"local": _local_objects_reopen, "s3": _s3_objects_reopen}


@pytest.fixture
def lake_dir(tmp_path: Path) -> Path:
    d = tmp_path / "lake"
    d.mkdir()
    return d


@pytest.fixture
def lake_catalog(lake_dir: Path) -> Any:
    return open_local_catalog(lake_dir)


@pytest.fixture
def curated_lake(lake_catalog: Any) -> CuratedLake:
    return CuratedLake(lake_catalog, "spapi")


@pytest.fixture
def query_engine(lake_catalog: Any) -> Iterator[QueryEngine]:
    engine = QueryEngine(lake_catalog, "spapi")
    yield engine
    engine.close()


@pytest.fixture
def local_object_store(lake_dir: Path) -> LocalObjectStore:
    return LocalObjectStore(lake_dir / "objects")


@pytest.fixture
def raw_zone(local_object_store: LocalObjectStore) -> RawZone:
    return RawZone(local_object_store)


@pytest.fixture
def sqlite_state_store(tmp_path: Path) -> Iterator[SqliteStateStore]:
    store = SqliteStateStore(tmp_path / "state.db")
    yield store
    store.close()
