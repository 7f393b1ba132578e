"""The few stable error names Lambda handlers raise, for Step Functions ``Retry``/``Catch``.

The Lambda Python runtime reports ``type(exc).__name__`` as ``errorType``; these classes are named
``splake.Retryable`` etc. so a state machine can match them exactly. :func:`error_name` is the pure mapping
from any exception to one of them.
"""

from __future__ import annotations

from splake.errors import BadDataError, ConflictError, FatalError, RetryableError, SplakeError, ThrottledError

RETRYABLE = "splake.Retryable"
THROTTLED = "splake.Throttled"
FATAL = "splake.Fatal"
BAD_DATA = "splake.BadData"
STABLE_NAMES = (RETRYABLE, THROTTLED, FATAL, BAD_DATA)
# A step error's message becomes the state's error ``Cause``, which is carried into the unit's result record:
# keep it bounded (the what/where/how-to-fix text of splake errors is far shorter).
MAX_MESSAGE_CHARS = 1000

# Exceptions from the network/AWS SDK layers that are transient by nature.
_TRANSIENT_TYPES = (
    "ConnectionError",
    "TimeoutError",
    "EndpointConnectionError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ConnectError",
    "ReadTimeout",
    "ConnectTimeout",
    "RemoteProtocolError",
    "CommitFailedException",
)
_TRANSIENT_AWS_CODES = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "ServiceUnavailable",
    "InternalServerError",
    "SlowDown",
}


class StepError(Exception):
    """Base of the errors a handler raises to Step Functions."""


class Retryable(StepError):
    pass


class Throttled(StepError):
    pass


class Fatal(StepError):
    pass


class BadData(StepError):
    pass


for _cls, _name in ((Retryable, RETRYABLE), (Throttled, THROTTLED), (Fatal, FATAL), (BadData, BAD_DATA)):
    _cls.__name__ = _cls.__qualname__ = _name

_BY_NAME: dict[str, type[StepError]] = {
    RETRYABLE: Retryable,
    THROTTLED: Throttled,
    FATAL: Fatal,
    BAD_DATA: BadData,
}


def error_name(exc: BaseException) -> str:
    """The stable name for ``exc`` (pure)."""
    if isinstance(exc, StepError):
        return type(exc).__name__
    if isinstance(exc, ThrottledError):
        return THROTTLED
    if isinstance(exc, RetryableError | ConflictError):
        return RETRYABLE
    if isinstance(exc, BadDataError):
        return BAD_DATA
    if isinstance(exc, FatalError | SplakeError):
        return FATAL
    code = (
        str(getattr(exc, "response", {}).get("Error", {}).get("Code", "")) if hasattr(exc, "response") else ""
    )
    if code in _TRANSIENT_AWS_CODES:
        return THROTTLED if "Throttl" in code or "TooMany" in code or code == "SlowDown" else RETRYABLE
    if any(t.__name__ in _TRANSIENT_TYPES for t in type(exc).__mro__):
        return RETRYABLE
    return FATAL


def as_step_error(exc: BaseException) -> StepError:
    """Wrap ``exc`` in the step error class of its stable name (message keeps the what/where/hint text)."""
    if isinstance(exc, StepError) and len(str(exc)) <= MAX_MESSAGE_CHARS:
        return exc
    message = str(exc) or type(exc).__name__
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 1] + "…"
    return _BY_NAME[error_name(exc)](message)
