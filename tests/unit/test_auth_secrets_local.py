"""LocalSecretStore specifics: permissions, encryption at rest, wrong key, tampering, name validation."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from splake.auth.secrets import KEY_DIR_ENV, KEY_FILE, LocalSecretStore, exposed_paths
from splake.errors import ConfigError, FatalError

SECRET = "amzn1.oa2-cs.v1.3c9d0f0e8b7a6f5e4d3c2b1a0f9e8d7c"


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_key_file_0600_dir_0700_and_files_0600(tmp_path: Path) -> None:
    d = tmp_path / "s"
    store = LocalSecretStore(d)
    store.put("lwa/client_secret", SECRET)
    assert _mode(d) == 0o700
    assert _mode(store.key_path) == 0o600 and _mode(store.key_path.parent) == 0o700
    assert len(store.key_path.read_bytes()) == 32
    files = [p for p in d.iterdir() if p.name.endswith(".secret.json")]
    assert len(files) == 1
    assert _mode(files[0]) == 0o600


def test_value_never_on_disk_in_plaintext(tmp_path: Path) -> None:
    d = tmp_path / "s"
    store = LocalSecretStore(d)
    store.put("lwa/client_secret", SECRET)
    store.put("lwa/client_secret", SECRET + "2")  # overwrite path too
    for p in d.rglob("*"):
        data = p.read_bytes()
        assert SECRET.encode() not in data
        assert b"3c9d0f0e8b7a" not in data


def test_wrong_key_gives_clear_error(tmp_path: Path) -> None:
    d = tmp_path / "s"
    LocalSecretStore(d).put("lwa/client_secret", SECRET)
    key = LocalSecretStore(d).key_path
    os.chmod(key, 0o600)
    key.write_bytes(os.urandom(32))
    with pytest.raises(FatalError) as exc:
        LocalSecretStore(d).get("lwa/client_secret")
    text = str(exc.value)
    assert "cannot decrypt" in text and "key file" in text
    assert SECRET not in text


def test_missing_key_file_is_explained(tmp_path: Path) -> None:
    d = tmp_path / "s"
    LocalSecretStore(d).put("lwa/client_secret", SECRET)
    LocalSecretStore(d).key_path.unlink()
    with pytest.raises(FatalError, match=r"key file .* is missing"):
        LocalSecretStore(d).get("lwa/client_secret")


def test_ciphertext_bound_to_name(tmp_path: Path) -> None:
    """Copying one secret's file over another's must not return the other value."""
    d = tmp_path / "s"
    store = LocalSecretStore(d)
    store.put("accounts/a/refresh_token", "Atzr|token-a-123456")
    store.put("accounts/b/refresh_token", "Atzr|token-b-123456")
    files = {json.loads(p.read_text())["name"]: p for p in d.glob("*.secret.json")}
    record_a = json.loads(files["accounts/a/refresh_token"].read_text())
    record_b = json.loads(files["accounts/b/refresh_token"].read_text())
    record_b["nonce"], record_b["ciphertext"] = record_a["nonce"], record_a["ciphertext"]
    files["accounts/b/refresh_token"].write_text(json.dumps(record_b))
    with pytest.raises(FatalError, match="cannot decrypt"):
        LocalSecretStore(d).get("accounts/b/refresh_token")
    assert LocalSecretStore(d).get("accounts/a/refresh_token") == "Atzr|token-a-123456"


def test_group_readable_key_file_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "s"
    LocalSecretStore(d).put("x", "value-123")
    os.chmod(LocalSecretStore(d).key_path, 0o644)
    with pytest.raises(FatalError, match="chmod 600"):
        LocalSecretStore(d).get("x")


@pytest.mark.parametrize("name", ["", "../etc/passwd", "a/../b", "/abs", "a//b", "a/", "sp ace"])
def test_invalid_names_rejected(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError):
        LocalSecretStore(tmp_path).put(name, "v")


def test_list_on_missing_dir_is_empty_and_does_not_create_it(tmp_path: Path) -> None:
    d = tmp_path / "nope"
    assert LocalSecretStore(d).list() == []
    assert not d.exists()


def test_key_lives_outside_the_store_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy of the lake (its .secrets included) on another machine cannot decrypt the secrets."""
    monkeypatch.setenv(KEY_DIR_ENV, str(tmp_path / "home-a" / "keys"))
    lake = tmp_path / "lake" / ".secrets"
    store = LocalSecretStore(lake)
    store.put("lwa/client_secret", SECRET)
    assert store.key_path.parent == tmp_path / "home-a" / "keys"
    assert not (lake / KEY_FILE).exists()
    assert all(SECRET.encode() not in p.read_bytes() for p in lake.iterdir())
    copy = tmp_path / "copy" / ".secrets"
    copy.parent.mkdir()
    shutil.copytree(lake, copy)
    assert LocalSecretStore(copy).get("lwa/client_secret") == SECRET  # same user, same machine
    monkeypatch.setenv(KEY_DIR_ENV, str(tmp_path / "home-b" / "keys"))  # another machine / user
    with pytest.raises(FatalError, match=r"key file .* is missing"):
        LocalSecretStore(copy).get("lwa/client_secret")


def test_legacy_key_inside_the_lake_is_moved_out_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_DIR_ENV, str(tmp_path / "keys"))
    d = tmp_path / "lake" / ".secrets"
    old = LocalSecretStore(d, key_path=d / KEY_FILE)  # how older splake stored it
    old.put("lwa/client_secret", SECRET)
    legacy = (d / KEY_FILE).read_bytes()
    store = LocalSecretStore(d)
    assert store.get("lwa/client_secret") == SECRET
    assert not (d / KEY_FILE).exists()
    assert store.key_path.read_bytes() == legacy and _mode(store.key_path) == 0o600
    assert LocalSecretStore(d).get("lwa/client_secret") == SECRET  # and again, from the new place


def test_exposed_secret_files_are_named(tmp_path: Path) -> None:
    d = tmp_path / "s"
    store = LocalSecretStore(d)
    store.put("x", "value-123")
    assert exposed_paths(store) == []
    os.chmod(d, 0o755)
    f = next(d.glob("*.secret.json"))
    os.chmod(f, 0o644)
    found = exposed_paths(LocalSecretStore(d))
    assert any(str(d) in w and "chmod 700" in w for w in found)
    assert any(str(f) in w and "chmod 600" in w for w in found)
