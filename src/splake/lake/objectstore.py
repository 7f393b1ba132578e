"""Local-directory backend of :class:`splake.ports.ObjectStore` (the embedded runner's raw zone).

Writes are atomic: data goes to a temp file in the target directory, is fsynced, then renamed into place
(readers never see a partial object). ``if_absent=True`` publishes with ``os.link`` — which fails if the
name exists — so of two concurrent writers exactly one wins and nothing is ever overwritten.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from splake.errors import BadDataError, ObjectNotFoundError
from splake.ports import ObjectInfo

_TMP_PREFIX = ".tmp-"


def validate_key(key: str) -> str:
    """Keys are relative, '/'-separated, without '.'/'..' segments or empty parts."""
    parts = key.split("/")
    if (
        not key
        or key.startswith("/")
        or "\\" in key
        or "\x00" in key
        or any(p in ("", ".", "..") or p.startswith(_TMP_PREFIX) for p in parts)
    ):
        raise BadDataError(
            f"invalid object key {key!r}",
            where="ObjectStore",
            hint="use a relative key like 'raw/reports/<account>/…' without '..', '//' or a leading '/'",
        )
    return key


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class LocalObjectStore:
    """Objects as files under ``root`` (key 'a/b/c.gz' → ``root/a/b/c.gz``)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def _publish(self, tmp: Path, dest: Path, if_absent: bool) -> bool:
        try:
            if if_absent:
                try:
                    os.link(tmp, dest)
                except FileExistsError:
                    return False
            else:
                os.replace(tmp, dest)
            _fsync_dir(dest.parent)
            return True
        finally:
            tmp.unlink(missing_ok=True)

    def _tmp_for(self, dest: Path) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        return dest.parent / f"{_TMP_PREFIX}{uuid.uuid4().hex}"

    def put_bytes(
        self, key: str, data: bytes, *, if_absent: bool = False, content_type: str | None = None
    ) -> bool:
        dest = self._path(key)
        if if_absent and dest.exists():
            return False
        tmp = self._tmp_for(dest)
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return self._publish(tmp, dest, if_absent)

    def put_file(
        self, key: str, path: Path, *, if_absent: bool = False, content_type: str | None = None
    ) -> bool:
        dest = self._path(key)
        if if_absent and dest.exists():
            return False
        tmp = self._tmp_for(dest)
        try:
            with open(path, "rb") as src, open(tmp, "wb") as f:
                shutil.copyfileobj(src, f, 1 << 20)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return self._publish(tmp, dest, if_absent)

    def _missing(self, key: str) -> ObjectNotFoundError:
        return ObjectNotFoundError(
            f"object {key!r} not found",
            where=self.uri(key),
            hint="check the key (list the prefix to see what exists)",
        )

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise self._missing(key) from None

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        if not path.is_file():
            raise self._missing(key)
        try:
            return open(path, "rb")
        except FileNotFoundError:
            raise self._missing(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix`` (a plain string prefix), in key order."""
        if prefix.startswith("/") or ".." in prefix.split("/"):
            validate_key(prefix)
        head = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root.joinpath(*head.split("/")) if head else self.root
        if not start.is_dir():
            return
        found: list[tuple[str, Path]] = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames.sort()
            rel = Path(dirpath).relative_to(self.root).as_posix()
            base = "" if rel == "." else rel + "/"
            for name in filenames:
                if name.startswith(_TMP_PREFIX):
                    continue
                key = base + name
                if key.startswith(prefix):
                    found.append((key, Path(dirpath) / name))
        found.sort()
        for key, path in found:
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            yield ObjectInfo(key=key, size=st.st_size, modified=datetime.fromtimestamp(st.st_mtime, UTC))

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()
