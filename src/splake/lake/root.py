"""The local lake's root directory: checked once, with errors that say what is wrong and how to fix it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from splake.errors import ConfigError

WHERE = "[lake].path"


def prepare_root(path: str | Path, *, writable: bool = True) -> Path:
    """Resolve ``[lake].path``, create it (0700) when missing and, with ``writable``, prove it can be
    written. Raises :class:`ConfigError` for a path that is a file, cannot be created or is read-only."""
    root = Path(path).expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise ConfigError(
            f"the lake path {root} is a file, not a directory",
            where=WHERE,
            hint="point [lake].path at a directory (it is created when missing); nothing was changed",
        )
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the lake directory {root}: {exc.strerror or exc}",
            where=WHERE,
            hint="point [lake].path at a directory you can create and write",
        ) from None
    if writable:
        try:
            fd, probe = tempfile.mkstemp(dir=root, prefix=".splake-write-test-")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise ConfigError(
                f"the lake directory {root} is not writable ({exc.strerror or exc})",
                where=WHERE,
                hint="make it writable by this user (e.g. `chmod u+w`, or remount it read-write), or "
                "point [lake].path at a writable directory; nothing was changed",
            ) from None
    return root
