"""Structured (JSON-lines) logging with secret redaction.

Use ``log = get_logger(__name__)`` then ``log.info("event_name", extra={"fields": {...}})`` or the helper
``log_event(log, "event_name", key=value)``. Every record passes through :class:`RedactingFilter`, which
removes LWA tokens, refresh tokens, client secrets, RDTs and pre-signed URL query strings, whatever
field they appear in.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
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
