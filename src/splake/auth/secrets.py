"""Local secret store: one AES-256-GCM encrypted file per secret, key in a 0600 key file.

Layout of ``dir`` (created 0700)::

    .store-id                    random id of this store (names its key; not a secret)
    <base32(name)>.secret.json   {"v": 1, "name", "created_at", "updated_at", "nonce", "ciphertext"} (0600)

The key (32 random bytes, 0600; whoever can read it can read every secret) lives OUTSIDE ``dir`` by
default, in the user's config directory (``<user config dir>/splake/keys/<store id>.key``, dir 0700;
``SPLAKE_KEY_DIR`` overrides), so a copy or backup of the lake cannot decrypt its secrets. A store made
before this kept its key at ``dir/.key``; it is moved out on first use (one-time migration).

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
from splake.logs import get_logger, log_event
from splake.ports import SecretInfo

log = get_logger(__name__)

KEY_FILE = ".key"  # the legacy in-directory key (migrated out on first use)
ID_FILE = ".store-id"
KEY_DIR_ENV = "SPLAKE_KEY_DIR"
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

    def __init__(
        self,
        dir: str | Path,
        *,
        clock: Callable[[], datetime] = _utcnow,
        key_path: str | Path | None = None,
    ) -> None:
        self.dir = Path(dir)
        self._clock = clock
        self._key: bytes | None = None
        self._key_path = Path(key_path) if key_path is not None else None

    # --- key handling -------------------------------------------------------------------------------

    @property
    def legacy_key_path(self) -> Path:
        return self.dir / KEY_FILE

    @property
    def key_path(self) -> Path:
        """Where the key lives: given explicitly, else ``<key dir>/<store id>.key`` outside ``dir``."""
        if self._key_path is None:
            self._key_path = key_dir() / f"{self._store_id()}.key"
        return self._key_path

    def _store_id(self) -> str:
        path = self.dir / ID_FILE
        with contextlib.suppress(FileNotFoundError):
            sid = path.read_text(encoding="ascii").strip()
            if re.fullmatch(r"[a-z0-9]{32}", sid):
                return sid
        sid = os.urandom(16).hex()
        self._ensure_dir()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process named it first
            return path.read_text(encoding="ascii").strip()
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(sid + "\n")
        return sid

    def _migrate_legacy_key(self) -> None:
        """Move a key kept inside the store directory (older splake) out to :attr:`key_path`, once."""
        legacy = self.legacy_key_path
        if self._key_path == legacy or not legacy.is_file():
            return
        target = self.key_path
        if target.exists():
            if target.read_bytes() == legacy.read_bytes():
                legacy.unlink()
                return
            raise FatalError(
                f"two different secret keys: {legacy} (inside the lake) and {target}",
                hint=f"keep the one your secrets were stored with: remove the other; `splake secrets list` "
                f"then `splake secrets set NAME` re-stores a secret under {target}",
            )
        _private_dir(target.parent)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(legacy.read_bytes())
            fh.flush()
            os.fsync(fh.fileno())
        legacy.unlink()
        log_event(log, "secret_key_moved_out_of_lake", key=str(target))

    def _ensure_dir(self) -> None:
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        mode = self.dir.stat().st_mode & 0o777
        if mode & 0o077:
            os.chmod(self.dir, 0o700)

    def _load_key(self, *, create: bool) -> bytes | None:
        if self._key is not None:
            return self._key
        if self.dir.is_dir():
            self._migrate_legacy_key()
        path = self.key_path
        if not path.exists():
            if not create:
                return None
            self._ensure_dir()
            _private_dir(path.parent)
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


def key_dir() -> Path:
    """Where local secret keys live: ``SPLAKE_KEY_DIR``, else ``<user config dir>/splake/keys``."""
    env = os.environ.get(KEY_DIR_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("splake")) / "keys"


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o700)


def exposed_paths(store: LocalSecretStore) -> list[str]:
    """Secret files and directories that group or others can read (each one a warning)."""
    out = []
    candidates = [store.dir, *store.dir.glob("*" + SUFFIX)] if store.dir.is_dir() else []
    key = store.key_path if store._key_path is not None or (store.dir / ID_FILE).exists() else None
    if key is not None and key.exists():
        candidates += [key.parent, key]
    for p in candidates:
        with contextlib.suppress(OSError):
            if p.stat().st_mode & 0o077:
                out.append(f"{p} is readable by group/others (chmod {'700' if p.is_dir() else '600'} {p})")
    return out


def default_secret_dir(settings: Settings) -> Path:
    """Where the embedded runner keeps secrets: ``<lake.path>/.secrets``."""
    return Path(settings.lake.path) / ".secrets"


def open_local_secret_store(settings: Settings, dir: str | Path | None = None) -> LocalSecretStore:
    return LocalSecretStore(dir if dir is not None else default_secret_dir(settings))
