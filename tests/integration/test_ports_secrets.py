"""Shared SecretStore suite, run against every backend in SECRET_STORE_BACKENDS.

To add a backend, add a factory ``(tmp_path, request) -> SecretStore`` to SECRET_STORE_BACKENDS
(e.g. the AWS engineer's Secrets Manager backend using the moto server fixture via
``request.getfixturevalue(...)``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from splake.auth.secrets import LocalSecretStore
from splake.errors import SecretNotFoundError
from splake.ports import SecretStore
from tests.support.aws_fixtures import secrets_manager_store


def _local(tmp_path: Path, request: pytest.FixtureRequest) -> SecretStore:
    return LocalSecretStore(tmp_path / "secrets")


SECRET_STORE_BACKENDS: dict[str, Callable[[Path, pytest.FixtureRequest], Any]] = {
    "local": _local,
    "aws": secrets_manager_store,  # Secrets Manager + KMS on the moto server
}


@pytest.fixture(params=sorted(SECRET_STORE_BACKENDS))
def secret_store(request: pytest.FixtureRequest, tmp_path: Path) -> SecretStore:
    store = SECRET_STORE_BACKENDS[request.param](tmp_path, request)
    assert isinstance(store, SecretStore)
    return store


def test_put_get_roundtrip_unicode_and_long_values(secret_store: SecretStore) -> None:
    value = "Atzr|IwEB" + "x" * 2000 + "-ü-日本"
    secret_store.put("accounts/seller-na/refresh_token", value)
    assert secret_store.get("accounts/seller-na/refresh_token") == value


def test_missing_secret_raises_with_hint_naming_the_command(secret_store: SecretStore) -> None:
    with pytest.raises(SecretNotFoundError) as exc:
        secret_store.get("lwa/client_secret")
    assert "lwa/client_secret" in str(exc.value)
    assert exc.value.hint and "splake secrets set lwa/client_secret" in exc.value.hint
    assert secret_store.info("lwa/client_secret") is None


def test_overwrite_keeps_created_and_moves_updated(secret_store: SecretStore) -> None:
    secret_store.put("lwa/client_secret", "amzn1.oa2-cs.v1.first")
    first = secret_store.info("lwa/client_secret")
    assert first is not None
    time.sleep(0.02)
    secret_store.put("lwa/client_secret", "amzn1.oa2-cs.v1.second")
    second = secret_store.info("lwa/client_secret")
    assert second is not None
    assert secret_store.get("lwa/client_secret") == "amzn1.oa2-cs.v1.second"
    assert second.created_at == first.created_at
    assert second.updated_at > first.updated_at
    now = datetime.now(UTC)
    assert abs((now - second.updated_at).total_seconds()) < 60


def test_list_returns_names_sorted_and_delete_removes(secret_store: SecretStore) -> None:
    names = ["lwa/client_secret", "accounts/b/refresh_token", "accounts/a/refresh_token"]
    for i, name in enumerate(names):
        secret_store.put(name, f"value-{i}")
    listed = [i.name for i in secret_store.list()]
    assert listed == sorted(names)
    secret_store.delete("accounts/b/refresh_token")
    assert [i.name for i in secret_store.list()] == ["accounts/a/refresh_token", "lwa/client_secret"]
    with pytest.raises(SecretNotFoundError):
        secret_store.get("accounts/b/refresh_token")
    secret_store.delete("accounts/b/refresh_token")  # deleting twice is fine


def test_names_with_similar_prefixes_do_not_collide(secret_store: SecretStore) -> None:
    secret_store.put("accounts/a", "one")
    secret_store.put("accounts/a/refresh_token", "two")
    secret_store.put("accounts-a", "three")
    assert secret_store.get("accounts/a") == "one"
    assert secret_store.get("accounts/a/refresh_token") == "two"
    assert secret_store.get("accounts-a") == "three"
