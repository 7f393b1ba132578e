"""Amazon-shaped response bodies: SP-API ``{"errors": [...]}`` and helpers for JSON responses."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

UNAUTHORIZED_MESSAGE = "Access to requested resource is denied."
EXPIRED_DETAILS = "The access token you provided has expired."
INVALID_DETAILS = "The access token you provided is revoked, malformed or invalid."
MISSING_DETAILS = "Access token is missing in the request header."
QUOTA_MESSAGE = "You exceeded your quota for the requested resource."


def error_body(code: str, message: str, details: str = "") -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message, "details": details}]}


def sp_json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response with Amazon's content type."""
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def sp_error(status: int, code: str, message: str, details: str = "") -> Response:
    return sp_json(error_body(code, message, details), status)


def bad_request(message: str, details: str = "", code: str = "InvalidInput") -> Response:
    return sp_error(400, code, message, details)


def not_found(message: str, details: str = "") -> Response:
    return sp_error(404, "NotFound", message, details)


def unauthorized(details: str) -> Response:
    return sp_error(403, "Unauthorized", UNAUTHORIZED_MESSAGE, details)


def quota_exceeded() -> Response:
    return sp_error(429, "QuotaExceeded", QUOTA_MESSAGE, "")


def internal_failure(status: int) -> Response:
    if status == 503:
        return sp_error(503, "ServiceUnavailable", "Service temporarily unavailable. Please try again later.")
    return sp_error(500, "InternalFailure", "We encountered an internal error. Please try again.")
