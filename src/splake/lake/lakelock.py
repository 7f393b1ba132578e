"""Writers share a local lake; maintenance has it alone.

``<lake>/lake.lock`` carries a POSIX record lock (``fcntl.lockf``):

- every process that writes the lake (`splake sync`, `items sync`, `reports reland`, the notifications
  consumer — whatever opens a :class:`~splake.runners.local.LocalContext`) holds it **shared** for as
  long as it runs; any number of writers run together (their commits are optimistic and retried);
- `splake lake rebuild` holds it **exclusive**: it drops a table and lands the raw zone's documents
  again, so a report another process landed meanwhile would be lost (the ledger saying INGESTED) or an
  older snapshot would be re-landed over a newer one;
- the crash-leftover sweep runs only when the process could take the lock exclusive for a moment: a
  file that no snapshot refers to may be the staged data of a writer that is still running (a large
  document takes longer than any grace period), and removing it would corrupt that writer's commit.

POSIX locks belong to the process, so locks of one process never conflict with each other, and the
kernel drops them when the process dies (kill -9 included): nothing stale is ever left behind.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from splake.errors import RetryableError
from splake.logs import get_logger, log_event

log = get_logger(__name__)

LOCK_FILE = "lake.lock"


class LakeBusyError(RetryableError):
    """Another process holds the lake in a way this one cannot share (nothing was changed)."""

    code = "lake_busy"


@dataclass
class LakeLock:
    path: Path
    fd: int
    exclusive: bool
    supported: bool = True  # False on a file system without POSIX locks: nothing is coordinated
    _closed: bool = field(default=False)

    def try_exclusive(self) -> bool:
        """Take the lock exclusive if no other process holds it (non-blocking); True when taken."""
        if not self.supported:
            return False  # cannot know whether another process writes: act as if one did
        try:
            fcntl.lockf(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        self.exclusive = True
        return True

    def share(self) -> None:
        """Back to shared (other writers may join)."""
        if not self.supported:
            return
        fcntl.lockf(self.fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        self.exclusive = False

    def release(self) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(OSError):
                os.close(self.fd)


def acquire(root: Path, *, exclusive: bool) -> LakeLock:
    """Hold ``root``'s lake lock shared (a writer) or exclusive (maintenance); never waits."""
    path = root / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.lockf(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EAGAIN, errno.EACCES):  # e.g. ENOLCK: a file system without locks
            log_event(log, "lake_lock_unsupported", logging.WARNING, path=str(path), error=exc.strerror)
            return LakeLock(path, fd, exclusive, supported=False)
        os.close(fd)
        if exclusive:
            raise LakeBusyError(
                "another splake process is writing this lake (a sync, items sync, reland or the "
                "notifications consumer); a rebuild now could lose what it lands",
                where=str(root),
                hint="run `splake lake rebuild` again when it has finished (nothing was changed)",
            ) from None
        raise LakeBusyError(
            "`splake lake rebuild` is running on this lake",
            where=str(root),
            hint="run the command again when the rebuild has finished (nothing was changed)",
        ) from None
    return LakeLock(path, fd, exclusive)
