"""Reading SP-API responses (pure): the error list, and the error to raise with an actionable hint."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from splake.errors import ApiError

EXPIRED_TOKEN_MARKERS = ("expired", "access token", "invalid token", "unauthorized")
ROLE_DENIED_MESSAGE = "Access to requested resource is denied."


@dataclass(frozen=True)
class SpApiErrorDetail:
    code: str
    message: str
    details: str | None = None


def parse_errors(body: Any) -> list[SpApiErrorDetail]:
    """``{"errors": [{"code", "message", "details"}]}`` → details (empty when the body has none)."""
    if not isinstance(body, dict):
        return []
    raw = body.get("errors")
    if not isinstance(raw, list):
        return []
    out = []
    for item in raw:
        if isinstance(item, dict):
            details = item.get("details")
            out.append(
                SpApiErrorDetail(
                    code=str(item.get("code", "")),
                    message=str(item.get("message", "")),
                    details=str(details) if details not in (None, "") else None,
                )
            )
    return out


def looks_like_token_rejection(status: int, body: Any) -> bool:
    """A 401/403 that a fresh access token might fix (expired/invalid token, as opposed to missing roles)."""
    if status == 401:
        return True
    if status != 403:
        return False
    errors = parse_errors(body)
    if not errors:
        return True
    for e in errors:
        if e.code == "Unauthorized" and not e.details and e.message == ROLE_DENIED_MESSAGE:
            # Amazon's answer for a missing role: code + message, no details (a token problem names the
            # token in the details); a fresh token cannot fix it
            continue
        text = f"{e.code} {e.message} {e.details or ''}".lower()
        if any(marker in text for marker in EXPIRED_TOKEN_MARKERS):
            return True
    return False


def summary(errors: list[SpApiErrorDetail]) -> str:
    if not errors:
        return "no error details in the response"
    return "; ".join(f"{e.code}: {e.message}" + (f" ({e.details})" if e.details else "") for e in errors)


def hint_for(status: int, operation: str, errors: list[SpApiErrorDetail], account_id: str | None) -> str:
    who = f"account {account_id}" if account_id else "the application (grantless)"
    if status in (401, 403):
        return (
            f"SP-API denied access to {operation} for {who}: check that the app has the role this operation "
            "needs (Developer Central → Edit App → Roles; restricted data also needs a Restricted Data "
            "Token), "
            "that the seller authorized the app for this region, and that the account's selling_partner_id "
            "and region in the config are right (`splake accounts check` lists what this authorization may "
            "do; a role added to the app later needs the seller to authorize again)"
        )
    if status == 404:
        return (
            f"{operation}: the resource was not found for {who}; it may belong to another seller or region, "
            "or be older than the API keeps it (reports: 90 days)"
        )
    if status == 413:
        return f"{operation}: the request is too large; send fewer items per call"
    if status == 415:
        return f"{operation}: unsupported media type; this is a splake bug, please report it"
    codes = {e.code for e in errors}
    if "InvalidInput" in codes or status == 400:
        return (
            f"{operation} rejected the request parameters (see Amazon's message above); check the "
            "configured marketplaces, dates (must be in the past, within the allowed window) and options"
        )
    return f"{operation} failed with HTTP {status}; see Amazon's message above"


def api_error(
    status: int, operation: str, body: Any, request_id: str | None, account_id: str | None
) -> ApiError:
    errors = parse_errors(body)
    return ApiError(
        f"SP-API {operation} failed: {summary(errors)}",
        status=status,
        operation=operation,
        request_id=request_id,
        hint=hint_for(status, operation, errors, account_id),
    )
