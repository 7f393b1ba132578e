"""Errors the way a user should see them: what happened, where, how to fix it — no traceback unless
``--debug`` (or ``SPLAKE_DEBUG=1``). Wraps every `splake` command (see :mod:`splake.cli`)."""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
from collections.abc import Callable
from typing import Any

from splake.errors import ConfigError, SplakeError

DEBUG_FLAG = "--debug"
DEBUG_ENV = "SPLAKE_DEBUG"

NOTHING_LOST = "nothing was lost: every step is all-or-nothing and the next run repeats the one that failed"


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in out:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def is_disk_full(exc: BaseException) -> bool:
    for e in _chain(exc):
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(e)
        if "database or disk is full" in text or "No space left on device" in text:
            return True
    return False


def explain(exc: BaseException) -> tuple[int, str]:
    """(exit code, one-paragraph message) for an error that reached the top of a command."""
    if is_disk_full(exc):
        where = next((e.filename for e in _chain(exc) if isinstance(e, OSError) and e.filename), None)
        at = f" while writing {where}" if where else ""
        return 1, (
            f"error: disk full{at}.\n  → free space on the disk holding the lake (or point [lake].path at "
            f"a bigger disk), then run the command again; {NOTHING_LOST}."
        )
    if isinstance(exc, SplakeError):
        return (2 if isinstance(exc, ConfigError) else 1), f"error: {exc.render()}"
    if isinstance(exc, PermissionError) or (isinstance(exc, OSError) and exc.errno == errno.EROFS):
        target = exc.filename or "a file"
        return 2, (
            f"error: permission denied writing {target} ({exc.strerror}).\n  → make the lake directory "
            "writable by this user, or point [lake].path at a directory you can write; " + NOTHING_LOST + "."
        )
    if isinstance(exc, sqlite3.DatabaseError):
        return 1, (
            f"error: a SQLite database of the lake is unreadable ({exc}).\n  → run `splake lake check`; "
            "restore the file from a backup, or see the README (Lake safety) for rebuilding it."
        )
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return 1, (
        f"error: unexpected {type(exc).__name__}: {first}\n  → run again with --debug for the traceback, "
        "and please report it."
    )


def run_plainly(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a click/typer entry point; an uncaught error becomes a plain message and an exit code."""
    debug = os.environ.get(DEBUG_ENV, "") not in ("", "0")
    given = kwargs.get("args")
    if isinstance(given, list) and DEBUG_FLAG in given:
        kwargs["args"] = [a for a in given if a != DEBUG_FLAG]
        debug = True
    elif given is None and DEBUG_FLAG in sys.argv[1:]:
        sys.argv.remove(DEBUG_FLAG)
        debug = True
    try:
        return call(*args, **kwargs)
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:
        if debug:
            raise
        code, text = explain(exc)
        print(text, file=sys.stderr)
        raise SystemExit(code) from None
