"""Shared ObjectStore suite: runs against every backend in tests.support.lake_fixtures.OBJECT_BACKENDS
(local directory here; the AWS fixtures add S3 on a moto server)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from splake.errors import ObjectNotFoundError
from splake.ports import ObjectStore
from tests.support.lake_fixtures import OBJECT_BACKEND_REOPEN, OBJECT_BACKENDS


@pytest.fixture(params=sorted(OBJECT_BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, ObjectStore]:
    name = request.param
    return name, OBJECT_BACKENDS[name](request, tmp_path)


@pytest.fixture
def store(backend: tuple[str, ObjectStore]) -> ObjectStore:
    return backend[1]


def test_is_an_object_store(store: ObjectStore) -> None:
    assert isinstance(store, ObjectStore)


def test_put_get_roundtrip_binary(store: ObjectStore) -> None:
    data = bytes(range(256)) * 10
    assert store.put_bytes("raw/a/b.bin", data) is True
    assert store.get_bytes("raw/a/b.bin") == data
    assert store.exists("raw/a/b.bin")
    assert not store.exists("raw/a/c.bin")
    assert not store.exists("raw/a")  # a "directory" is not an object


def test_put_overwrites_unless_if_absent(store: ObjectStore) -> None:
    store.put_bytes("k/x", b"one")
    assert store.put_bytes("k/x", b"two") is True
    assert store.get_bytes("k/x") == b"two"
    assert store.put_bytes("k/x", b"three", if_absent=True) is False
    assert store.get_bytes("k/x") == b"two"
    assert store.put_bytes("k/y", b"new", if_absent=True) is True
    assert store.get_bytes("k/y") == b"new"


def test_put_file_and_streaming_open(store: ObjectStore, tmp_path: Path) -> None:
    src = tmp_path / "doc.tsv.gz"
    payload = b"\x1f\x8b" + b"x" * (3 * 1024 * 1024 + 17)  # > 1 chunk, not text
    src.write_bytes(payload)
    assert store.put_file("raw/doc.tsv.gz", src, content_type="text/tab-separated-values") is True
    assert store.put_file("raw/doc.tsv.gz", src, if_absent=True) is False
    read = bytearray()
    with store.open("raw/doc.tsv.gz") as f:
        while chunk := f.read(65536):
            read += chunk
    assert bytes(read) == payload


def test_missing_objects_raise_object_not_found(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFoundError) as exc:
        store.get_bytes("raw/none")
    assert "raw/none" in str(exc.value)
    with pytest.raises(ObjectNotFoundError):
        store.open("raw/none")


def test_list_by_prefix(store: ObjectStore) -> None:
    keys = ["raw/r/acct/b.gz", "raw/r/acct/a.gz", "raw/r/acct2/c.gz", "raw/s/d.gz", "other/e"]
    for i, k in enumerate(keys):
        store.put_bytes(k, b"x" * (i + 1))
    assert [o.key for o in store.list("raw/r/acct/")] == ["raw/r/acct/a.gz", "raw/r/acct/b.gz"]
    # a prefix need not end at a '/' boundary
    assert [o.key for o in store.list("raw/r/acct")] == [
        "raw/r/acct/a.gz",
        "raw/r/acct/b.gz",
        "raw/r/acct2/c.gz",
    ]
    sizes = {o.key: o.size for o in store.list("raw/")}
    assert sizes == {"raw/r/acct/a.gz": 2, "raw/r/acct/b.gz": 1, "raw/r/acct2/c.gz": 3, "raw/s/d.gz": 4}
    assert list(store.list("nothing/")) == []
    assert all(o.modified.tzinfo is not None for o in store.list("raw/"))


def test_uri_names_the_object(store: ObjectStore) -> None:
    store.put_bytes("raw/u/v.json", b"{}")
    uri = store.uri("raw/u/v.json")
    assert uri.startswith(("file:///", "s3://"))
    assert uri.endswith("raw/u/v.json")


def test_concurrent_if_absent_has_exactly_one_winner(store: ObjectStore) -> None:
    n = 8
    barrier = threading.Barrier(n)
    results: dict[int, bool] = {}

    def writer(i: int) -> None:
        barrier.wait()
        results[i] = store.put_bytes("race/key", f"writer-{i}".encode() * 1000, if_absent=True)

    ts = [threading.Thread(target=writer, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    winners = [i for i, won in results.items() if won]
    assert len(winners) == 1
    assert store.get_bytes("race/key") == f"writer-{winners[0]}".encode() * 1000


def test_second_handle_sees_objects(
    backend: tuple[str, ObjectStore], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    name, store = backend
    if name not in OBJECT_BACKEND_REOPEN:
        pytest.skip(f"{name}: no reopen factory")
    other = OBJECT_BACKEND_REOPEN[name](request, tmp_path, store)
    store.put_bytes("raw/shared", b"data")
    assert other.get_bytes("raw/shared") == b"data"
    assert other.put_bytes("raw/shared", b"other", if_absent=True) is False
