"""One error tree for splake.

Every error says what happened, where, and what to do next (``hint``).

- ``RetryableError``: transient (throttling, 5xx, timeouts, report not ready). Safe to retry later.
- ``FatalError``: will not succeed by retrying (bad credentials, FATAL report, bad config).
- ``BadDataError``: input data is malformed (config file, report document rows). Data already landed
  is never touched because of it.
"""

from __future__ import annotations


class SplakeError(Exception):
    """Base of every splake error. ``code`` is a stable machine-readable name."""

    code: str = "splake_error"

    def __init__(self, message: str, *, hint: str | None = None, where: str | None = None) -> None:
        self.message = message
        self.hint = hint
        self.where = where
        super().__init__(self.render())

    def render(self) -> str:
        parts = [self.message]
        if self.where:
            parts.append(f"(at {self.where})")
        text = " ".join(parts)
        if self.hint:
            text += f"\n  → {self.hint}"
        return text


class RetryableError(SplakeError):
    code = "retryable"


class FatalError(SplakeError):
    code = "fatal"


class BadDataError(SplakeError):
    code = "bad_data"


# --- specific, commonly raised errors -------------------------------------------------------------


class ConfigError(BadDataError):
    code = "config_error"


class AuthError(FatalError):
    """LWA rejected the credentials (invalid_grant / invalid_client / unauthorized_client)."""

    code = "auth_error"


class ThrottledError(RetryableError):
    code = "throttled"


class ServerError(RetryableError):
    code = "server_error"


class ApiError(FatalError):
    """A non-retryable SP-API error response (4xx other than 429)."""

    code = "api_error"

    def __init__(
        self,
        message: str,
        *,
        status: int,
        operation: str,
        request_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.operation = operation
        self.request_id = request_id
        super().__init__(message, hint=hint, where=f"{operation} (HTTP {status}, request {request_id})")


class ReportFailedError(FatalError):
    """A report ended FATAL or CANCELLED."""

    code = "report_failed"


class ReportNotReadyError(RetryableError):
    code = "report_not_ready"


class ConflictError(RetryableError):
    """A conditional write lost a race (state store version mismatch). Reload and retry."""

    code = "conflict"


class SecretNotFoundError(FatalError):
    code = "secret_not_found"


class ObjectNotFoundError(FatalError):
    """An object store key does not exist (raised by every ObjectStore backend's get/open)."""

    code = "object_not_found"


class DiskFullError(FatalError):
    """A write failed because the disk (or quota) is full. Nothing half-written is kept."""

    code = "disk_full"
