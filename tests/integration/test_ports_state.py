"""Shared StateStore suite: runs against every backend in tests.support.lake_fixtures.STATE_BACKENDS
(SQLite here; the AWS fixtures add DynamoDB on a moto server)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from splake.errors import ConflictError
from splake.ports import StateStore
from tests.support.lake_fixtures import STATE_BACKEND_REOPEN, STATE_BACKENDS


@pytest.fixture(params=sorted(STATE_BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, StateStore]:
    name = request.param
    return name, STATE_BACKENDS[name](request, tmp_path)


@pytest.fixture
def store(backend: tuple[str, StateStore]) -> StateStore:
    return backend[1]


def _body(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {k: v for k, v in item.items() if not k.startswith("_")}


def test_is_a_state_store(store: StateStore) -> None:
    assert isinstance(store, StateStore)


def test_get_missing_is_none(store: StateStore) -> None:
    assert store.get("ledger", "acct", "nope") is None


def test_put_then_get_roundtrips_json_values(store: StateStore) -> None:
    value = {
        "status": "DONE",
        "n": 3,
        "ratio": 0.25,
        "ok": True,
        "none": None,
        "ids": ["a", "b"],
        "nested": {"k": [1, {"x": "ü日本"}]},
    }
    stored = store.put("ledger", "acct-1", "2026-01-01#GET_X", value)
    assert stored["_version"] == 1
    got = store.get("ledger", "acct-1", "2026-01-01#GET_X")
    assert got is not None
    assert _body(got) == value
    assert got["_version"] == 1
    assert got["_pk"] == "acct-1" and got["_sk"] == "2026-01-01#GET_X"


def test_unconditional_put_bumps_version_and_replaces(store: StateStore) -> None:
    store.put("cursors", "a", "s", {"v": 1, "old": True})
    second = store.put("cursors", "a", "s", {"v": 2})
    assert second["_version"] == 2
    assert _body(store.get("cursors", "a", "s")) == {"v": 2}


def test_reserved_fields_in_input_are_ignored(store: StateStore) -> None:
    store.put("cursors", "a", "s", {"v": 1})
    out = store.put("cursors", "a", "s", {"v": 2, "_version": 99})
    assert out["_version"] == 2
    got = store.get("cursors", "a", "s")
    assert got is not None and got["_version"] == 2


def test_expect_version_zero_means_create_only(store: StateStore) -> None:
    store.put("registry", "p", "s", {"v": 1}, expect_version=0)
    with pytest.raises(ConflictError) as exc:
        store.put("registry", "p", "s", {"v": 2}, expect_version=0)
    assert exc.value.hint  # says what to do
    assert _body(store.get("registry", "p", "s")) == {"v": 1}


def test_expect_version_must_match_current(store: StateStore) -> None:
    first = store.put("registry", "p", "s", {"v": 1})
    second = store.put("registry", "p", "s", {"v": 2}, expect_version=first["_version"])
    assert second["_version"] == first["_version"] + 1
    with pytest.raises(ConflictError):
        store.put("registry", "p", "s", {"v": 3}, expect_version=first["_version"])  # stale
    with pytest.raises(ConflictError):
        store.put("registry", "p", "missing", {"v": 3}, expect_version=1)  # does not exist
    assert _body(store.get("registry", "p", "s")) == {"v": 2}
    assert store.get("registry", "p", "missing") is None


def test_delete(store: StateStore) -> None:
    store.put("n", "p", "s", {"v": 1})
    store.delete("n", "p", "s")
    assert store.get("n", "p", "s") is None
    store.delete("n", "p", "s")  # deleting a missing item is fine
    again = store.put("n", "p", "s", {"v": 2}, expect_version=0)
    assert again["_version"] == 1


def test_query_by_prefix_is_ordered_and_scoped(store: StateStore) -> None:
    for sk in ["2026-01-03#b", "2026-01-01#a", "2026-01-02#c", "2025-12-31#z", "2026-01-01#A"]:
        store.put("ledger", "acct", sk, {"sk": sk})
    store.put("ledger", "other", "2026-01-01#x", {"sk": "x"})
    store.put("cursors", "acct", "2026-01-01#y", {"sk": "y"})
    got = store.query("ledger", "acct", "2026-01")
    assert [i["_sk"] for i in got] == ["2026-01-01#A", "2026-01-01#a", "2026-01-02#c", "2026-01-03#b"]
    assert all(i["_pk"] == "acct" and i["sk"] == i["_sk"] for i in got)
    everything = store.query("ledger", "acct")
    assert [i["_sk"] for i in everything] == sorted(
        ["2026-01-03#b", "2026-01-01#a", "2026-01-02#c", "2025-12-31#z", "2026-01-01#A"]
    )
    assert store.query("ledger", "nobody") == []


def test_query_prefix_is_literal_and_case_sensitive(store: StateStore) -> None:
    for sk in ["a%b", "axb", "a_c", "aXc", "A_c"]:
        store.put("ns", "p", sk, {"v": sk})
    assert [i["_sk"] for i in store.query("ns", "p", "a%")] == ["a%b"]
    assert [i["_sk"] for i in store.query("ns", "p", "a_")] == ["a_c"]
    assert [i["_sk"] for i in store.query("ns", "p", "A")] == ["A_c"]


def test_scan_returns_whole_namespace(store: StateStore) -> None:
    store.put("notifications", "p1", "s1", {"v": 1})
    store.put("notifications", "p2", "s2", {"v": 2})
    store.put("ledger", "p1", "s1", {"v": 3})
    items = sorted(store.scan("notifications"), key=lambda i: (i["_pk"], i["_sk"]))
    assert [(i["_pk"], i["_sk"], i["v"]) for i in items] == [("p1", "s1", 1), ("p2", "s2", 2)]
    assert all(i["_version"] == 1 for i in items)


def test_second_handle_sees_writes(
    backend: tuple[str, StateStore], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    name, store = backend
    if name not in STATE_BACKEND_REOPEN:
        pytest.skip(f"{name}: no reopen factory")
    other = STATE_BACKEND_REOPEN[name](request, tmp_path, store)
    store.put("ledger", "p", "s", {"v": 1})
    got = other.get("ledger", "p", "s")
    assert got is not None and got["v"] == 1
    other.put("ledger", "p", "s", {"v": 2}, expect_version=1)
    with pytest.raises(ConflictError):
        store.put("ledger", "p", "s", {"v": 3}, expect_version=1)


def test_optimistic_increments_from_threads_lose_nothing(store: StateStore) -> None:
    store.put("counters", "c", "n", {"n": 0})
    threads, per_thread = 4, 15
    conflicts = 0
    lock = threading.Lock()

    def worker() -> None:
        nonlocal conflicts
        for _ in range(per_thread):
            while True:
                cur = store.get("counters", "c", "n")
                assert cur is not None
                try:
                    store.put("counters", "c", "n", {"n": cur["n"] + 1}, expect_version=cur["_version"])
                    break
                except ConflictError:
                    with lock:
                        conflicts += 1

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    final = store.get("counters", "c", "n")
    assert final is not None
    assert final["n"] == threads * per_thread
    assert final["_version"] == threads * per_thread + 1
