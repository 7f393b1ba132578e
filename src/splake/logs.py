"""Structured (JSON-lines) logging with secret redaction.

Use ``log = get_logger(__name__)`` then ``log.info("event_name", extra={"fields": {...}})`` or the helper
``log_event(log, "event_name", key=value)``. Every record passes through :class:`RedactingFilter`, which
removes LWA tokens, refresh tokens, client secrets, RDTs and pre-signed URL query strings, whatever
field they appear in.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Token shapes: LWA access tokens (Atza|), refresh tokens (Atzr|), RDT (Atz.sprdt|), client secrets
# (amzn1.oa2-cs.v1.), and anything after a pre-signed URL's '?'.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Atz[a-z]?[.|][A-Za-z0-9|._\-+/=%]+"), "Atz***"),
    (re.compile(r"amzn1\.oa2-cs\.v1\.[A-Za-z0-9]+"), "amzn1.oa2-cs.v1.***"),
    (re.compile(r"(https?://[^\s\"'?]+)\?[^\s\"']*"), r"\1?***"),
    (
        re.compile(
            r"(?i)((?:access_token|refresh_token|client_secret|x-amz-access-token|authorization|"
            r"restrictedDataToken|secret)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,}]+"
        ),
        r"\1***",
    ),
]

_extra_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Register a literal secret value so it is redacted wherever it appears (e.g. opaque tokens)."""
    if value and len(value) >= 6:
        _extra_secrets.add(value)


def redact(text: str) -> str:
    for secret in _extra_secrets:
        if secret in text:
            text = text.replace(secret, "***")
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(str(record.msg))
        if record.args:
            record.args = (
                tuple(_redact_value(a) for a in record.args)
                if isinstance(record.args, tuple)
                else record.args
            )
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            record.fields = _redact_value(fields)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            payload.update(fields)
        if record.exc_info:
            payload["exc"] = redact(self.formatException(record.exc_info))
        return redact(json.dumps(payload, default=str, ensure_ascii=False))


def get_logger(name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    logger.log(level, event, extra={"fields": fields})


def configure_logging(level: str = "INFO", stream: Any = None) -> None:
    """Configure the root 'splake' logger to emit JSON lines (to stderr by default)."""
    root = logging.getLogger("splake")
    root.setLevel(level.upper())
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.propagate = False


# Events of normal operation that splake absorbs (retried, re-paced, refreshed): on a terminal they are
# counted (the progress display shows the counts), never printed line by line; the log file has each one.
TRANSIENT_EVENTS = frozenset(
    {
        "spapi_request_retry",
        "spapi_request_token_rejected",
        "document_download_retry",
        "document_download_expired",
        "lwa_exchange_retry",
        "rate_limit_throttled",
        "lake_commit_retry",
    }
)


class EventCounter(logging.Handler):
    """Counts transient events (and the HTTP 429s among them) instead of printing them; ``on_change`` is
    called after each (e.g. to refresh a progress display)."""

    def __init__(self, on_change: Callable[[EventCounter], None] | None = None) -> None:
        super().__init__(logging.DEBUG)
        self.counts: Counter[str] = Counter()
        self.http_429 = 0
        self.on_change = on_change

    def emit(self, record: logging.LogRecord) -> None:
        event = record.getMessage()
        if event not in TRANSIENT_EVENTS:
            return
        self.counts[event] += 1
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and fields.get("status") == 429:
            self.http_429 += 1
        if self.on_change is not None:
            self.on_change(self)

    @property
    def retries(self) -> int:
        return self.counts["spapi_request_retry"] + self.counts["document_download_retry"]

    def summary(self) -> str:
        """``"12 retries (3 were HTTP 429), 1 token refresh(es)"`` ('' when nothing happened)."""
        parts = []
        if self.retries:
            parts.append(
                f"{self.retries} retries" + (f" ({self.http_429} were HTTP 429)" if self.http_429 else "")
            )
        if self.counts["spapi_request_token_rejected"]:
            parts.append(f"{self.counts['spapi_request_token_rejected']} token refresh(es)")
        if self.counts["document_download_expired"]:
            parts.append(f"{self.counts['document_download_expired']} expired download URL(s)")
        if self.counts["lake_commit_retry"]:
            parts.append(f"{self.counts['lake_commit_retry']} commit retries")
        return ", ".join(parts)


class _NotTransient(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in TRANSIENT_EVENTS


def _level_number(level: str | int) -> int:
    if isinstance(level, int):
        return level
    number = logging.getLevelName(level.upper())
    return number if isinstance(number, int) else logging.INFO


def configure_cli_logging(
    level: str | int = "INFO",
    log_file: str | Path | None = None,
    *,
    quiet: bool = False,
    stream: Any = None,
) -> EventCounter:
    """Logging for an interactive command (``splake sync``, the benches): quiet by default.

    - the console (stderr) gets JSON lines at WARNING or above (ERROR with ``quiet``; stricter if ``level``
      is), without :data:`TRANSIENT_EVENTS` — those are counted by the returned :class:`EventCounter`;
    - ``log_file`` (appended) gets every event at ``level`` (the configured ``log_level``), as JSON lines.
    """
    root = logging.getLogger("splake")
    wanted = _level_number(level)
    for h in list(root.handlers):
        root.removeHandler(h)
        if isinstance(h, logging.FileHandler):
            h.close()
    counter = EventCounter()
    root.addHandler(counter)
    console = logging.StreamHandler(stream or sys.stderr)
    console.setLevel(max(wanted, logging.ERROR if quiet else logging.WARNING))
    console.setFormatter(JsonFormatter())
    console.addFilter(RedactingFilter())
    console.addFilter(_NotTransient())
    root.addHandler(console)
    if log_file is not None:
        path = Path(log_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(path, encoding="utf-8")
        file_handler.setLevel(wanted)
        file_handler.setFormatter(JsonFormatter())
        file_handler.addFilter(RedactingFilter())
        root.addHandler(file_handler)
    # the logger passes what any handler wants: the counter needs the (WARNING) transient events
    root.setLevel(min(wanted, logging.WARNING))
    # pyiceberg warns when a replace finds nothing to delete (a first landing): expected, not news. (Its
    # own catch_warnings() is not thread-safe, so concurrent landings leak it to the console.)
    warnings.filterwarnings(
        "ignore", message="Delete operation did not match any records", category=UserWarning
    )
    root.propagate = False
    return counter


@contextlib.contextmanager
def cli_logging(
    level: str | int = "INFO",
    log_file: str | Path | None = None,
    *,
    quiet: bool = False,
    stream: Any = None,
) -> Iterator[EventCounter]:
    """:func:`configure_cli_logging` for the duration of one command. Afterwards the command's handlers
    are closed (its log file flushed and closed) and the 'splake' logger's previous handlers, level and
    propagation are back: a process that runs commands in-process (a notebook, a scheduler, the tests)
    is not left at the command's log level, writing to its log file or to a console stream that is gone
    (whose every later warning would end in a '--- Logging error ---' traceback)."""
    root = logging.getLogger("splake")
    saved_handlers, saved_level, saved_propagate = list(root.handlers), root.level, root.propagate
    for h in saved_handlers:
        root.removeHandler(h)  # detached, not closed: they come back afterwards
    try:
        yield configure_cli_logging(level, log_file, quiet=quiet, stream=stream)
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
            h.close()
        for h in saved_handlers:
            root.addHandler(h)
        root.setLevel(saved_level)
        root.propagate = saved_propagate
