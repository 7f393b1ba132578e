"""NextToken paging limits and the expired-token trap shared by the v0-era APIs (Finances, FBA Inventory):
when a page request says the token expired, the caller restarts its listing from the start."""

from __future__ import annotations

from splake.errors import ApiError, RetryableError

MAX_PAGES = 10_000
MAX_RESTARTS = 3


class TokenExpiredError(RetryableError):
    code = "next_token_expired"


def is_token_expired(exc: BaseException) -> bool:
    return (
        isinstance(exc, ApiError)
        and exc.status == 400
        and "expired" in str(exc).lower()
        and "token" in str(exc).lower()
    )
