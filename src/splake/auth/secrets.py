"""Local secret store: one AES-256-GCM encrypted file per secret, key in a 0600 key file.

Layout of ``dir`` (created 0700)::

    .key                         32 random bytes (0600); whoever can read it can read every secret
    <base32(name)>.secret.json   {"v": 1, "name", "created_at", "updated_at", "nonce", "ciphertext"} (0600)

The ciphertext is bound to the secret's name (AES-GCM associated data), so a file renamed or copied
over another secret fails to decrypt instead of silently returning the wrong value. Names and
timestamps are stored in clear (they are needed for ``splake secrets list`` and age warnings without
decrypting); values never touch the disk unencrypted (writes go through a 0600 temp file + rename).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from splake.config import Settings
from splake.errors import ConfigError, FatalError, SecretNotFoundError
from splake.ports import SecretInfo

KEY_FILE = ".key"
SUFFIX = ".secret.json"
FORMAT_VERSION = 1
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+=/-]{0,254}$")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def validate_secret_name(name: str) -> str:
    """Names look like paths (``lwa/client_secret``, ``accounts/acme-na/refresh_token``)."""
    if not _NAME_RE.match(name) or ".." in name.split("/") or name.endswith("/") or "//" in name:
        raise ConfigError(
            f"invalid secret name {name!r}",
            hint="use letters, digits and _ . - / (e.g. accounts/acme-na/refresh_token); no '..' segments",
        )
    return name


def _file_name(name: str) -> str:
    return base64.b32encode(name.encode("utf-8")).decode("ascii").rstrip("=").lower() + SUFFIX


class LocalSecretStore:
    """:class:`splake.ports.SecretStore` backed by a local directory (see module docstring)."""

    def __init__(self, dir: str | Path, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self.dir = Path(dir)
        self._clock = clock
        self._key: bytes | None = None

    # --- key handling -------------------------------------------------------------------------------

    @property
    def key_path(self) -> Path:
        return self.dir / KEY_FILE

    def _ensure_dir(self) -> None:
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        mode = self.dir.stat().st_mode & 0o777
        if mode & 0o077:
            os.chmod(self.dir, 0o700)

    def _load_key(self, *, create: bool) -> bytes | None:
        if self._key is not None:
            return self._key
        path = self.key_path
        if not path.exists():
            if not create:
                return None
            self._ensure_dir()
            key = AESGCM.generate_key(bit_length=256)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process created it first: use theirs
                return self._load_key(create=False)
            with os.fdopen(fd, "wb") as fh:
                fh.write(key)
            self._key = key
            return key
        if path.stat().st_mode & 0o077:
            raise FatalError(
                f"secret key file {path} is readable by other users",
                hint=f"restrict it with `chmod 600 {path}`",
            )
        key = path.read_bytes()
        if len(key) != 32:
            raise FatalError(
                f"secret key file {path} is not a 256-bit key ({len(key)} bytes)",
                hint="restore the original key file from your backup; without it the stored secrets "
                "cannot be decrypted (delete the directory and set the secrets again as a last resort)",
            )
        self._key = key
        return key

    # --- file handling ------------------------------------------------------------------------------

    def _path(self, name: str) -> Path:
        return self.dir / _file_name(validate_secret_name(name))

    def _read_record(self, path: Path) -> dict[str, Any] | None:
        try:
            record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise FatalError(
                f"secret file {path} is unreadable or corrupt: {exc}",
                hint="set the secret again with `splake secrets set NAME`",
            ) from None
        return record

    def _write_record(self, path: Path, record: dict[str, Any]) -> None:
        self._ensure_dir()
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.dir)  # mkstemp creates the file 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(record, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    @staticmethod
    def _info(record: dict[str, Any]) -> SecretInfo:
        return SecretInfo(
            name=str(record["name"]),
            created_at=datetime.fromisoformat(record["created_at"]),
            updated_at=datetime.fromisoformat(record["updated_at"]),
        )

    # --- SecretStore --------------------------------------------------------------------------------

    def get(self, name: str) -> str:
        path = self._path(name)
        record = self._read_record(path)
        if record is None:
            raise SecretNotFoundError(
                f"secret {name!r} is not set",
                where=str(self.dir),
                hint=f"store it with `splake secrets set {name}` "
                "(the value is read from stdin or a hidden prompt)",
            )
        key = self._load_key(create=False)
        if key is None:
            raise FatalError(
                f"secret {name!r} exists but the key file {self.key_path} is missing",
                hint="restore the key file from your backup, or set the secrets again with "
                "`splake secrets set`",
            )
        try:
            plain = AESGCM(key).decrypt(
                base64.b64decode(record["nonce"]),
                base64.b64decode(record["ciphertext"]),
                name.encode("utf-8"),
            )
        except (InvalidTag, KeyError, ValueError):
            raise FatalError(
                f"cannot decrypt secret {name!r}: the key file {self.key_path} does not match the one it was "
                "encrypted with (or the secret file was modified)",
                where=str(path),
                hint="restore the original key file, or set the secret again with "
                f"`splake secrets set {name}`",
            ) from None
        return plain.decode("utf-8")

    def put(self, name: str, value: str) -> None:
        path = self._path(name)
        key = self._load_key(create=True)
        assert key is not None
        now = self._clock().astimezone(UTC).isoformat()
        previous = self._read_record(path)
        nonce = os.urandom(12)
        ciphertext = AESGCM(key).encrypt(nonce, value.encode("utf-8"), name.encode("utf-8"))
        record = {
            "v": FORMAT_VERSION,
            "name": name,
            "created_at": previous["created_at"] if previous else now,
            "updated_at": now,
            "nonce": base64.b64encode(nonce).decode("ascii"),
            "ciphertext": base64.b64encode(ciphertext).decode("ascii"),
        }
        self._write_record(path, record)

    def delete(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(name).unlink()

    def info(self, name: str) -> SecretInfo | None:
        record = self._read_record(self._path(name))
        return None if record is None else self._info(record)

    def list(self) -> list[SecretInfo]:
        if not self.dir.exists():
            return []
        out = []
        for path in sorted(self.dir.glob("*" + SUFFIX)):
            record = self._read_record(path)
            if record is not None:
                out.append(self._info(record))
        return sorted(out, key=lambda i: i.name)


def default_secret_dir(settings: Settings) -> Path:
    """Where the embedded runner keeps secrets: ``<lake.path>/.secrets``."""
    return Path(settings.lake.path) / ".secrets"


def open_local_secret_store(settings: Settings, dir: str | Path | None = None) -> LocalSecretStore:
    return LocalSecretStore(dir if dir is not None else default_secret_dir(settings))
